"""The sandbox as a user starts it: `app.py` with no Slack credentials, in a subprocess.

The sandbox always keeps the app's data in its own SQLite file (it never touches DATABASE_URL), so
these tests run in the SQLite pass of the suite and are skipped in the PostgreSQL one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.app_link import AppLink
from sandbox.client import SlackClient
from sandbox.manifest import Manifest
from sandbox.seed import seed_workspace
from sandbox.server import SandboxServer
from sandbox.web_api import Triggers, WebApi
from sandbox.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


@dataclass
class Sandbox:
    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def act(self, action: str, **args: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}sandbox/{action}", data=json.dumps(args).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def state(self, user: str, channel: str = "", thread: str = "") -> dict[str, Any]:
        query = f"user={user}&channel={channel}&thread={thread}"
        with urllib.request.urlopen(f"{self.url}sandbox/state?{query}", timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def wait_for_message(self, user: str, channel: str, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.state(user, channel)["messages"]):
                if predicate(message):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no such message in {channel} for {user} within {timeout}s")

    def app_port(self) -> int:
        for line in self.output:
            if match := re.search(r"HTTP mode on http://127\.0\.0\.1:(\d+)", line):
                return int(match.group(1))
        raise AssertionError("the app never said where it listens")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sandbox(directory: Path, **env: str) -> Sandbox:
    port = free_port()
    clean = {
        "PATH": os.environ["PATH"],
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        "PEERLEARN_SANDBOX_DIR": str(directory / "sandbox"),
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=directory, env=clean, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    sandbox = Sandbox(f"http://127.0.0.1:{port}/", process)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            sandbox.output.append(line)
            if "sandbox ready" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(START_TIMEOUT):
        process.kill()
        raise AssertionError("the sandbox did not get ready:\n" + "".join(sandbox.output[-40:]))
    return sandbox


def stop_sandbox(sandbox: Sandbox) -> int:
    sandbox.process.send_signal(signal.SIGTERM)
    return sandbox.process.wait(timeout=30)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the sandbox keeps its data in its own SQLite file; the SQLite pass of the suite covers it")
    running = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    yield running
    assert stop_sandbox(running) == 0, "".join(running.output[-40:])


@dataclass
class OfflineSandbox:
    """The sandbox's server and Slack parts in this process, with no app behind them."""

    server: SandboxServer
    workspace: Workspace
    web_api: WebApi

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def offline_sandbox(directory: Path, bot_token: str = "xoxb-offline") -> OfflineSandbox:
    workspace = Workspace(directory / "slack.db")
    seed_workspace(workspace)
    manifest = Manifest.load(ROOT / "manifest.yml")
    triggers = Triggers()
    link = AppLink("http://127.0.0.1:9/slack/events", "0" * 32)  # nothing listens: no app here
    client = SlackClient(workspace, link, triggers, manifest, "http://127.0.0.1")
    web_api = WebApi(workspace, bot_token, triggers, client.emit, manifest=manifest)
    server = SandboxServer(("127.0.0.1", 0), workspace=workspace, web_api=web_api, client=client, manifest=manifest,
                           jobs=lambda: None, app_alive=lambda: False)  # fmt: skip
    server.serve_in_background()
    return OfflineSandbox(server, workspace, web_api)
