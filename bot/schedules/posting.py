"""Scheduled posts, exactly once per period, whatever happens.

The protocol, per post:
1. *Claim*: insert the ledger row (team, channel, kind, period) — unique — with a short lease, in
   the transaction that also moves the schedule's `last_period`. Whoever inserts it owns it: a
   second scheduler process, a retried tick or a restart finds the row and moves on.
2. *Compose*: choose the prompt or gather the digest and write the choice onto the ledger row, so
   a retry posts the same thing.
3. *Post* with metadata naming the ledger row, paced under Slack's limits. A 429 holds that
   channel's slots (on a second 429 there, the workspace's) until its Retry-After has passed and
   gives the thread back: the post, still pending and still held, goes back to its workspace's
   lane, to be handed out again then (the attempt not counted: Slack did not post), and the other
   posts go on meanwhile (bot/slack/ratelimits.py, bot/slack/pacing.py).
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
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any, assert_never

from bot.schedules import digests, setbacks
from bot.schedules.claims import Claims
from bot.schedules.commands import PairingOptions
from bot.schedules.compose import compose
from bot.schedules.kinds import Delivery, LedgerStatus, PostKind
from bot.schedules.lanes import Lanes
from bot.schedules.recording import LedgerRecorder, settled
from bot.schedules.results import Delivered
from bot.schedules.rules import pairing_options
from bot.slack.acting import acting_for
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.ratelimits import RateLimited, deferring_rate_limits
from bot.slack.results import Failed, Posted
from bot.slack.workspaces import NOT_INSTALLED
from storage import schedules as queries
from storage.db import Database
from storage.leases import SCHEDULER_LEASE, Heartbeat
from storage.models import Schedule

log = logging.getLogger(__name__)

METADATA_EVENT = "peerlearn_scheduled_post"
LEASE_NAME = "scheduled-posts"
# Which circle channels are public, as a digest asked Slack: trusted this long for the workspace's
# next digests (a channel made private meanwhile is quoted from for at most this long).
PUBLIC_CHANNELS_TTL = 60.0
# A rate-limited post waits for its workspace's Retry-After in this run when that ends within this
# many seconds (a tick's interval); a longer one leaves it to the first tick after it has passed.
HOLD_IN_RUN_SECONDS = 30.0


class StillHeld(RateLimited):
    """Not sent: the channel (or workspace) is still held after an earlier 429 (not a new one)."""


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
        served: Callable[[str], bool] | None = None,
    ) -> None:
        self.db = db
        # Whether a workspace is (still) installed; None: every stored one (a single-workspace deployment).
        self.served = served
        self.rounds = rounds
        self.keeper = keeper  # the open pairing rounds' follow-ups and closings, run by the leader
        self.slack = slack
        self.clock = clock
        self.pacer = pacer or PostPacer()
        self.settings = settings or PostingSettings()
        self.heartbeat = heartbeat or Heartbeat(db, holder, lease=self.settings.post_lease, clock=clock)
        self.holder = self.heartbeat.holder  # names the process in the lease columns
        self.claims = Claims(db, self.slack, self.settings, self.holder, served)
        self.record = LedgerRecorder(db, self.slack, clock, self.settings.grace)
        self._public_channels: dict[str, tuple[float, frozenset[str]]] = {}  # by workspace: (when, channels)

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
        report.failed += setbacks.give_up_expired_posts(self.db, self.slack, now - self.settings.grace)
        last_renewal = time.monotonic()
        with ThreadPoolExecutor(self.settings.workers, thread_name_prefix="poster") as pool:
            # Posted while the rest are still being claimed, each workspace at its own pace (lanes.py).
            # Each post with its kind, known at the claim: not read again.
            lanes: Lanes[tuple[int, str]] = Lanes(
                self.pacer,
                lambda post, team_id, slot: pool.submit(
                    self._deliver_safely, post[0], slot, team_id, post[1], in_lane=True
                ),
                threads=self.settings.workers,
                leave=lambda post, team_id, wait: pool.submit(self._leave_for_later, post[0], team_id, wait),
                horizon=HOLD_IN_RUN_SECONDS,
            )
            dispatcher = threading.Thread(target=lanes.dispatch, name="poster-lanes", daemon=True)
            dispatcher.start()
            try:
                for post_id, team_id, channel_id, kind in chain(
                    self.claims.due(now, report), self.claims.take_over_stale(now)
                ):
                    self.heartbeat.hold(queries.renew_posts, post_id)  # held until delivered, also while queued
                    lanes.add((post_id, kind), team_id, channel_id)
            finally:
                lanes.close()
                dispatcher.join()
            if not lanes.futures:
                return report
            for future in as_completed(lanes.futures):
                if (delivered := future.result()).held:  # handed out again after its Retry-After
                    continue
                report.claimed += 1
                match delivered.status:
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
            claimed = queries.claim_post(
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
            if claimed is None:  # this request ran before: what came of it, or carry on where it stopped
                earlier = queries.post_of_period(session, team_id, channel_id, kind.value, period)
                assert earlier is not None
                if earlier.status != LedgerStatus.PENDING:
                    return settled(earlier)
                lease_until = now + self.settings.post_lease
                if queries.take_over(session, earlier.id, now, lease_until, self.holder) is None:
                    return Delivered(earlier.id, Delivery.RETRYING)  # another run has it in hand
                post_id = earlier.id
            else:
                post_id = claimed
        self.heartbeat.hold(queries.renew_posts, post_id)
        log.info(
            "post now team=%s user=%s channel=%s kind=%s post=%s", team_id, requested_by, channel_id, kind, post_id
        )
        return self._deliver_safely(post_id, team_id=team_id, kind=kind.value)

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

    # -- delivering ----------------------------------------------------------------------------

    def _deliver_safely(
        self,
        post_id: int,
        slot: float | None = None,
        team_id: str | None = None,
        kind: str | None = None,
        *,
        in_lane: bool = False,
    ) -> Delivered:
        """Deliver one post, whatever happens. `in_lane`: handed out by the lanes, which hand a post
        that comes back held out again (a 429); otherwise a 429 leaves it to a later tick."""
        held = False
        # The one catch-all of the scheduler: one channel's surprise must not stop the others' posts.
        try:
            if team_id is None:
                with self.db.snapshot() as session:
                    post = queries.ledger_row(session, post_id)
                    team_id = post.team_id if post is not None else None
            if team_id is not None and self.served is not None and not self.served(team_id):
                # Uninstalled since it was claimed: kept for a reinstall within the grace window.
                return self.record.retry_later(post_id, NOT_INSTALLED)
            with acting_for(team_id):  # every Slack call of this post with its own workspace's token
                delivered = self._deliver(post_id, slot, kind, team_id, in_lane)
            held = delivered.held
            return delivered
        except RateLimited as limited:  # before its attempt (a pairing round's DMs, run by a job)
            delivered = self._rate_limited(post_id, team_id, limited, in_lane, attempted=False)
            held = delivered.held
            return delivered
        except Exception as error:
            log.exception("scheduled post %s failed unexpectedly; it will be retried", post_id)
            try:
                return self.record.retry_later(post_id, f"unexpected: {error.__class__.__name__}")
            except Exception:
                # Its lease runs out, and a later tick takes it over.
                log.exception("scheduled post %s: its failure could not be recorded", post_id)
                return Delivered(post_id, Delivery.RETRYING, "unrecorded")
        finally:
            if not held:  # a held post stays ours (its lease renewed) until it is delivered
                self.heartbeat.release(queries.renew_posts, post_id)

    def _rate_limited(
        self,
        post_id: int,
        team_id: str | None,
        limited: RateLimited,
        in_lane: bool,
        *,
        channel_id: str | None = None,
        attempted: bool,
    ) -> Delivered:
        """Slack answered 429: hold the channel's slots for the Retry-After, or the workspace's
        (bot/slack/pacing.py), and put the post back, its attempt (if made) not counted. No thread
        waits: the other posts go on in their lanes (the other workspaces' always). A hold still
        running (`StillHeld`, raised before asking Slack) is not a new 429: counted again, it would
        make one refusal of a channel hold its whole workspace."""
        if not isinstance(limited, StillHeld):
            self.pacer.rate_limited(team_id, channel_id, limited.retry_after)
        if in_lane and limited.retry_after <= HOLD_IN_RUN_SECONDS:
            delivered = self.record.rate_limited(post_id, None, attempted=attempted)
        else:  # the first tick after the Retry-After takes it over
            until = self.clock() + timedelta(seconds=limited.retry_after)
            delivered = self.record.rate_limited(post_id, until, attempted=attempted)
        log.info(
            "post %s team=%s rate limited (%s): held %.1f s, %s",
            post_id, team_id, limited.method, limited.retry_after,
            "then posted in this run" if delivered.held else "then retried by a later tick",
        )  # fmt: skip
        return delivered

    def _leave_for_later(self, post_id: int, team_id: str, wait: float) -> Delivered:
        """A claimed post whose workspace (or channel) is held after a 429 for longer than this run
        waits: not asked of Slack, left (unclaimed) to the first tick after the hold, as the post
        that met the 429 is, so that the run returns and the other workspaces' next ticks go on."""
        try:
            until = self.clock() + timedelta(seconds=wait)
            delivered = self.record.rate_limited(post_id, until, attempted=False)
            log.info("post %s team=%s left to a later tick: its workspace is held %.1f s", post_id, team_id, wait)
            return delivered
        except Exception:  # its lease runs out, and a later tick takes it over
            log.exception("scheduled post %s: leaving it to a later tick could not be recorded", post_id)
            return Delivered(post_id, Delivery.RETRYING, "unrecorded")
        finally:
            self.heartbeat.release(queries.renew_posts, post_id)

    def _deliver(
        self,
        post_id: int,
        slot: float | None = None,
        kind: str | None = None,
        team_id: str | None = None,
        in_lane: bool = False,
    ) -> Delivered:
        """Post at `slot` (taken by the lanes), or at the next free slot (a post asked for now).
        `kind`, when known, spares a pairing round's look-up for every other post, and a digest's
        look-up of which circle and question channels are public for every other post.

        The look-up and the post run `deferring_rate_limits()`: a 429 gives the thread back at once
        (bot/slack/ratelimits.py). A pairing round's DMs before them (bot/pairing/) and a digest's
        look-ups are still retried after Retry-After inside the client here: a few calls, once per
        round or digest, whose own failure handling is not built to be put back mid-way."""
        if kind in (None, PostKind.PAIRING) and (problem := self._run_round(post_id)) is not None:
            return self.record.skip(post_id, problem)
        public_channels: frozenset[str] = frozenset()
        if kind in (None, PostKind.DIGEST) and team_id is not None:
            public_channels = self._public_channels_of(team_id)
        with self.db.transaction() as session:
            post = queries.ledger_row(session, post_id)
            assert post is not None
            if post.status != LedgerStatus.PENDING:
                return settled(post)
            retrying = post.attempts > 0
            text, blocks = compose(session, post, self.settings.tip_emoji, public_channels)
            post.attempts += 1  # (after composing: one UPDATE carries both)
            channel_id = post.channel_id
        try:
            with deferring_rate_limits():
                outcome = self._post(post_id, channel_id, text, blocks, slot, team_id, retrying)
        except RateLimited as limited:
            return self._rate_limited(post_id, team_id, limited, in_lane, channel_id=channel_id, attempted=True)
        if isinstance(outcome, Delivered):
            return outcome
        if isinstance(outcome, Posted):
            self.pacer.accepted(team_id)
            return self.record.record_posted(post_id, outcome.ts)
        return self.record.record_failure(post_id, outcome)

    def _post(
        self,
        post_id: int,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]],
        slot: float | None,
        team_id: str | None,
        retrying: bool,
    ) -> Posted | Failed | Delivered:
        """Look first (a retry: an earlier attempt may have posted), then post at the slot."""
        if retrying:
            found = self.slack.find_by_metadata(channel_id, METADATA_EVENT, "ledger_id", post_id)
            if isinstance(found, Posted):
                log.info("post %s had reached Slack before (ts=%s); recorded, not repeated", post_id, found.ts)
                return self.record.record_posted(post_id, found.ts)
        if slot is None:
            if (wait := self.pacer.held_for(team_id, channel_id)) > 0:
                # Held after a 429: not waited out in this (a job's) thread.
                raise StillHeld("chat.postMessage", wait, team_id)
            self.pacer.wait(channel_id)
        else:
            self.pacer.sleep_until(slot)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"ledger_id": post_id}}
        return self.slack.post(channel_id, text, blocks, metadata=metadata)

    def _public_channels_of(self, team_id: str) -> frozenset[str]:
        """digests.public_channels, kept for a minute per workspace: a tick's digests for many
        channels ask Slack once, not once each (nor again on a retry)."""
        cached = self._public_channels.get(team_id)
        if cached is not None and time.monotonic() - cached[0] < PUBLIC_CHANNELS_TTL:
            return cached[1]
        found = digests.public_channels(self.db, self.slack, team_id, self.clock())
        self._public_channels[team_id] = (time.monotonic(), found)
        return found

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
