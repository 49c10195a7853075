"""Scheduled posts, exactly once per period, whatever happens.

The protocol, per post:
1. *Claim*: insert the ledger row (team, channel, kind, period) — unique — with a short lease, in
   the transaction that also moves the schedule's `last_period`. Whoever inserts it owns it: a
   second scheduler process, a retried tick or a restart finds the row and moves on.
2. *Compose*: choose the prompt or gather the digest and write the choice onto the ledger row, so
   a retry posts the same thing.
3. *Post* with metadata naming the ledger row, paced under Slack's limits (429s are still retried).
4. *Record*: posted (with ts), or failed. A channel that is gone, archived or closed to the bot
   pauses its schedule and its admin is told; a transient failure leaves the row pending, and the
   next tick retries it while the grace window lasts.

While a post is in hand its lease (and the leadership) is renewed by the process's heartbeat
(storage/leases.py). A process that dies between 1 and 4 leaves a pending row whose short lease runs
out. The next tick takes it over (compare-and-set on the lease) and first looks in the channel for a
message carrying that ledger id, so a post that did reach Slack is recorded, not repeated.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import assert_never

from bot.schedules import setbacks
from bot.schedules.blocks import pause_notice
from bot.schedules.commands import PairingOptions
from bot.schedules.compose import compose
from bot.schedules.kinds import Delivery, LedgerStatus, PostKind
from bot.schedules.results import PAUSING_ERRORS, Delivered
from bot.schedules.rules import BrokenSchedule, cadence_of, pairing_options
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.results import Failed, Posted
from storage import schedules as queries
from storage.db import Database
from storage.leases import SCHEDULER_LEASE, Heartbeat
from storage.models import Schedule, ScheduledPost

log = logging.getLogger(__name__)

METADATA_EVENT = "peerlearn_scheduled_post"
LEASE_NAME = "scheduled-posts"


@dataclass(frozen=True)
class PostingSettings:
    grace: timedelta = timedelta(hours=12)
    # Claimed posts and the leadership, renewed by the heartbeat while held: a dead scheduler's
    # successor takes over at its first tick after they run out.
    post_lease: timedelta = SCHEDULER_LEASE
    leader_lease: timedelta = SCHEDULER_LEASE
    workers: int = 8
    tip_emoji: str = "bulb"


# Runs (or continues) the pairing round of (team, channel, period) with these options, set up by
# that person; returns why there is no round, or None. bot/pairing/rounds.py's PairingRunner.start.
RoundStarter = Callable[[str, str, str, PairingOptions, str], str | None]


@dataclass
class RunReport:
    leader: bool = True
    claimed: int = 0
    posted: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


def _settled(post: ScheduledPost) -> Delivered:
    """What an earlier attempt at this post came to (its row is no longer pending)."""
    status = Delivery.POSTED if post.status == LedgerStatus.POSTED else Delivery.FAILED
    return Delivered(post.id, status, post.error, post.message_ts)


class ScheduledPoster:
    def __init__(
        self,
        db: Database,
        slack: SlackGateway,
        *,
        clock: Callable[[], datetime],
        pacer: PostPacer | None = None,
        settings: PostingSettings | None = None,
        holder: str | None = None,
        heartbeat: Heartbeat | None = None,
        rounds: RoundStarter | None = None,
        keeper: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.rounds = rounds
        self.keeper = keeper  # the open pairing rounds' follow-ups and closings, run by the leader
        self.slack = slack
        self.clock = clock
        self.pacer = pacer or PostPacer()
        self.settings = settings or PostingSettings()
        self.heartbeat = heartbeat or Heartbeat(db, holder, lease=self.settings.post_lease, clock=clock)
        self.holder = self.heartbeat.holder  # names the process in the lease columns

    # -- the tick ------------------------------------------------------------------------------

    def run_due(self) -> RunReport:
        """Post everything due now. Safe to call from any number of processes, any number of times."""
        now = self.clock()
        if not self._hold_lease(now):
            return RunReport(leader=False)
        report = RunReport()
        if self.keeper is not None:
            try:
                self.keeper()
            except Exception:  # the rounds' own trouble never holds up the posts
                log.exception("pairing rounds' follow-ups and closings failed; the next tick tries again")
        claimed = self._claim_due(now, report) + self._take_over_stale(now)
        report.claimed = len(claimed)
        report.failed += setbacks.give_up_expired_posts(self.db, self.slack, now - self.settings.grace)
        for post_id in claimed:  # held until delivered, also while waiting for a free poster thread
            self.heartbeat.hold(queries.renew_posts, post_id)
        if not claimed:
            return report
        last_renewal = time.monotonic()
        with ThreadPoolExecutor(self.settings.workers, thread_name_prefix="poster") as pool:
            futures = [pool.submit(self._deliver_safely, post_id) for post_id in claimed]
            for future in as_completed(futures):
                match future.result().status:
                    case Delivery.POSTED:
                        report.posted += 1
                    case Delivery.RETRYING:
                        report.retrying += 1
                    case Delivery.FAILED | Delivery.PAUSED:
                        report.failed += 1
                    case unknown:
                        assert_never(unknown)
                if time.monotonic() - last_renewal > self.settings.leader_lease.total_seconds() / 3:
                    self._hold_lease(self.clock())
                    last_renewal = time.monotonic()
        log.info(
            "scheduled posts claimed=%s posted=%s retrying=%s failed=%s skipped=%s",
            report.claimed, report.posted, report.retrying, report.failed, report.skipped,
        )  # fmt: skip
        return report

    def post_now(
        self, team_id: str, channel_id: str, kind: PostKind | str, requested_by: str, key: str | None = None
    ) -> Delivered:
        """Post right away, through the same ledger and delivery as the schedule. `key` names the
        request: a rerun of the same request finds its post and does not make a second one."""
        kind = PostKind(kind)
        now = self.clock()
        period = f"now:{key or uuid.uuid4().hex}"[:64]
        with self.db.transaction() as session:
            schedule = queries.get_schedule(session, team_id, channel_id, kind)
            post = queries.claim_post(
                session,
                team_id=team_id,
                channel_id=channel_id,
                kind=kind.value,
                period=period,
                schedule_id=schedule.id if schedule else None,
                due_at=now,
                lease_until=now + self.settings.post_lease,
                lease_holder=self.holder,
                requested_by=requested_by,
            )
            if post is None:  # this request ran before: what came of it, or carry on where it stopped
                earlier = queries.post_of_period(session, team_id, channel_id, kind.value, period)
                assert earlier is not None
                if earlier.status != LedgerStatus.PENDING:
                    return _settled(earlier)
                lease_until = now + self.settings.post_lease
                if queries.take_over(session, earlier.id, now, lease_until, self.holder) is None:
                    return Delivered(earlier.id, Delivery.RETRYING)  # another run has it in hand
                post_id = earlier.id
            else:
                post_id = post.id
        self.heartbeat.hold(queries.renew_posts, post_id)
        log.info(
            "post now team=%s user=%s channel=%s kind=%s post=%s", team_id, requested_by, channel_id, kind, post_id
        )
        return self._deliver_safely(post_id)

    def release_leadership(self) -> None:
        self.heartbeat.release(queries.renew_leases, LEASE_NAME)
        with self.db.transaction() as session:
            queries.release_lease(session, LEASE_NAME, self.holder)

    # -- claiming ------------------------------------------------------------------------------

    def _hold_lease(self, now: datetime) -> bool:
        with self.db.transaction() as session:
            leader = queries.acquire_lease(session, LEASE_NAME, self.holder, now, now + self.settings.leader_lease)
        if leader:  # kept between ticks by the heartbeat, as long as this process lives
            self.heartbeat.hold(queries.renew_leases, LEASE_NAME)
        return leader

    def _claim_due(self, now: datetime, report: RunReport) -> list[int]:
        with self.db.snapshot() as session:
            schedules = queries.active_schedules(session)
        claimed = []
        for schedule in schedules:
            # One schedule's surprise never stops the others: each is claimed in its own try.
            try:
                post_id = self._claim_if_due(schedule, now, report)
            except BrokenSchedule as broken:
                setbacks.pause_broken_schedule(self.db, self.slack, schedule, str(broken))
                continue
            except Exception:
                log.exception(
                    "schedule %s team=%s channel=%s kind=%s could not be claimed; the next tick tries again",
                    schedule.id, schedule.team_id, schedule.channel_id, schedule.kind,
                )  # fmt: skip
                continue
            if post_id is not None:
                claimed.append(post_id)
        return claimed

    def _claim_if_due(self, schedule: Schedule, now: datetime, report: RunReport) -> int | None:
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
        with self.db.transaction() as session:
            row = {
                "team_id": schedule.team_id,
                "channel_id": schedule.channel_id,
                "kind": schedule.kind,
                "period": period,
                "schedule_id": schedule.id,
                "due_at": fired,
            }
            current = session.get(Schedule, schedule.id)
            if current is None or current.paused_reason is not None:
                return None
            current.last_period = period
            if now - fired > self.settings.grace:
                if queries.record_skip(session, **row):
                    report.skipped += 1
                    log.warning(
                        "missed %s for team=%s channel=%s due=%s (more than %s ago): skipped",
                        schedule.kind, schedule.team_id, schedule.channel_id, fired.isoformat(), self.settings.grace,
                    )  # fmt: skip
                return None
            post = queries.claim_post(
                session, lease_until=now + self.settings.post_lease, lease_holder=self.holder, **row
            )
            return None if post is None else post.id

    def _take_over_stale(self, now: datetime) -> list[int]:
        with self.db.snapshot() as session:
            stale = queries.stale_pending_ids(session, now, not_before=now - self.settings.grace)
        taken = []
        for post_id in stale:
            try:
                with self.db.transaction() as session:
                    lease_until = now + self.settings.post_lease
                    if queries.take_over(session, post_id, now, lease_until, self.holder) is not None:
                        taken.append(post_id)
            except Exception:
                log.exception("stale post %s could not be taken over; the next tick tries again", post_id)
        return taken

    # -- delivering ----------------------------------------------------------------------------

    def _deliver_safely(self, post_id: int) -> Delivered:
        # The one catch-all of the scheduler: one channel's surprise must not stop the others' posts.
        try:
            return self._deliver(post_id)
        except Exception as error:
            log.exception("scheduled post %s failed unexpectedly; it will be retried", post_id)
            try:
                return self._retry_later(post_id, f"unexpected: {error.__class__.__name__}")
            except Exception:
                # Its lease runs out, and a later tick takes it over.
                log.exception("scheduled post %s: its failure could not be recorded", post_id)
                return Delivered(post_id, Delivery.RETRYING, "unrecorded")
        finally:
            self.heartbeat.release(queries.renew_posts, post_id)

    def _deliver(self, post_id: int) -> Delivered:
        if (problem := self._run_round(post_id)) is not None:
            return self._skip(post_id, problem)
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            if post.status != LedgerStatus.PENDING:
                return _settled(post)
            retrying = post.attempts > 0
            post.attempts += 1
            text, blocks = compose(session, post, self.settings.tip_emoji)
            channel_id = post.channel_id
        if retrying:
            found = self.slack.find_by_metadata(channel_id, METADATA_EVENT, "ledger_id", post_id)
            if isinstance(found, Posted):
                log.info("post %s had reached Slack before (ts=%s); recorded, not repeated", post_id, found.ts)
                return self._record_posted(post_id, found.ts)
        self.pacer.wait(channel_id)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"ledger_id": post_id}}
        outcome = self.slack.post(channel_id, text, blocks, metadata=metadata)
        if isinstance(outcome, Posted):
            return self._record_posted(post_id, outcome.ts)
        return self._record_failure(post_id, outcome)

    def _run_round(self, post_id: int) -> str | None:
        """A pairing round's groups and DMs, before its line in the channel (the round is once per
        period by its own key, so a retried post continues the same round); why not, if it can't."""
        with self.db.snapshot() as session:
            post = queries.ledger_row(session, post_id)
            if post is None or post.kind != PostKind.PAIRING or post.status != LedgerStatus.PENDING:
                return None
            schedule = session.get(Schedule, post.schedule_id) if post.schedule_id else None
            team_id, channel_id, period = post.team_id, post.channel_id, post.period
        if self.rounds is None:
            return "pairing rounds are not set up in this process"
        options = pairing_options(schedule)
        configured_by = schedule.configured_by if schedule else (post.requested_by or "")
        return self.rounds(team_id, channel_id, period, options, configured_by)

    def _skip(self, post_id: int, problem: str) -> Delivered:
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

    def _record_posted(self, post_id: int, ts: str) -> Delivered:
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            post.status, post.message_ts, post.posted_at, post.error = LedgerStatus.POSTED.value, ts, self.clock(), None
            post.lease_until = None
        log.info(
            "posted %s team=%s channel=%s period=%s ts=%s",
            post.kind,
            post.team_id,
            post.channel_id,
            post.period,
            ts,
        )
        return Delivered(post_id, Delivery.POSTED, message_ts=ts)

    def _record_failure(self, post_id: int, failure: Failed) -> Delivered:
        if failure.error not in PAUSING_ERRORS:
            return self._retry_later(post_id, failure.error)
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

    def _retry_later(self, post_id: int, error: str) -> Delivered:
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            if post.status != LedgerStatus.PENDING:
                return _settled(post)
            post.error = error
            # Back off a little more on each attempt; the grace window bounds the retries.
            post.lease_until = self.clock() + timedelta(minutes=min(30, 2**post.attempts))
            if self.clock() - post.due_at > self.settings.grace:
                post.status = LedgerStatus.FAILED.value
                return Delivered(post_id, Delivery.FAILED, error)
        log.warning("post %s will be retried: %s", post_id, error)
        return Delivered(post_id, Delivery.RETRYING, error)


def _describe(schedule: Schedule) -> str:
    try:
        return f" ({cadence_of(schedule).describe()})"
    except BrokenSchedule:
        return ""
