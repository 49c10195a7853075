"""APScheduler wiring. APScheduler only ticks; the truth (schedules, the post ledger, the lease)
lives in our tables, because APScheduler 3 cannot share a job store between processes (its FAQ
says so). Each tick asks the database what is due, so restarts, missed runs and several scheduler
processes are handled by the ledger, not by APScheduler's memory.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.circle_rounds import CircleRunner
from bot.maintenance import daily_upkeep
from bot.posting import ScheduledPoster
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


def run_scheduled_posts(poster: ScheduledPoster, circles: CircleRunner) -> None:
    """One tick: prompts and digests, then circle rounds, by whichever process holds the lease."""
    if poster.run_due().leader:
        circles.run_due()


def upkeep(db: Database) -> None:
    daily_upkeep(db, utcnow())


def build_scheduler(poster: ScheduledPoster, circles: CircleRunner, db: Database, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=UTC)
    # Every minute on the minute. A tick that starts late is still useful (it reads what is due from
    # the database), so it may run up to 50 s late; two never overlap, missed ones merge into one.
    scheduler.add_job(
        run_scheduled_posts,
        CronTrigger(second=0, timezone=UTC),
        args=[poster, circles],
        id="scheduled-posts",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=50,
        next_run_time=datetime.now(UTC),  # catch up at start, not a minute later
    )
    scheduler.add_job(
        upkeep,
        CronTrigger(hour=3, minute=17, timezone=UTC),
        args=[db],
        id="daily-upkeep",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    return scheduler
