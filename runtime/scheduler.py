"""APScheduler wiring. APScheduler only ticks; the truth (schedules, the post ledger, the lease)
lives in our tables, because APScheduler 3 cannot share a job store between processes (its FAQ
says so). Each tick asks the database what is due, so restarts, missed runs and several scheduler
processes are handled by the ledger, not by APScheduler's memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.circles import rules as circle_rules
from bot.circles.rounds import CircleReport, CircleRunner
from bot.schedules.posting import RunReport, ScheduledPoster
from bot.schedules.rules import BrokenSchedule, cadence_of
from runtime.maintenance import daily_upkeep
from storage import circles as circle_queries
from storage import schedules as schedule_queries
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    posts: RunReport
    rounds: CircleReport | None  # None when another process holds the lease

    @property
    def did_anything(self) -> bool:
        rounds = self.rounds
        return bool(self.posts.claimed or (rounds is not None and (rounds.opened or rounds.reminded or rounds.closed)))


def run_scheduled_posts(poster: ScheduledPoster, circles: CircleRunner) -> TickReport:
    """One tick: prompts and digests, then circle rounds, by whichever process holds the lease.

    Each engine isolates its own items; this keeps one engine's failure from stopping the other's.
    """
    try:
        posts = poster.run_due()
    except Exception:
        # Only the database failing gets here (each post is isolated inside run_due). The rounds
        # still get their turn: each is claimed by compare-and-set, so a second runner is harmless.
        log.exception("scheduled posts failed this tick; circle rounds still run")
        posts = RunReport()
    rounds = None
    if posts.leader:
        try:
            rounds = circles.run_due()
        except Exception:
            log.exception("circle rounds failed this tick; the next tick tries again")
    return TickReport(posts, rounds)


def next_due(db: Database, after: datetime) -> datetime | None:
    """The first moment after `after` at which a tick has something to do: a prompt or digest to
    post, a circle round to open, remind or close. None when nothing is scheduled."""
    moments: list[datetime] = []
    with db.snapshot() as session:
        for schedule in schedule_queries.active_schedules(session):
            try:
                moments.append(cadence_of(schedule).next_after(after))
            except BrokenSchedule:
                continue  # never due: the next tick pauses it and tells its admin
        moments += [
            circle_rules.cadence_of(circle).next_after(after)
            for circle in circle_queries.live_circles(session)
            if circle.paused_reason is None
        ]
        for round_ in circle_queries.open_rounds(session):
            moments += [round_.closes_at] if round_.reminded_at else [round_.remind_at, round_.closes_at]
    upcoming = [moment for moment in moments if moment > after]
    return min(upcoming, default=None)


def upkeep(db: Database) -> None:
    daily_upkeep(db, utcnow())


def build_scheduler(poster: ScheduledPoster, circles: CircleRunner, db: Database, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=UTC)
    # Twice a minute, on the minute and at half past: posts are due on the minute, and a standby
    # scheduler looks for a dead leader's work every 30 s (its leases run out within 20 s, so it
    # resumes within 50 s). A tick that starts late is still useful (it reads what is due from the
    # database), so it may run up to 25 s late; two never overlap, missed ones merge into one.
    scheduler.add_job(
        run_scheduled_posts,
        CronTrigger(second="0,30", timezone=UTC),
        args=[poster, circles],
        id="scheduled-posts",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=25,
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
