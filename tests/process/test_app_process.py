"""The real entrypoint as an operator runs it: app.py in a subprocess, gunicorn, signals, exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.slack_double import BOT_TOKEN, SlackDouble
from tests.slack_sender import SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]


def run_app(env: dict[str, str], cwd: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    clean = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1", **env}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), *args], cwd=cwd, env=clean, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PEERLEARN_SANDBOX": "off"}, "SLACK_BOT_TOKEN"),  # no credentials, and no sandbox either
        ({"PEERLEARN_SANDBOX": "maybe"}, "PEERLEARN_SANDBOX"),
        ({"SLACK_APP_TOKEN": "xapp-1-A1-1-abc"}, "SLACK_BOT_TOKEN"),  # partial credentials: never a sandbox
        ({"SLACK_SIGNING_SECRET": SIGNING_SECRET}, "SLACK_BOT_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": "abcdef0123456789"},
            "SLACK_BOT_TOKEN",
        ),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PORT": "70000"}, "PORT"),
        (
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "DATABASE_URL": "mysql://x",
            },
            "DATABASE_URL",
        ),
    ],
)
def test_bad_configuration_exits_2_with_one_clear_line(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    process = run_app(env, tmp_path)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert stderr.count("\n") == 1 and stderr.startswith(f"peerlearn: configuration error: {variable}:")
    assert "Traceback" not in stderr and BOT_TOKEN not in stderr + stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, SlackDouble, subprocess.Popen[str]]]:
    double = SlackDouble().start()
    double.add_user("U1", "alice")
    double.add_channel("C1", "general", members=("U1",))
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "PORT": str(port),
        "LOG_LEVEL": "DEBUG",
    }
    process = run_app(env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.1)
    yield base, double, process
    if process.poll() is None:
        process.kill()
        process.communicate()
    double.stop()


def signed_post(url: str, body: str, content_type: str) -> int:
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body.encode(), method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("X-Slack-Request-Timestamp", timestamp)
    request.add_header(
        "X-Slack-Signature",
        SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body),
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def test_http_mode_serves_slack_and_stops_cleanly_on_sigterm(
    served: tuple[str, SlackDouble, subprocess.Popen[str]],
) -> None:
    base, double, process = served
    form = {
        "team_id": "T0TEST",
        "user_id": "U1",
        "channel_id": "C1",
        "command": "/tip",
        "text": "Ship small, ship often",
        "response_url": double.response_url(),
        "trigger_id": double.trigger_id(),
    }

    assert signed_post(base + "/slack/events", urlencode(form), "application/x-www-form-urlencoded") == 200
    double.wait_for(lambda: double.posts("C1"), timeout=10, message="the tip posted by the served app")
    with pytest.raises(urllib.error.HTTPError) as rejected:
        urllib.request.urlopen(urllib.request.Request(base + "/slack/events", data=b"x=1", method="POST"), timeout=5)
    assert rejected.value.code == 401

    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 0
    assert "Traceback" not in stderr
    logs = stdout + stderr
    assert "chat.postMessage" in logs  # DEBUG logging was on, and still:
    assert BOT_TOKEN not in logs and SIGNING_SECRET not in logs
    assert json.dumps(double.posts("C1")).count("Ship small, ship often") >= 1


def test_socket_mode_connects_with_the_app_token_and_stops_on_sigterm(tmp_path: Path) -> None:
    double = SlackDouble().start()
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": "xapp-1-A0PEERLEARN-123-secretsecret",
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
    }
    process = run_app(env, tmp_path)
    try:
        double.wait_for(
            lambda: double.calls_to("apps.connections.open"), timeout=30, message="a Socket Mode connection"
        )
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        double.stop()

    assert process.returncode == 0
    assert "Socket Mode" in stderr and "secretsecret" not in stdout + stderr
    assert "token` will be unused" not in stderr
