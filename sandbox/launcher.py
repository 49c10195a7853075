"""Start the sandbox: a local Slack for the real, unchanged Peerlearn app.

    this process                                   child processes
    ─────────────                                  ───────────────
    page + Web API + response_urls  (HOST:PORT) ◄── python app.py --role web     (SLACK_API_URL → here)
                                                ◄── python app.py --role worker  (the work after each ack)
    signed commands/events/actions ──────────────► POST /slack/events on a free loopback port
    scheduler role on a movable clock ───────────► the app's database (data/sandbox/peerlearn.db)

The app gets freshly generated credentials each start and its own SQLite file, so the sandbox can
never write into a real workspace's data (DATABASE_URL is ignored here on purpose).

With PEERLEARN_SANDBOX_WORKSPACES=2 there are two workspaces, and the app runs in OAuth mode (a
client id and secret, no bot token): at each start it is installed in both through the real flow
(its install page, this sandbox's consent page and oauth.v2.access, its redirect), so one deployment
is seen serving two workspaces, each with its own token and data.
"""

from __future__ import annotations

import ctypes
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from runtime.child_process import stop_on_signals
from runtime.settings import ConfigError, Settings, configure_logging, parse_log_level, parse_port
from sandbox.app_link import AppLink
from sandbox.client import SlackClient
from sandbox.jobs import ScheduledJobs
from sandbox.manifest import Manifest
from sandbox.oauth import OAuthServer, install_through_oauth
from sandbox.seed import BETA, seed_beta, seed_beta_app, seed_once, seed_workspace
from sandbox.server import SandboxServer, SandboxTeam
from sandbox.web_api import Triggers, WebApi
from sandbox.workspace import Workspace

log = logging.getLogger("peerlearn.sandbox")

PROJECT = Path(__file__).resolve().parent.parent
APP_START_TIMEOUT = 60.0
CLIENT_ID = "1000000001.2000000002"  # the sandbox's app; its secret is new at each start


