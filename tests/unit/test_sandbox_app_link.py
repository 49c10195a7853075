"""The sandbox's requests to the app: signed as Slack signs them, events retried as Slack retries them,
and a slow ack reported as Slack reports it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier

from sandbox import app_link
from sandbox.app_link import AppLink

SECRET = "0123456789abcdef0123456789abcdef"


class FakeApp:
    """Records what arrives; answers from a script of (status, delay) per request."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.script: list[tuple[int, float]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                fake.received.append({"body": body, "headers": dict(self.headers)})
                status, delay = fake.script.pop(0) if fake.script else (200, 0.0)
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"


@pytest.fixture
def fake_app() -> Iterator[FakeApp]:
    app = FakeApp()
    yield app
    app.server.shutdown()
    app.server.server_close()


def test_commands_are_signed_as_slack_signs_them(fake_app: FakeApp) -> None:
    link = AppLink(fake_app.url, SECRET)
    answer = link.command(
        command="/tip", text="a &lt;b&gt; tip", user={"id": "U1", "name": "ann"},
        channel={"id": "C1", "name": "general"}, response_url="http://127.0.0.1/response/x", trigger_id="1.2.3",
    )  # fmt: skip
    assert answer.status == 200 and answer.error is None
    [request] = fake_app.received
    headers = request["headers"]
    assert SignatureVerifier(SECRET).is_valid(
        request["body"], headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    form = {key: values[0] for key, values in parse_qs(request["body"]).items()}
    assert form["command"] == "/tip" and form["text"] == "a &lt;b&gt; tip" and form["team_id"] == "T0SANDBOX"


def test_an_ack_slower_than_three_seconds_is_an_operation_timeout(
    fake_app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_link, "ACK_TIMEOUT", 0.2)
    fake_app.script = [(200, 0.5)]
    answer = AppLink(fake_app.url, SECRET).interaction({"type": "block_actions"})
    assert answer.status == 0 and answer.error == "operation_timeout"


def test_events_are_retried_with_slacks_headers_until_acknowledged(
    fake_app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_link, "EVENT_RETRY_DELAYS", (0.01, 0.01, 0.01))
    fake_app.script = [(500, 0.0), (503, 0.0), (200, 0.0)]
    link = AppLink(fake_app.url, SECRET)
    link.start()
    link.event({"type": "reaction_added", "user": "U1"})
    link.drain()
    link.stop()
    assert len(fake_app.received) == 3
    ids = {json.loads(r["body"])["event_id"] for r in fake_app.received}
    assert len(ids) == 1, "a retry is the same event"
    assert [r["headers"].get("X-Slack-Retry-Num") for r in fake_app.received] == [None, "1", "2"]
    assert fake_app.received[1]["headers"]["X-Slack-Retry-Reason"] == "http_error"
