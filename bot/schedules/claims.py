"""Step 1 of a scheduled post: claiming its ledger row (team, channel, kind, period), once.

Whoever inserts the row owns it; a firing missed beyond the grace window is recorded as skipped; a
pending row whose holder's lease ran out is taken over (compare-and-set). One schedule's surprise
never stops the others: each is claimed in its own try, and a row that can't be read is paused
with its admin told.

Due posts are claimed (and handed to the poster, one by one, bot/schedules/lanes.py) in turns across
workspaces, each workspace's spread evenly over the claiming: a busy workspace, which posts longest
at its pace, gets its first posts claimed early, and a quiet one is not held until the busy one's are
all claimed. Workspaces post in parallel, not one after another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from bot.schedules import setbacks
from bot.schedules.rules import BrokenSchedule, cadence_of
from bot.slack.acting import acting_for
from bot.slack.gateway import SlackGateway
from bot.uninstalled import pause_uninstalled
from storage import schedules as queries
from storage.db import Database
from storage.models import Schedule

if TYPE_CHECKING:
    from bot.schedules.posting import PostingSettings, RunReport

log = logging.getLogger(__name__)


class Claims:
    def __init__(
        self,
        db: Database,
        slack: SlackGateway,
        settings: PostingSettings,
        holder: str,
        served: Callable[[str], bool] | None = None,
    ) -> None:
        self.db = db
        self.slack = slack
        self.settings = settings
        self.holder = holder
        self.served = served

    def due(self, now: datetime, report: RunReport) -> Iterator[tuple[int, str, str, str]]:
        """The posts claimed now (id, team, channel, kind), each as soon as it is claimed."""
        with self.db.snapshot() as session:
            schedules = queries.active_schedules(session)
        uninstalled: set[str] = set()
        for schedule in in_turns(schedules):
            # One schedule's surprise never stops the others: each is claimed in its own try.
            try:
                if schedule.team_id in uninstalled or not self._installed(schedule.team_id):
                    uninstalled.add(schedule.team_id)
                    continue
                post_id = self._if_due(schedule, now, report)
            except BrokenSchedule as broken:
                with acting_for(schedule.team_id):
                    setbacks.pause_broken_schedule(self.db, self.slack, schedule, str(broken))
                continue
            except Exception:
                log.exception(
                    "schedule %s team=%s channel=%s kind=%s could not be claimed; the next tick tries again",
                    schedule.id, schedule.team_id, schedule.channel_id, schedule.kind,
                )  # fmt: skip
                continue
            if post_id is not None:
                yield post_id, schedule.team_id, schedule.channel_id, schedule.kind
        for team_id in uninstalled:  # skipped above, and paused until the app is installed there again
            try:
                pause_uninstalled(self.db, team_id)
            except Exception:
                log.exception("team=%s is not installed; its schedules could not be paused", team_id)

    def _installed(self, team_id: str) -> bool:
        return self.served is None or self.served(team_id)

    def _if_due(self, schedule: Schedule, now: datetime, report: RunReport) -> int | None:
        cadence = cadence_of(schedule)
        fired = cadence.latest_at_or_before(now)
        # Nothing before the schedule took its current form is owed.
        if fired is None or fired < schedule.updated_at:
            return None
        period = cadence.period_key(fired)
        if period == schedule.last_period:
            return None
        return self._claim(schedule, fired, period, now, report)

    def _claim(self, schedule: Schedule, fired: datetime, period: str, now: datetime, report: RunReport) -> int | None:
        with self.db.writing() as connection:  # (no ORM session: every due post is claimed here)
            row = {
                "team_id": schedule.team_id,
                "channel_id": schedule.channel_id,
                "kind": schedule.kind,
                "period": period,
                "schedule_id": schedule.id,
                "due_at": fired,
            }
            # Paused or removed since it was read: nothing is owed.
            if not queries.advance_schedule(connection, schedule.id, period):
                return None
            if now - fired > self.settings.grace:
                if queries.record_skip(connection, **row):
                    report.skipped += 1
                    log.warning(
                        "missed %s for team=%s channel=%s due=%s (more than %s ago): skipped",
                        schedule.kind, schedule.team_id, schedule.channel_id, fired.isoformat(), self.settings.grace,
                    )  # fmt: skip
                return None
            return queries.claim_post(
                connection, lease_until=now + self.settings.post_lease, lease_holder=self.holder, **row
            )

    def take_over_stale(self, now: datetime) -> list[tuple[int, str, str, str]]:
        with self.db.snapshot() as session:
            stale = queries.stale_pending_ids(session, now, not_before=now - self.settings.grace)
        taken = []
        for post_id in stale:
            try:
                with self.db.transaction() as session:
                    lease_until = now + self.settings.post_lease
                    if (post := queries.take_over(session, post_id, now, lease_until, self.holder)) is not None:
                        taken.append((post_id, post.team_id, post.channel_id, post.kind))
            except Exception:
                log.exception("stale post %s could not be taken over; the next tick tries again", post_id)
        return taken


def in_turns(schedules: list[Schedule]) -> list[Schedule]:
    """Each workspace's schedules spread evenly over the whole: the k-th of a workspace's n comes at
    k/n of the way (ties: the busier workspace first)."""
    by_team: dict[str, list[Schedule]] = {}
    for schedule in schedules:
        by_team.setdefault(schedule.team_id, []).append(schedule)
    spread = [
        ((index + 1) / len(own), -len(own), order, schedule)
        for order, own in enumerate(by_team.values())
        for index, schedule in enumerate(own)
    ]
    return [schedule for *_, schedule in sorted(spread, key=lambda entry: entry[:3])]
