"""Build the Bolt app from settings and its collaborators. No module-level app, client or engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient

from bot.circles.rounds import CircleRunner
from bot.pairing.outcomes import RoundKeeper
from bot.pairing.rounds import PairingRunner
from bot.schedules.posting import PostingSettings, ScheduledPoster
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.users import UserDirectory
from handlers import register_all
from handlers.deps import Deps
from runtime.jobs import JobQueue, JobWorker
from runtime.matchers import cheapen_matchers
from runtime.serving import job_runner, queue_lazy_listeners
from runtime.settings import Settings
from runtime.workspace import OwnWorkspaceOnly, Workspace, identify
from storage.db import Database
from storage.leases import SCHEDULER_LEASE, Heartbeat
from storage.models import utcnow


def build_schedulers(
    settings: Settings, *, db: Database, clock: Callable[[], datetime]
) -> tuple[ScheduledPoster, CircleRunner]:
    """The scheduler's engines: one pacer (one workspace's posting limits) and one client whose
    retried 429s are paced too."""
    pacer = PostPacer(per_workspace_per_second=settings.posts_per_second)
    client = build_client(settings.bot_token, settings.slack_api_url, pacer=pacer)
    gateway = SlackGateway(client)
    grace = timedelta(hours=settings.grace_hours)
    # One heartbeat renews everything the process holds: its leadership, posts and opening rounds.
    heartbeat = Heartbeat(db, lease=SCHEDULER_LEASE, clock=clock)
    users = UserDirectory(client, settings.admin_user_ids)
    poster = ScheduledPoster(
        db,
        gateway,
        clock=clock,
        pacer=pacer,
        settings=PostingSettings(grace=grace, tip_emoji=settings.tip_emoji),
        heartbeat=heartbeat,
        rounds=PairingRunner(db, gateway, users, clock=clock).start,
        keeper=RoundKeeper(db, gateway, clock=clock).run_due,
    )
    circles = CircleRunner(
        db,
        gateway,
        users,
        clock=clock,
        pacer=pacer,
        grace=grace,
        heartbeat=heartbeat,
    )
    return poster, circles


def build_app(
    settings: Settings,
    *,
    client: WebClient,
    db: Database,
    clock: Callable[[], datetime] = utcnow,
    poster: ScheduledPoster | None = None,
    circles: CircleRunner | None = None,
    workspace: Workspace | None = None,
) -> App:
    """The app Slack talks to. Signature verification is always on (Bolt's default; never turned off).
    It serves `workspace` only (the bot token's own, from auth.test at startup; asked here if not given).

    Ack functions run in the request thread and their response goes out as soon as they return
    (process_before_response); the work after the ack (Bolt's lazy listeners) is stored in the job
    queue before that, for a job worker to run: see `build_job_worker`.
    """
    return _bolt_app(
        settings,
        client=client,
        db=db,
        clock=clock,
        poster=poster,
        circles=circles,
        workspace=workspace,
        queue=JobQueue(db.queue, clock),
    )


def build_job_worker(
    settings: Settings,
    *,
    client: WebClient,
    db: Database,
    clock: Callable[[], datetime] = utcnow,
    poster: ScheduledPoster | None = None,
    circles: CircleRunner | None = None,
    threads: int | None = None,
    workspace: Workspace | None = None,
) -> JobWorker:
    """A job worker running queued work through the same listeners as `build_app`'s app."""
    # Its app never faces the network: its only requests are rows of the job queue, which the public
    # app wrote after it verified their signatures. Verifying again would fail every job: the rows
    # keep no signature, and Slack's would be older than the 5 minutes allowed once a backlog builds.
    worker_app = _bolt_app(
        settings,
        client=client,
        db=db,
        clock=clock,
        poster=poster,
        circles=circles,
        workspace=workspace,
        request_verification_enabled=False,
    )
    return JobWorker(
        db.queue,
        job_runner(worker_app),
        threads=threads or settings.listener_threads,
        clock=clock,
        lease=timedelta(seconds=settings.job_lease_seconds),
    )


def _bolt_app(
    settings: Settings,
    *,
    client: WebClient,
    db: Database,
    clock: Callable[[], datetime],
    poster: ScheduledPoster | None,
    circles: CircleRunner | None,
    workspace: Workspace | None,
    queue: JobQueue | None = None,
    request_verification_enabled: bool = True,
) -> App:
    app = App(
        client=client,
        signing_secret=settings.signing_secret,
        logger=logging.getLogger("peerlearn.bolt"),
        process_before_response=True,
        request_verification_enabled=request_verification_enabled,
        # Before Bolt's own authorization, so every listener (commands, events, actions, views,
        # shortcuts) of this app and of the job worker's is behind it.
        before_authorize=OwnWorkspaceOnly(workspace or identify(client)),
    )
    if queue is not None:
        queue_lazy_listeners(app, queue)
    engines: list[tuple[ScheduledPoster, CircleRunner]] = []

    def scheduler_engines() -> tuple[ScheduledPoster, CircleRunner]:
        if not engines:
            engines.append(build_schedulers(settings, db=db, clock=clock))
        return engines[0]

    slack, users = SlackGateway(client), UserDirectory(client, settings.admin_user_ids)
    deps = Deps(
        tip_emoji=settings.tip_emoji,
        db=db,
        slack=slack,
        users=users,
        clock=clock,
        poster=poster or scheduler_engines()[0],
        circles=circles or scheduler_engines()[1],
        pairing=PairingRunner(db, slack, users, clock=clock),
    )
    register_all(app, deps)
    cheapen_matchers(app)
    return app
