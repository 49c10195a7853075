"""Check-in rounds: opened, reminded and closed exactly once each, under restarts and several schedulers.

- *Open*: insert the round (unique per circle and period) in the transaction that moves the
  circle's `last_period`; post the header; record every member's place in the round (invited,
  paused, unreachable) before any DM; DM only those with no DM recorded; then mark it open.
  While it opens, the process's heartbeat renews its short lease (storage/leases.py); a crash
  mid-way leaves an `opening` round whose lease runs out; the next tick resumes it without a second
  header or a second DM to anyone already recorded.
- *Remind*: whoever sets `reminded_at` (compare-and-set) sends the reminders (bot/circles/closing.py).
- *Close*: whoever moves `open` to `closing` posts the summary and updates the streaks (the same).

One bad item never stops the others: each circle and round is run through `CircleFailures`
(bot/circles/failures.py), each member in a try of its own (a failed DM skips that person).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.circles import closing
from bot.circles import rules as circles
from bot.circles.failures import PAUSED_BY_SETTINGS, CircleFailures
from bot.circles.messages import checkin_dm, round_header
from bot.slack.acting import acting_for, carrying_team
from bot.slack.conversations import ChannelReaders, open_group
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.ratelimits import RateLimited
from bot.slack.results import Failed, Posted
from bot.slack.users import Person, UserDirectory
from bot.uninstalled import pause_uninstalled
from storage import circles as queries
from storage.db import Database
from storage.leases import SCHEDULER_LEASE, Heartbeat
from storage.models import Circle, CircleRound, ParticipantStatus, RoundState

log = logging.getLogger(__name__)

# A check-in DM being sent: kept on its participant before the post, so a run that died around the
# post is known, and its successor looks in the app's DM (by this metadata) before sending again.
SENDING = "sending"
CHECKIN_EVENT = "peerlearn_checkin"
OPENING_LEASE = SCHEDULER_LEASE  # renewed while the round opens, however long that takes
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
        served: Callable[[str], bool] | None = None,
    ) -> None:
        self.db, self.slack, self.users, self.clock = db, slack, users, clock
        self.served = served  # whether a workspace is (still) installed; None: every stored one
        self.heartbeat = heartbeat or Heartbeat(db, lease=OPENING_LEASE, clock=clock)
        self.pacer = pacer or PostPacer()
        self.grace = grace
        self.workers = workers
        self.failures = CircleFailures(db, slack, clock)

    def run_due(self) -> CircleReport:
        now = self.clock()
        report = CircleReport()
        with self.db.snapshot() as session:
            live = queries.live_circles(session)
            to_resume = queries.stale_openings(session, now)
        uninstalled: set[str] = set()
        for circle in live:
            if circle.paused_reason is not None:
                continue
            if not self._installed(circle.team_id):
                uninstalled.add(circle.team_id)
                continue
            with acting_for(circle.team_id):
                report.opened += self.failures.guarded(circle.id, None, "open", self._open_if_due, circle, now)
        for team_id in uninstalled:  # paused until the app is installed there again
            self.failures.guarded(None, None, "pause", _paused_uninstalled, self.db, team_id)
        for round_id in to_resume:
            with self._acting_for_round(round_id) as installed:
                if installed:
                    self.failures.guarded(None, round_id, "open", self._resume, round_id, now)
        with self.db.snapshot() as session:
            to_remind, to_close = queries.rounds_to_remind(session, now), queries.rounds_to_close(session, now)
        for round_id in to_close:
            with self._acting_for_round(round_id) as installed:
                if installed:
                    report.closed += self.failures.guarded(
                        None, round_id, "close", closing.close, self.db, self.slack, round_id, self.clock()
                    )
        for round_id in to_remind:
            if round_id in to_close:
                continue
            with self._acting_for_round(round_id) as installed:
                if installed:
                    report.reminded += self.failures.guarded(
                        None, round_id, "remind", closing.remind, self.db, self.slack, self.pacer, round_id, now,
                        workers=self.workers,
                    )  # fmt: skip
        return report

    def _installed(self, team_id: str) -> bool:
        return self.served is None or self.served(team_id)

    @contextmanager
    def _acting_for_round(self, round_id: int) -> Iterator[bool]:
        """Act for the round's workspace; False (nothing to do) when it is no longer installed: the
        round waits, its circle paused, for a reinstall."""
        with self.db.snapshot() as session:
            round_ = session.get(CircleRound, round_id)
            team_id = round_.team_id if round_ is not None else None
        with acting_for(team_id):
            yield team_id is not None and self._installed(team_id)

    def _open_if_due(self, circle: Circle, now: datetime) -> int:
        if problem := circles.settings_problem(circle):
            self.failures.pause(circle.id, PAUSED_BY_SETTINGS, f"its settings have {problem}")
            return 0
        cadence = circles.cadence_of(circle)
        fired = cadence.latest_at_or_before(now)
        if fired is None or fired < circle.updated_at or now - fired > self.grace:
            return 0
        period = cadence.period_key(fired)
        if period == circle.last_period or (round_id := self._claim(circle, period, fired, now)) is None:
            return 0
        self._start(round_id)
        return 1

    def _resume(self, round_id: int, now: datetime) -> int:
        with self.db.transaction() as session:
            resumed = queries.take_over_opening(session, round_id, now, now + OPENING_LEASE, self.heartbeat.holder)
        if resumed:
            self._start(round_id)
        return 0

    def open_now(self, circle_id: int, key: str) -> int | None:  # for a request: acting for its workspace
        """Open a round right away (owner or admin asked); None when one is under way already.

        The request's key names the round, so a rerun of the same request opens nothing new.
        """
        now = self.clock()
        period = f"now:{key}"[:64]
        with self.db.snapshot() as session:
            circle = session.get(Circle, circle_id)
            assert circle is not None
            if (mine := queries.round_of_period(session, circle_id, period)) is not None:
                return mine.id  # opened by an earlier run of this request (a stale opening resumes by tick)
            if queries.running_round_of(session, circle_id) is not None:
                return None
        round_id = self._claim(circle, period, now, now, move_period=False)
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
                p.user_id
                for p in queries.participants(session, round_id)
                if p.status == ParticipantStatus.INVITED and (not p.dm_ts or p.dm_ts == SENDING)
            ]

        def invite(user_id: str) -> None:
            self._invite(circle, round_, user_id)

        with ThreadPoolExecutor(self.workers, thread_name_prefix="circle-dm") as pool:
            list(pool.map(carrying_team(invite), pending))
        with self.db.transaction() as session:
            queries.advance_round(session, round_id, RoundState.OPENING, RoundState.OPEN, lease_until=None)
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
        # One users.info each for a few, users.list pages for many: the directory picks the cheaper.
        people = self.users.lookup([m.user_id for m in members if m.user_id not in known])
        outside = self._outside_private_channel(round_, [m.user_id for m in members if m.user_id not in known])
        for membership in members:
            if membership.user_id in known:
                continue
            person = people.get(membership.user_id)
            try:
                self._enrol_one(circle, round_, membership.user_id, person, membership.user_id in outside)
            except RateLimited:  # (in a job) the enrolment again after the Retry-After
                raise
            except Exception:  # this member is left out of the round, not the others
                log.exception(
                    "check-in enrolment failed team=%s circle=%s round=%s user=%s",
                    circle.team_id, circle.id, round_.id, membership.user_id,
                )  # fmt: skip

    def _outside_private_channel(self, round_: CircleRound, user_ids: list[str]) -> set[str]:
        """Members not (or no longer) in the round's private channel: not asked its questions. When
        Slack can't list its members, nobody is left out (their answers are still checked before
        anything is posted in the channel, bot/circles/checkins.py)."""
        readers = ChannelReaders(self.slack)
        outside = {user_id for user_id in user_ids if readers.may_read(user_id, round_.channel_id) is False}
        if outside:
            log.info("check-in round=%s leaves out %s member(s) not in its private channel", round_.id, len(outside))
        return outside

    def _enrol_one(
        self, circle: Circle, round_: CircleRound, user_id: str, person: Person | None, outside: bool = False
    ) -> None:
        with self.db.transaction() as session:
            current = queries.member(session, circle.id, user_id)
            if current is None:
                return
            if current.skip_rounds > 0:
                if queries.add_participant(session, round_, current.user_id, ParticipantStatus.PAUSED):
                    current.skip_rounds -= 1
                return
            deleted = person is not None and person.deleted
            status = ParticipantStatus.UNREACHABLE if deleted or outside else ParticipantStatus.INVITED
            queries.add_participant(session, round_, current.user_id, status)

    def _invite(self, circle: Circle, round_: CircleRound, user_id: str) -> None:
        try:
            self._invite_one(circle, round_, user_id)
        except RateLimited:  # (in a job) the DMs again after the Retry-After: those sent are found
            raise
        except Exception:  # this member misses the DM; the others still get theirs
            log.exception(
                "check-in DM failed team=%s circle=%s round=%s user=%s", circle.team_id, circle.id, round_.id, user_id
            )

    def _invite_one(self, circle: Circle, round_: CircleRound, user_id: str) -> None:
        with self.db.transaction() as session:
            participant = queries.participant(session, round_.id, user_id)
            assert participant is not None
            resuming = participant.dm_ts == SENDING  # an earlier run died around this DM's post
            participant.dm_ts = SENDING
        if resuming and (found := self._already_sent(round_, user_id)) is not None:
            self._record_dm(round_, user_id, found)
            return
        text, blocks = checkin_dm(circle, round_)
        self.pacer.wait(user_id)
        metadata = {"event_type": CHECKIN_EVENT, "event_payload": {"round_id": round_.id, "user_id": user_id}}
        sent = self.slack.post(user_id, text, blocks, metadata=metadata)
        if isinstance(sent, Failed):
            # DMs closed, cannot_dm_bot, a deactivated account: skip this person, not the round.
            log.warning(
                "check-in DM failed team=%s user=%s round=%s error=%s", circle.team_id, user_id, round_.id, sent.error
            )
        self._record_dm(round_, user_id, sent)

    def _already_sent(self, round_: CircleRound, user_id: str) -> Posted | None:
        """The check-in DM an earlier run sent before it died, found by its metadata in the app's DM."""
        channel = open_group(self.slack, [user_id])
        if isinstance(channel, Failed):
            return None
        found = self.slack.find_by_metadata(channel, CHECKIN_EVENT, "round_id", round_.id)
        return found if isinstance(found, Posted) else None

    def _record_dm(self, round_: CircleRound, user_id: str, sent: Posted | Failed) -> None:
        with self.db.transaction() as session:
            participant = queries.participant(session, round_.id, user_id)
            assert participant is not None
            if isinstance(sent, Failed):
                participant.status, participant.dm_ts = ParticipantStatus.UNREACHABLE, None
            else:
                participant.dm_channel_id, participant.dm_ts = sent.channel, sent.ts

    def _channel_failed(self, circle: Circle, round_: CircleRound, error: str) -> None:
        with self.db.transaction() as session:
            queries.advance_round(session, round_.id, RoundState.OPENING, RoundState.CLOSED, closed_at=self.clock())
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


def _paused_uninstalled(db: Database, team_id: str) -> int:
    pause_uninstalled(db, team_id)
    return 0
