"""Sends requests to the app exactly as Slack does: same payload shapes, same signing."""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.slack_double import TEAM_ID, SlackDouble

SIGNING_SECRET = "e3b9a1c4d27f50869b1d3a5c7e9f0b2d"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    def __init__(
        self,
        wsgi_app: Any,
        double: SlackDouble,
        signing_secret: str = SIGNING_SECRET,
        settle: Callable[[], object] | None = None,
        team_id: str = TEAM_ID,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.double = double
        self.team_id = team_id  # the workspace the requests come from
        self.signing_secret = signing_secret
        # Called after each response (not timed): runs the work the request queued after its ack.
        self.settle = settle
        self.concurrent = False  # True: return at the ack, as Slack sees it, and let work overlap
        self._ids = itertools.count(1)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
    ) -> Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        if signature is None:
            signature = SignatureVerifier(self.signing_secret).generate_signature(timestamp=str(timestamp), body=body)
        raw = body.encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(raw)),
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "3000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(raw),
            "wsgi.url_scheme": "http",
            "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp),
            "HTTP_X_SLACK_SIGNATURE": signature,
        }
        for key, value in (headers or {}).items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = int(status.split()[0]), dict(response_headers)

        started = time.perf_counter()
        chunks = self.wsgi_app(environ, start_response)
        payload = b"".join(chunks)
        response = Response(captured["status"], payload, captured["headers"], time.perf_counter() - started)
        self.double.check_ack(payload)  # an ack's blocks and a form's next view meet Slack's rules too
        if self.settle is not None and not self.concurrent:
            self.settle()
        return response

    def command(
        self, text: str, *, user: str = "U1", channel: str = "C1", command: str = "/tip", **overrides: Any
    ) -> Response:
        form = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "peerlearn-test",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0PEERLEARN",
            "is_enterprise_install": "false",
            "response_url": self.double.response_url(),
            "trigger_id": self.double.trigger_id(),
            **overrides,
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        event_time: int | None = None,
    ) -> Response:
        event_id = event_id or f"Ev{next(self._ids):08d}"
        envelope = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0PEERLEARN",
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()) if event_time is None else event_time,
            "authorizations": [
                {"team_id": self.team_id, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
            ],
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(envelope), "application/json", headers=headers)

    def reaction(
        self,
        kind: str,
        user: str,
        channel: str,
        ts: str,
        reaction: str,
        *,
        item_user: str | None = None,
        **kwargs: Any,
    ) -> Response:
        event = {
            "type": kind,
            "user": user,
            "reaction": reaction,
            "item": {"type": "message", "channel": channel, "ts": ts},
        }
        if item_user:
            event["item_user"] = item_user
        return self.event(event, **kwargs)

    def interaction(self, payload: dict[str, Any]) -> Response:
        base = {
            "team": {"id": self.team_id, "domain": "peerlearn-test"},
            "api_app_id": "A0PEERLEARN",
            "token": "legacy-verification-token",
        }
        return self.post(urlencode({"payload": json.dumps({**base, **payload})}), "application/x-www-form-urlencoded")

    def message_shortcut(
        self,
        *,
        user: str,
        channel: str,
        message: dict[str, Any],
        callback_id: str = "save_as_tip",
        channel_name: str | None = None,  # Slack's: "directmessage" for a DM, "mpdm-…" for a group DM
    ) -> Response:
        return self.interaction(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "trigger_id": self.double.trigger_id(),
                "response_url": self.double.response_url(),
                "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
                "channel": {"id": channel, "name": channel_name or channel.lower()},
                "message_ts": message["ts"],
                "message": message,
            }
        )

    def button(
        self, *, user: str, action_id: str, value: str, channel: str | None = None, message_ts: str | None = None
    ) -> Response:
        """A click on a message's button (`message_ts`: the message it is on, as Slack's container says)."""
        container: dict[str, Any] = {"type": "message"}
        if message_ts is not None:
            container.update(message_ts=message_ts, channel_id=channel or "D" + user[1:], is_ephemeral=True)
        return self.interaction(
            {
                "type": "block_actions",
                "user": {"id": user, "team_id": self.team_id},
                "trigger_id": self.double.trigger_id(),
                "response_url": self.double.response_url(),
                "channel": {"id": channel or "D" + user[1:]},
                "container": container,
                "actions": [{"type": "button", "action_id": action_id, "block_id": "checkin", "value": value}],
            }
        )

    def view_submission(self, *, user: str, view: dict[str, Any], values: dict[str, Any]) -> Response:
        submitted = {**view, "id": "V123", "team_id": self.team_id, "state": {"values": values}}
        return self.interaction(
            {
                "type": "view_submission",
                "user": {"id": user, "team_id": self.team_id},
                "trigger_id": self.double.trigger_id(),
                "view": submitted,
            }
        )