def run_sandbox(env: Mapping[str, str], app_script: Path) -> int:
    host = env.get("HOST", "").strip() or "127.0.0.1"
    port = parse_port(env.get("PORT", "").strip() or "3000")
    level = parse_log_level(env.get("LOG_LEVEL", "").strip().upper() or "INFO")
    data = Path(env.get("PEERLEARN_SANDBOX_DIR", "").strip() or PROJECT / "data" / "sandbox")
    count = _workspace_count(env)
    url = f"http://{host}:{port}/"
    print(
        f"*** SANDBOX MODE: no Slack credentials found, so Peerlearn runs against a local pretend Slack at {url} "
        "-- to connect to real Slack instead, put SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (and SLACK_APP_TOKEN "
        "for Socket Mode) in .env; PEERLEARN_SANDBOX=off forbids the sandbox ***",
        flush=True,
    )
    configure_logging(level)
    workspace = Workspace(data / "slack.db")
    if workspace.outdated:
        # The app's data points at messages of the old workspace: start it afresh too, or the seed
        # would be made a second time beside tips whose posts no longer exist.
        log.warning("the sandbox's workspace was made by an older version: starting over with new seed data")
        for stale in data.glob("peerlearn*.db*"):
            stale.unlink()
    if workspace.fresh:
        seed_workspace(workspace)
    beta = Workspace(data / "slack-beta.db", BETA) if count == 2 else None
    if beta is not None and beta.fresh:
        seed_beta(beta)
    manifest = Manifest.load(PROJECT / "manifest.yml")
    bot_token, signing_secret = "xoxb-sandbox-" + secrets.token_hex(12), secrets.token_hex(16)
    oauth = OAuthServer(CLIENT_ID, secrets.token_hex(16)) if beta is not None else None
    app_port = _free_port(host)
    events_url = f"http://127.0.0.1:{app_port}/slack/events"
    link = AppLink(events_url, signing_secret)
    triggers = Triggers()
    client = SlackClient(workspace, link, triggers, manifest, base_url=f"http://{host}:{port}")
    check = oauth.token_check(workspace.team.id) if oauth else None
    files_url = f"http://{host}:{port}/"
    web_api = WebApi(
        workspace, bot_token, triggers, client.emit, manifest=manifest, token_check=check, files_url=files_url
    )
    others: tuple[SandboxTeam, ...] = ()
    if beta is not None and oauth is not None:
        beta_triggers = Triggers()
        beta_client = SlackClient(
            beta, AppLink(events_url, signing_secret, team=BETA), beta_triggers, manifest, f"http://{host}:{port}"
        )
        beta_api = WebApi(
            beta,
            "",
            beta_triggers,
            beta_client.emit,
            manifest=manifest,
            token_check=oauth.token_check(BETA.id),
            files_url=files_url,
        )
        others = (SandboxTeam(beta, beta_api, beta_client),)
    # One workspace: a bot token, as a single-workspace deployment. Two: installed by OAuth.
    credentials = (
        {"SLACK_BOT_TOKEN": bot_token}
        if oauth is None
        else {
            "SLACK_CLIENT_ID": oauth.client_id,
            "SLACK_CLIENT_SECRET": oauth.client_secret,
            "PEERLEARN_PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        }
    )
    app_env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SLACK_")},
        **credentials,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_API_URL": f"http://{host}:{port}/api/",
        "DATABASE_URL": f"sqlite:///{(data / 'peerlearn.db').resolve()}",
        "HOST": "127.0.0.1",
        "PORT": str(app_port),
        "LOG_LEVEL": level,
        "PEERLEARN_ADMINS": "",  # the seeded admin is a workspace admin, as on Slack
    }
    settings = Settings.from_env(app_env)
    holder: dict[str, ScheduledJobs] = {}
    children: list[subprocess.Popen[bytes]] = []
    try:
        server = SandboxServer(
            (host, port),
            workspace=workspace,
            web_api=web_api,
            client=client,
            manifest=manifest,
            jobs=lambda: holder.get("jobs"),
            app_alive=lambda: bool(children) and all(child.poll() is None for child in children),
            others=others,
            oauth=oauth,
        )
    except OSError as error:
        raise ConfigError(
            "PORT", f"cannot listen on {host}:{port} ({error.strerror}); set PORT to a free one"
        ) from error
    stopping = stop_on_signals("the sandbox")
    # The app as a deployment with separate roles: web (acks) and worker (the work after them); this
    # process is the scheduler. Both start before this process has any thread (preexec_fn is only
    # safe then); they migrate the database one after the other (SQLite's write lock). The sandbox's
    # socket already listens, so the app's first Web API calls wait in its backlog until it serves.
    children += [
        subprocess.Popen(  # noqa: S603 - our own app.py, with our own interpreter
            [sys.executable, str(app_script), "--role", role], env=app_env, preexec_fn=_die_with_parent
        )
        for role in ("web", "worker")
    ]
    server.serve_in_background()
    links = [team.client.link for team in server.teams.values()]
    for each in links:
        each.start()
    try:
        if not _wait_healthy(app_port, children, stopping):
            return 0 if stopping.is_set() else 1
        for team in server.teams.values() if oauth is not None else ():
            try:
                install_through_oauth(f"http://127.0.0.1:{app_port}", team.workspace.team.id)
            except (RuntimeError, OSError) as error:
                log.error("could not install the app in %s through OAuth: %s", team.workspace.team.name, error)
                return 1
            log.info("sandbox: Peerlearn installed in %s through the OAuth flow", team.workspace.team.name)
        jobs = holder["jobs"] = ScheduledJobs(settings, *(team.workspace for team in server.teams.values()))
        jobs.start()

        def app_idle() -> bool:
            return all(each.pending() == 0 for each in links) and jobs.app_idle()

        seed_once(workspace, client, data, app_idle=app_idle)
        for team in others:
            seed_once(team.workspace, team.client, data, app_idle=app_idle, seed=seed_beta_app)
        log.info("sandbox ready: open %s", url)
        print(f"*** Peerlearn sandbox ready: open {url} ***", flush=True)
        while not stopping.wait(0.5):
            if exited := [child for child in children if child.poll() is not None]:
                log.error("the app (%s) exited with %s; stopping the sandbox", exited[0].args, exited[0].returncode)
                return 1
        return 0
    finally:
        if "jobs" in holder:
            holder["jobs"].stop()
        _stop_app(children)
        for each in links:
            each.stop()
        server.shutdown()
        server.server_close()
        for team in server.teams.values():
            team.workspace.engine.dispose()


def _workspace_count(env: Mapping[str, str]) -> int:
    value = env.get("PEERLEARN_SANDBOX_WORKSPACES", "").strip() or "1"
    if value not in ("1", "2"):
        raise ConfigError("PEERLEARN_SANDBOX_WORKSPACES", f"must be 1 or 2, not {value!r}")
    return int(value)


def _wait_healthy(port: int, children: list[subprocess.Popen[bytes]], stopping: threading.Event) -> bool:
    deadline = time.monotonic() + APP_START_TIMEOUT
    while time.monotonic() < deadline and not stopping.is_set():
        if exited := [child for child in children if child.poll() is not None]:
            log.error("the app (%s) exited with %s before it was ready", exited[0].args, exited[0].returncode)
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    if not stopping.is_set():
        log.error("the app did not answer /healthz within %.0fs", APP_START_TIMEOUT)
    return False


def _stop_app(children: list[subprocess.Popen[bytes]]) -> None:
    running = [child for child in children if child.poll() is None]
    for child in running:
        child.terminate()
    for child in running:
        try:
            child.wait(timeout=30)  # the worker finishes the jobs it holds
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, SIGTERM the app if the sandbox dies without stopping it
    (kill -9), so no app is left orphaned. Elsewhere the normal shutdown path is all there is."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
