"""What came of a scheduled post, written onto its ledger row: posted, retried later, failed (its
schedule paused and its admin told), or skipped. Every step is a compare-and-set on a pending row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.schedules.blocks import pause_notice
from bot.schedules.kinds import Delivery, LedgerStatus
from bot.schedules.results import PAUSING_ERRORS, Delivered
from bot.schedules.rules import BrokenSchedule, cadence_of
from bot.slack.gateway import SlackGateway
from bot.slack.results import Failed
from storage import schedules as queries
from storage.db import Database
from storage.models import Schedule, ScheduledPost

log = logging.getLogger(__name__)


def settled(post: ScheduledPost) -> Delivered:
    """What an earlier attempt at this post came to (its row is no longer pending)."""
    status = Delivery.POSTED if post.status == LedgerStatus.POSTED else Delivery.FAILED
    return Delivered(post.id, status, post.error, post.message_ts)


class LedgerRecorder:
    def __init__(self, db: Database, slack: SlackGateway, clock: Callable[[], datetime], grace: timedelta) -> None:
        self.db = db
        self.slack = slack
        self.clock = clock
        self.grace = grace

    def skip(self, post_id: int, problem: str) -> Delivered:
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            post.status, post.error, post.lease_until = LedgerStatus.SKIPPED.value, problem[:500], None
            schedule = session.get(Schedule, post.schedule_id) if post.schedule_id else None
            admin = schedule.configured_by if schedule and not post.period.startswith("now:") else None
            channel_id = post.channel_id
        log.info("post %s to channel=%s skipped: %s", post_id, channel_id, problem)
        if admin is not None:
            self.slack.tell(admin, f"No pairing round in <#{channel_id}> this time: {problem}.")
        return Delivered(post_id, Delivery.FAILED, problem)

    def record_posted(self, post_id: int, ts: str) -> Delivered:
        with self.db.writing() as connection:  # (no ORM session: every post records itself)
            row = queries.mark_posted(connection, post_id, ts, self.clock())
        assert row is not None
        kind, team_id, channel_id, period = row
        log.info("posted %s team=%s channel=%s period=%s ts=%s", kind, team_id, channel_id, period, ts)
        return Delivered(post_id, Delivery.POSTED, message_ts=ts)

    def record_failure(self, post_id: int, failure: Failed) -> Delivered:
        if failure.error not in PAUSING_ERRORS:
            return self.retry_later(post_id, failure.error)
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            post.status, post.error, post.lease_until = LedgerStatus.FAILED.value, failure.error, None
            schedule = queries.pause_schedule(session, post.schedule_id, failure.error) if post.schedule_id else None
            admin = schedule.configured_by if schedule else None
            kind, channel_id = post.kind, post.channel_id
            when = _describe(schedule) if schedule else ""
        log.warning("post %s to channel=%s failed with %s; schedule paused", post_id, channel_id, failure.error)
        if admin is not None:
            self.slack.tell(admin, pause_notice(kind, channel_id, failure.error, when))
        return Delivered(post_id, Delivery.PAUSED if admin else Delivery.FAILED, failure.error)

    def rate_limited(self, post_id: int, not_before: datetime | None, *, attempted: bool) -> Delivered:
        """Slack answered 429, so it did not post: an `attempted` post's attempt is not counted (no
        back-off grows, and the next attempt need not look in the channel first). `not_before`: when
        a later tick may take it over (its lease runs out then); None: the poster keeps it and posts
        it again itself."""
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            if post.status != LedgerStatus.PENDING:
                return settled(post)
            if attempted:
                post.attempts = max(post.attempts - 1, 0)
            post.error = "ratelimited"
            if not_before is not None:
                post.lease_until = not_before
        return Delivered(post_id, Delivery.RETRYING, "ratelimited", held=not_before is None)

    def retry_later(self, post_id: int, error: str) -> Delivered:
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            if post.status != LedgerStatus.PENDING:
                return settled(post)
            post.error = error
            # Back off a little more on each attempt; the grace window bounds the retries.
            post.lease_until = self.clock() + timedelta(minutes=min(30, 2**post.attempts))
            if self.clock() - post.due_at > self.grace:
                post.status = LedgerStatus.FAILED.value
                return Delivered(post_id, Delivery.FAILED, error)
        log.warning("post %s will be retried: %s", post_id, error)
        return Delivered(post_id, Delivery.RETRYING, error)


def _describe(schedule: Schedule) -> str:
    try:
        return f" ({cadence_of(schedule).describe()})"
    except BrokenSchedule:
        return ""
