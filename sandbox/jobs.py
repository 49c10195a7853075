"""The sandbox plays Peerlearn's scheduler role, on a clock it can move forward.

The app runs as `--role web`; this process runs the app's own scheduler engines (the same ledger,
lease and delivery as `--role scheduler`) against the app's database, with a clock that is real
time plus an offset kept in the sandbox workspace. It ticks twice a minute like the real scheduler,
and "Run scheduled jobs now" ticks at once: if nothing is due it first moves the clock to the next
moment something is (a prompt, a digest, a circle round opening, its reminder, its close), so a
week of Peerlearn can be watched in a minute. The clock only moves forward: the ledger has already
recorded the periods it passed, which is what keeps every post exactly once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler

from runtime.factory import build_schedulers
from runtime.oauth import installations_for
from runtime.scheduler import TickReport, build_scheduler, next_due, run_scheduled_posts
from runtime.settings import Settings
from sandbox.workspace import Workspace
from storage.db import Database
from storage.jobs import backlog
from storage.models import utcnow

log = logging.getLogger("peerlearn.sandbox")


@dataclass
class JobsRun:
    now: datetime
    jumped: timedelta  # how far the clock moved forward first
    report: TickReport | None  # None when nothing is scheduled at all

    def describe(self) -> str:
        if self.report is None:
            return "Nothing is scheduled yet: set up a prompt schedule (/peerlearn) or a circle (/circle create)."
        posts, rounds = self.report.posts, self.report.rounds
        parts = []
        if posts.posted:
            parts.append(f"{posts.posted} scheduled post{'s' if posts.posted != 1 else ''}")
        if posts.failed or posts.retrying:
            parts.append(f"{posts.failed + posts.retrying} post(s) failed or retrying (see the app's log)")
        if rounds is not None:
            for count, what in ((rounds.opened, "opened"), (rounds.reminded, "reminded"), (rounds.closed, "closed")):
                if count:
                    parts.append(f"{count} circle round{'s' if count != 1 else ''} {what}")
        done = ", ".join(parts) or "nothing was due"
        return f"{done}." if not self.jumped else f"Moved the clock forward {_span(self.jumped)}: {done}."


class SandboxClock:
    """The workspace's clock (sandbox/workspace.py), as the app's scheduler engines read time. With
    two workspaces they share it: both move together, from the later of the two."""

    def __init__(self, workspace: Workspace, *others: Workspace) -> None:
        self.workspace = workspace
        self.others = others
        for other in others:
            other.move_clock(workspace.clock_offset - other.clock_offset)
            workspace.move_clock(other.clock_offset - workspace.clock_offset)

    @property
    def offset(self) -> timedelta:
        return timedelta(seconds=self.workspace.clock_offset)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def move_to(self, moment: datetime) -> timedelta:
        jump = max(moment - self(), timedelta(0))
        for workspace in (self.workspace, *self.others):
            workspace.move_clock(jump.total_seconds())
        return jump


class ScheduledJobs:
    def __init__(self, settings: Settings, workspace: Workspace, *others: Workspace) -> None:
        self.clock = SandboxClock(workspace, *others)
        self.db = Database.connect(settings.database_url)
        # Two workspaces: the app is in OAuth mode, each workspace's posts made with its own token.
        installations = installations_for(settings, self.db)
        self.poster, self.circles = build_schedulers(
            settings, db=self.db, clock=self.clock, installations=installations
        )
        self._scheduler: BaseScheduler | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Tick twice a minute, as `--role scheduler` does (same APScheduler wiring)."""
        self._scheduler = build_scheduler(self.poster, self.circles, self.db, blocking=False)
        self._scheduler.start()

    def app_idle(self) -> bool:
        """Whether the app's job worker has nothing queued or running (the work after every ack done)."""
        with self.db.queue.engine.connect() as connection:
            states = backlog(connection)
        return not states.get("queued") and not states.get("running")

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        self.poster.release_leadership()
        self.db.dispose()

    def run_now(self) -> JobsRun:
        """Fire what is due now; if nothing is, move the clock to the next due moment and fire that."""
        with self._lock:
            report = run_scheduled_posts(self.poster, self.circles)
            if report.did_anything:
                return JobsRun(self.clock(), timedelta(0), report)
            due = next_due(self.db, self.clock())
            if due is None:
                return JobsRun(self.clock(), timedelta(0), None)
            jumped = self.clock.move_to(due)
            log.info("sandbox clock moved forward %s to %s", jumped, due.isoformat())
            return JobsRun(self.clock(), jumped, run_scheduled_posts(self.poster, self.circles))


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes or not parts else []
    return " ".join(parts)
