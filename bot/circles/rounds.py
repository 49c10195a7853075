"""Check-in rounds: opened, reminded and closed exactly once each, under restarts and several schedulers.

- *Open*: insert the round (unique per circle and period) in the transaction that moves the
  circle's `last_period`; post the header; record every member's place in the round (invited,
  paused, unreachable) before any DM; DM only those with no DM recorded; then mark it open.
  While it opens, the process's heartbeat renews its short lease (storage/leases.py); a crash
  mid-way leaves an `opening` round whose lease runs out; the next tick resumes it without a second
  header or a second DM to anyone already recorded.
- *Remind*: whoever sets `reminded_at` (compare-and-set) sends the reminders.
- *Close*: whoever moves `open` to `closing` posts the summary and updates the streaks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.circles import rules as circles
from bot.circles.blocks import checkin_dm, reminder_dm, round_header, round_summary
from bot.slack.gateway import Failed, SlackGateway, UserDirectory
from bot.slack.pacing import PostPacer
from storage import circles as queries
from storage.db import Database
from storage.leases import SCHEDULER_LEASE, Heartbeat
from storage.models import Circle, CircleRound

log = logging.getLogger(__name__)

OPENING_LEASE = SCHEDULER_LEASE  # renewed while the round opens, however long that takes
LOOKUP_ONE_BY_ONE = 20  # more members than this: one users.list sweep instead of a users.info each
CIRCLE_PAUSING_ERRORS = {"channel_not_found", "is_archived", "not_in_channel"}


@dataclass
class CircleReport:
    opened: int = 0
    reminded: int = 0
    closed: int = 0


class CircleRunner:
    def __init__(
        self,
        db: Database,
        slack: SlackGateway,
        users: UserDirectory,
        *,
        clock: Callable[[], datetime],
        pacer: PostPacer | None = None,
        grace: timedelta = timedelta(hours=12),
        workers: int = 8,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.db, self.slack, self.users, self.clock = db, slack, users, clock
        self.heartbeat = heartbeat or Heartbeat(db, lease=OPENING_LEASE, clock=clock)
        self.pacer = pacer or PostPacer()
        self.grace = grace
        self.workers = workers

    def run_due(self) -> CircleReport:
        now = self.clock()
        report = CircleReport()
        with self.db.snapshot() as session:
            live = queries.live_circles(session)
            to_resume = queries.stale_openings(session, now)
        for circle in live:
            if circle.paused_reason is not None:
                continue
            cadence = circles.cadence_of(circle)
            fired = cadence.latest_at_or_before(now)
            if fired is None or fired < circle.updated_at or now - fired > self.grace:
                continue
            period = cadence.period_key(fired)
            if period != circle.last_period and (round_id := self._claim(circle, period, fired, now)) is not None:
                self._start(round_id)
                report.opened += 1
        for round_id in to_resume:
            with self.db.transaction() as session:
                resumed = queries.take_over_opening(session, round_id, now, now + OPENING_LEASE, self.heartbeat.holder)
            if resumed:
                self._start(round_id)
        with self.db.snapshot() as session:
            to_remind, to_close = queries.rounds_to_remind(session, now), queries.rounds_to_close(session, now)
        for round_id in to_close:
            report.closed += self.close(round_id)
        for round_id in to_remind:
            if round_id not in to_close:
                report.reminded += self._remind(round_id, now)
        return report

    def open_now(self, circle_id: int) -> int | None:
        """Open a round right away (owner or admin asked); None when one is open already."""
        now = self.clock()
        with self.db.snapshot() as session:
            circle = session.get(Circle, circle_id)
            assert circle is not None
            if queries.open_round_of(session, circle_id) is not None:
                return None
        round_id = self._claim(circle, f"now:{now.isoformat()}", now, now, move_period=False)
        if round_id is not None:
            self._start(round_id)
        return round_id

    # -- opening -------------------------------------------------------------------------------

    def _claim(
        self, circle: Circle, period: str, due: datetime, now: datetime, *, move_period: bool = True
    ) -> int | None:
        with self.db.transaction() as session:
            if move_period:
                session.get(Circle, circle.id).last_period = period  # type: ignore[union-attr]
            opened = queries.open_round(
                session,
                team_id=circle.team_id,
                circle_id=circle.id,
                period=period,
                due_at=due,
                remind_at=due + timedelta(minutes=circle.reminder_minutes),
                closes_at=due + timedelta(minutes=circle.window_minutes),
                channel_id=circle.channel_id,
                lease_until=now + OPENING_LEASE,
                lease_holder=self.heartbeat.holder,
            )
            return None if opened is None else opened.id

    def _start(self, round_id: int) -> None:
        with self.heartbeat.holding(queries.renew_openings, round_id):
            self._open(round_id)

    def _open(self, round_id: int) -> None:
        with self.db.snapshot() as session:
            round_ = session.get(CircleRound, round_id)
            assert round_ is not None
            circle = session.get(Circle, round_.circle_id)
            assert circle is not None
        if round_.thread_ts is None:
            text, blocks = round_header(circle, round_)
            posted = self.slack.post(round_.channel_id, text, blocks)
            if isinstance(posted, Failed):
                self._channel_failed(circle, round_, posted.error)
                return
            with self.db.transaction() as session:
                session.get(CircleRound, round_id).thread_ts = posted.ts  # type: ignore[union-attr]
        self._enrol(circle, round_)
        with self.db.snapshot() as session:
            pending = [
                p.user_id for p in queries.participants(session, round_id) if p.status == "invited" and not p.dm_ts
            ]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="circle-dm") as pool:
            list(pool.map(lambda user_id: self._invite(circle, round_, user_id), pending))
        with self.db.transaction() as session:
            queries.advance_round(session, round_id, "opening", "open", lease_until=None)
        log.info(
            "circle round opened team=%s circle=%s round=%s invited=%s",
            circle.team_id,
            circle.id,
            round_id,
            len(pending),
        )

    def _enrol(self, circle: Circle, round_: CircleRound) -> None:
        """Decide each member's place in the round once, before any DM goes out."""
        with self.db.snapshot() as session:
            members = queries.members(session, circle.id)
            known = {p.user_id for p in queries.participants(session, round_.id)}
        if len(members) - len(known) > LOOKUP_ONE_BY_ONE:
            self.users.load_all()
        for membership in members:
            if membership.user_id in known:
                continue
            person = self.users.get(membership.user_id)
            with self.db.transaction() as session:
                current = queries.member(session, circle.id, membership.user_id)
                if current is None:
                    continue
                if current.skip_rounds > 0:
                    status = "paused"
                    if queries.add_participant(session, round_, current.user_id, status):
                        current.skip_rounds -= 1
                    continue
                status = "unreachable" if person is not None and person.deleted else "invited"
                queries.add_participant(session, round_, current.user_id, status)

    def _invite(self, circle: Circle, round_: CircleRound, user_id: str) -> None:
        text, blocks = checkin_dm(circle, round_)
        self.pacer.wait(user_id)
        sent = self.slack.post(user_id, text, blocks)
        with self.db.transaction() as session:
            participant = queries.participant(session, round_.id, user_id)
            assert participant is not None
            if isinstance(sent, Failed):
                # DMs closed, cannot_dm_bot, a deactivated account: skip this person, not the round.
                log.warning(
                    "check-in DM failed team=%s user=%s round=%s error=%s",
                    circle.team_id,
                    user_id,
                    round_.id,
                    sent.error,
                )
                participant.status = "unreachable"
            else:
                participant.dm_channel_id, participant.dm_ts = sent.channel, sent.ts

    def _channel_failed(self, circle: Circle, round_: CircleRound, error: str) -> None:
        with self.db.transaction() as session:
            queries.advance_round(session, round_.id, "opening", "closed", closed_at=self.clock())
            if error in CIRCLE_PAUSING_ERRORS:
                session.get(Circle, circle.id).paused_reason = error  # type: ignore[union-attr]
        log.warning("circle %s round %s could not open: %s", circle.id, round_.id, error)
        if error in CIRCLE_PAUSING_ERRORS:
            self.slack.tell(
                circle.owner_id,
                f":pause_button: I paused the circle “{circle.name}”: I can't post in <#{circle.channel_id}> "
                f"(`{error}`). Fix that (unarchive it, or `/invite @Peerlearn`), then `/circle edit {circle.name}` "
                "to resume or pick another channel.",
            )

    # -- reminding and closing ---------------------------------------------------------------

    def _remind(self, round_id: int, now: datetime) -> int:
        with self.db.transaction() as session:
            if not queries.claim_reminders(session, round_id, now):
                return 0
            round_ = session.get(CircleRound, round_id)
            assert round_ is not None
            circle = session.get(Circle, round_.circle_id)
            assert circle is not None
            waiting = [p.user_id for p in queries.participants(session, round_id) if p.status == "invited" and p.dm_ts]
        text, blocks = reminder_dm(circle, round_)

        def remind(user_id: str) -> None:
            self.pacer.wait(user_id)
            self.slack.post(user_id, text, blocks)

        with ThreadPoolExecutor(self.workers, thread_name_prefix="circle-dm") as pool:
            list(pool.map(remind, waiting))
        return 1

    def close(self, round_id: int) -> int:
        now = self.clock()
        with self.db.transaction() as session:
            if not queries.advance_round(session, round_id, "open", "closing"):
                return 0
            round_ = session.get(CircleRound, round_id)
            assert round_ is not None
            circle = session.get(Circle, round_.circle_id)
            assert circle is not None
            taking_part = queries.participants(session, round_id)
            streaks: dict[str, int] = {}
            for participant in taking_part:
                membership = queries.member(session, circle.id, participant.user_id)
                if membership is None:
                    continue
                membership.streak = circles.next_streak(membership.streak, participant.status)
                if participant.status == "answered":
                    membership.last_answered_at = participant.answered_at
                streaks[participant.user_id] = membership.streak
            answers = {p.user_id: json.loads(p.answers) for p in taking_part if p.answers}
            invited = [p.user_id for p in taking_part if p.status in ("invited", "answered")]
        text, blocks = round_summary(circle, invited, answers, streaks)
        if round_.thread_ts:
            self.slack.post(round_.channel_id, text, blocks, thread_ts=round_.thread_ts)
        with self.db.transaction() as session:
            queries.advance_round(session, round_id, "closing", "closed", closed_at=now)
        log.info(
            "circle round closed team=%s circle=%s round=%s answered=%s/%s",
            circle.team_id,
            circle.id,
            round_id,
            len(answers),
            len(invited),
        )
        return 1
