"""Peerlearn entrypoint: settings -> migrations -> the app (Socket Mode or HTTP), the scheduler and the job
worker; with no Slack credentials at all, the local sandbox (sandbox/launcher.py) instead."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.base import BaseScheduler
from dotenv import find_dotenv, load_dotenv

from bot.people.lifecycle import workspace_reinstalled
from bot.schedules.posting import ScheduledPoster
from bot.slack.client import build_client
from runtime.child_process import ChildProcess, run_until_signalled
from runtime.factory import build_app, build_job_worker, build_schedulers
from runtime.maintenance import daily_upkeep
from runtime.oauth import INSTALL_PATH, installations_for
from runtime.scheduler import build_scheduler
from runtime.serving import HTTP_THREADS, limit_malloc_arenas, serve_http, serve_socket_mode, wsgi_app
from runtime.settings import ROLES, SLACK_CREDENTIALS, ConfigError, Settings, configure_logging, wants_sandbox
from runtime.workspace import Workspace, wait_for_slack
from sandbox.launcher import run_sandbox
from storage.db import Database
from storage.migrate import upgrade
from storage.models import utcnow

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

log = logging.getLogger("peerlearn")

# The job worker's CPU priority under --role all. Jobs have minutes to run and acks 3 seconds, so
# when both want the CPU the acks should win; with nothing to ack the worker still gets all of it.
WORKER_NICENESS = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Peerlearn: peer learning for Slack.")
    parser.add_argument(
        "--role", choices=ROLES, help="all (default), web (Slack requests only), scheduler or worker (queued jobs)"
    )
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True))  # the .env of the directory it runs in
    try:
        if wants_sandbox(os.environ):
            return run_sandbox(os.environ, app_script=Path(__file__).resolve())
        settings = Settings.from_env(os.environ)
        configure_logging(settings.log_level)
        # Whose token this is, before anything else: a wrong or revoked token stops here with one
        # line; while Slack cannot be reached, this waits (one log line a try). In OAuth mode each
        # workspace's token comes with its installation.
        workspace = None if settings.oauth else wait_for_slack(settings.single_token, settings.slack_api_url)
    except ConfigError as error:
        print(f"peerlearn: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    role = args.role or settings.role
    if workspace is not None:
        log.info("the bot token belongs to %s: requests of other workspaces are refused", workspace)
    else:
        install_at = (
            f"{settings.oauth.public_url}/slack/install" if settings.oauth and settings.oauth.public_url else ""
        )
        log.info(
            "OAuth mode: serving every workspace Peerlearn is installed in; install at %s", install_at or INSTALL_PATH
        )
    limit_malloc_arenas()
    # Settings hold the secrets now; keep them out of the environment that libraries read on their
    # own (Bolt would warn that it ignores SLACK_BOT_TOKEN) and that child processes inherit.
    # (Bolt would also start an OAuth flow of its own from SLACK_CLIENT_ID and SLACK_CLIENT_SECRET.)
    for name in SLACK_CREDENTIALS:
        os.environ.pop(name, None)
    db = Database.connect(settings.database_url)
    upgrade(db.engine)
    if workspace is not None and workspace.team_id:  # Slack took the token just now: installed there
        workspace_reinstalled(db, workspace.team_id, utcnow())
    daily_upkeep(db, utcnow())
    db.dispose()  # no connection may cross a fork (the job worker's, gunicorn's)
    if role == "scheduler":
        run_scheduler(settings, db)
    elif role == "worker":
        run_until_signalled(lambda stop: run_job_worker(settings, workspace, stop))
    elif role == "web":
        serve(settings, workspace, role, db)
    else:
        worker = ChildProcess.fork(
            "job worker", lambda stop: run_job_worker(settings, workspace, stop), niceness=WORKER_NICENESS
        )
        try:
            serve(settings, workspace, role, db)
        finally:
            worker.stop()
    return 0


def serve(settings: Settings, workspace: Workspace | None, role: str, db: Database) -> None:
    if settings.app_token:  # one workspace only (settings refuse Socket Mode with OAuth)
        client = build_client(settings.single_token, settings.slack_api_url)
        if role == "all":
            start_background_scheduler(settings, db)
        serve_socket_mode(build_app(settings, client=client, db=db, workspace=workspace), settings.app_token)
    else:
        pages = ", GET /slack/install, GET /slack/oauth_redirect" if settings.oauth else ""
        log.info(
            "HTTP mode on http://%s:%s (POST /slack/events%s, GET /healthz) role=%s",
            settings.host, settings.port, pages, role,
        )  # fmt: skip
        serve_http(lambda: _http_app(settings, workspace, role), settings.host, settings.port)


def run_job_worker(settings: Settings, workspace: Workspace | None, stop: threading.Event) -> None:
    """Run queued jobs (the work after each ack) until `stop` is set."""
    db = Database.connect(settings.database_url, threads=settings.listener_threads)  # a connection each
    client = build_client(settings.bot_token, settings.slack_api_url)  # no token in OAuth mode
    worker = build_job_worker(
        settings, client=client, db=db, workspace=workspace, installations=installations_for(settings, db)
    )
    worker.run_until(stop)
    db.dispose()


def web_database(url: str) -> Database:
    """The web worker's database: a pooled connection kept for each request thread.

    Acks read on every question-like message and every reply in a thread (is this a questions
    channel, a question's or a prompt's thread?). With the default pool (5 kept, the overflow closed
    on return) 1,000 chatter messages a second made the threads queue for a connection and open and
    close SQLite connections (pragmas and all) for the rest: acks p99 1.7-3.8 s at 56-74% of the web
    worker's CPU (bench/worker.py's chatter run)."""
    return Database.connect(url, threads=HTTP_THREADS)


def _http_app(settings: Settings, workspace: Workspace | None, role: str) -> WSGIApplication:
    db = web_database(settings.database_url)
    client = build_client(settings.bot_token, settings.slack_api_url)  # no token in OAuth mode
    if role == "all":
        start_background_scheduler(settings, db)
    installations = installations_for(settings, db)
    bolt_app = build_app(settings, client=client, db=db, workspace=workspace, installations=installations)
    return wsgi_app(bolt_app, db, settings.signing_secret)


def _scheduler(settings: Settings, db: Database, *, blocking: bool) -> tuple[BaseScheduler, ScheduledPoster]:
    poster, circles = build_schedulers(settings, db=db, clock=utcnow, installations=installations_for(settings, db))
    return build_scheduler(poster, circles, db, blocking=blocking), poster


def start_background_scheduler(settings: Settings, db: Database) -> None:
    scheduler, poster = _scheduler(settings, db, blocking=False)
    scheduler.start()
    log.info("scheduler started in this process (%s)", poster.holder)

    def stop() -> None:
        scheduler.shutdown(wait=True)
        poster.release_leadership()

    atexit.register(stop)


def run_scheduler(settings: Settings, db: Database) -> None:
    """The scheduler alone: for deployments with several web replicas and one or more of these."""
    scheduler, poster = _scheduler(settings, db, blocking=True)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping the scheduler after the current run", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler role: ticking twice a minute (%s)", poster.holder)
    scheduler.start()
    poster.release_leadership()
    log.info("scheduler stopped")


if __name__ == "__main__":
    sys.exit(main())
