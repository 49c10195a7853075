"""The real entrypoint as an operator runs it: app.py in a subprocess, gunicorn, signals, exit codes."""

from __future__ import annotations

import http.client
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
from typing import IO
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.slack_double import BOT_TOKEN, SlackDouble
from tests.slack_sender import SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]


def run_app(
    env: dict[str, str], cwd: Path, *args: str, stderr_to: IO[str] | None = None, **popen: object
) -> subprocess.Popen[str]:
    clean = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1", **env}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), *args], cwd=cwd, env=clean, text=True,
        stdout=subprocess.PIPE, stderr=stderr_to or subprocess.PIPE, **popen,
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
            {"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET},
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


def slack_env(double_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "PORT": str(free_port()),
        **extra,
    }


@pytest.mark.parametrize(
    ("token", "fault", "said"),
    [
        ("xoxb-not-the-apps-token", None, "invalid_auth: the token is not valid"),
        (BOT_TOKEN, "token_revoked", "token_revoked: the token was revoked; reinstall the app"),
        (BOT_TOKEN, "account_inactive", "account_inactive: the token belongs to a deleted bot"),
    ],
)
def test_a_token_slack_refuses_stops_startup_with_one_line(
    tmp_path: Path, token: str, fault: str | None, said: str
) -> None:
    double = SlackDouble().start()
    if fault:
        double.fail_next("auth.test", error=fault)
    try:
        process = run_app(slack_env(double.api_url, tmp_path, SLACK_BOT_TOKEN=token), tmp_path)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        double.stop()

    assert process.returncode == 2
    assert stderr.startswith(f"peerlearn: configuration error: SLACK_BOT_TOKEN: Slack answered {said}"), stderr
    assert stderr.count("\n") == 1
    assert "Traceback" not in stderr and token not in stdout + stderr
    assert not (tmp_path / "app.db").exists()  # stopped before touching the database


def test_slack_failing_at_startup_is_waited_for_then_served(tmp_path: Path) -> None:
    double = SlackDouble().start()
    double.fail_next("auth.test", status=503, times=2)
    env = slack_env(double.api_url, tmp_path)
    log = (tmp_path / "app.log").open("w+")
    process = run_app(env, tmp_path, stderr_to=log)
    try:
        double.wait_for(lambda: _healthy(env["PORT"]), timeout=30, message="the app to serve after Slack came back")
        log.seek(0)
        lines = [line for line in log.read().splitlines() if "startup:" in line]
    finally:
        process.terminate()
        process.communicate(timeout=30)
        double.stop()

    assert len(lines) == 2, lines
    assert "Slack answered internal_error (HTTP 503)" in lines[0] and "(try 1); trying again in 1 s" in lines[0]
    assert "(try 2); trying again in 2 s" in lines[1]


def test_slack_unreachable_at_startup_is_said_once_a_try(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
    log = (tmp_path / "app.log").open("w+")
    process = run_app(slack_env(url, tmp_path), tmp_path, stderr_to=log)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and log.seek(0) == 0 and log.read().count("cannot reach Slack") < 2:
            assert process.poll() is None
            time.sleep(0.1)
    finally:
        process.terminate()
        process.communicate(timeout=30)
    log.seek(0)
    text = log.read()

    assert "cannot reach Slack: [Errno 111] Connection refused at " + url + " (try 1); trying again in 1 s" in text
    assert "(try 2); trying again in 2 s" in text
    assert "Traceback" not in text and BOT_TOKEN not in text


def _healthy(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return int(response.status) == 200
    except OSError:
        return False


def test_an_oversized_body_is_refused_by_the_served_app_without_reading_it(
    served: tuple[str, SlackDouble, subprocess.Popen[str]],
) -> None:
    base, _double, process = served
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Content-Length", str(50 << 20))
    connection.endheaders()
    connection.send(b"text=" + b"x" * 65536)  # and no more: the answer must not wait for the rest

    response = connection.getresponse()
    connection.close()

    assert response.status == 413
    assert _healthy(port)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert "refused request: body of 52428800 bytes" in stderr and "xxxxxxxx" not in stdout + stderr
