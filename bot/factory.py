"""Build the Bolt app from settings and its collaborators. No module-level app, client or engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient

from bot.circle_rounds import CircleRunner
from bot.config import Settings
from bot.deps import Deps
from bot.pacing import PostPacer
from bot.posting import PostingSettings, ScheduledPoster
from bot.slack_api import SlackGateway, UserDirectory, build_client
from handlers import register_all
from storage.db import Database
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
    poster = ScheduledPoster(
        db, gateway, clock=clock, pacer=pacer, settings=PostingSettings(grace=grace, tip_emoji=settings.tip_emoji)
    )
    circles = CircleRunner(
        db, gateway, UserDirectory(client, settings.admin_user_ids), clock=clock, pacer=pacer, grace=grace
    )
    return poster, circles


def build_app(
    settings: Settings,
    *,
    client: WebClient,
    db: Database,
    clock: Callable[[], datetime] = utcnow,
    listener_executor: Executor | None = None,
    poster: ScheduledPoster | None = None,
    circles: CircleRunner | None = None,
) -> App:
    """A ready Bolt app. Signature verification is always on (Bolt's default; never turned off)."""
    app = App(
        client=client,
        signing_secret=settings.signing_secret,
        logger=logging.getLogger("peerlearn.bolt"),
        listener_executor=listener_executor
        or ThreadPoolExecutor(settings.listener_threads, thread_name_prefix="listener"),
        # Each listener's ack function runs in the request thread and its response goes out as soon as
        # it returns; Slack calls run afterwards as lazy listeners on the executor. So an ack never waits
        # for a free executor thread (Bolt's other mode polls for it every 10 ms), nor for a slow Slack.
        process_before_response=True,
    )
    engines: list[tuple[ScheduledPoster, CircleRunner]] = []

    def scheduler_engines() -> tuple[ScheduledPoster, CircleRunner]:
        if not engines:
            engines.append(build_schedulers(settings, db=db, clock=clock))
        return engines[0]

    deps = Deps(
        settings=settings,
        db=db,
        slack=SlackGateway(client),
        users=UserDirectory(client, settings.admin_user_ids),
        clock=clock,
        poster=poster or scheduler_engines()[0],
        circles=circles or scheduler_engines()[1],
    )
    register_all(app, deps)
    return app
