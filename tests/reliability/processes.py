"""Peerlearn as deployed, in processes this suite can kill -9: `app.py --role web|worker|scheduler`
against the Slack double over HTTP, with requests signed as Slack signs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.process.test_app_process import run_app
from tests.process.test_worker_process import app_env, wait_healthy
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SIGNING_SECRET

LEASE_SECONDS = 2  # PEERLEARN_JOB_LEASE_SECONDS: short, so a dead worker's jobs run again within seconds


class Running:
    """One `app.py --role <role>` in a session of its own (gunicorn's workers and all), its log
    collected as it comes; `kill9()` is the crash, `stop()` the operator's SIGTERM."""

    def __init__(self, env: dict[str, str], cwd: Path, role: str) -> None:
        self.role = role
        self.process = run_app(
            {**env, "PEERLEARN_JOB_LEASE_SECONDS": str(LEASE_SECONDS)}, cwd, "--role", role, start_new_session=True
        )
        self.lines: list[str] = []
        stream = self.process.stderr
        assert stream is not None
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True).start()

    def wait_for_line(self, *words: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(all(word in line for word in words) for line in list(self.lines)):
            assert self.process.poll() is None, f"{self.role} exited: {''.join(self.lines)[-3000:]}"
            assert time.monotonic() < deadline, f"{self.role} never said {words}: {''.join(self.lines)[-3000:]}"
            time.sleep(0.05)

    def kill9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)  # the whole session: the server and its workers
        self.process.wait(10)

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return "".join(self.lines)

    def ensure_dead(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def web(env: dict[str, str], cwd: Path) -> Running:
    server = Running(env, cwd, "web")
    wait_healthy(int(env["PORT"]), server.process)
    return server


def worker(env: dict[str, str], cwd: Path) -> Running:
    running = Running(env, cwd, "worker")
    running.wait_for_line("job worker", "threads")
    return running


def environment(double: SlackDouble, database_url: str, port: int) -> dict[str, str]:
    return app_env(double, database_url, port)


def post(port: int, body: str, content_type: str) -> int | None:
    """A signed POST to the served app: its status, or None when no answer came (the server died)."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=body.encode(), method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("X-Slack-Request-Timestamp", timestamp)
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    request.add_header("X-Slack-Signature", signature)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


def share_form(double: SlackDouble, text: str, user: str = "U1", channel: str = "C1") -> str:
    return urlencode(
        {
            "team_id": TEAM_ID, "user_id": user, "channel_id": channel, "channel_name": "general",
            "command": "/tip", "text": text, "response_url": double.response_url(),
            "trigger_id": double.trigger_id(), "api_app_id": "A0PEERLEARN",
        }
    )  # fmt: skip


def reaction_event(event_id: str, user: str, channel: str, ts: str, reaction: str = "bulb") -> str:
    return json.dumps(
        {
            "team_id": TEAM_ID,
            "api_app_id": "A0PEERLEARN",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "reaction_added", "user": user, "reaction": reaction, "item_user": "U2",
                "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": f"{time.time():.6f}",
            },
            "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}],
        }
    )  # fmt: skip
