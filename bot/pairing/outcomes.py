"""Closing the loop on a round: people answer *We met* / *Not yet* / *Skip*, groups that have not
answered get one follow-up halfway, and at the end unanswered groups are recorded as unknown.

Only a member of the group, within the request's team, can answer for it; the answer counts while
the round is open. Three rounds in a row without an answer pause a person (they are told how to
resume). Follow-ups go out at most once per group (a compare-and-set before the post), closing
once per round (compare-and-set on its status).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.pairing import round_blocks
from bot.pairing.delivery import Delivery
from bot.slack.acting import acting_for
from bot.slack.gateway import SlackGateway
from storage import pairing as profile_queries
from storage import pairing_rounds as queries
from storage.db import Database
from storage.models import PairingRound

log = logging.getLogger(__name__)

AUTO_PAUSE = timedelta(days=365)  # until they resume: three rounds ignored say they are not there
STRAGGLER_AGE = timedelta(minutes=10)  # a round's own start delivers; the tick only picks up what a crash left
OUTCOMES = ("met", "not_yet", "skipped")


@dataclass(frozen=True)
class Answer:
    recorded: bool
    message: str  # what to tell the person who clicked


def answer(db: Database, team_id: str, user_id: str, group_id: int, outcome: str, now: datetime) -> Answer:
    """Record a member's answer for their group; anyone else is refused at the change."""
    if outcome not in OUTCOMES:
        return Answer(False, "That button is not one I know.")
    with db.transaction() as session:
        group = queries.group_in_team(session, team_id, group_id)
        if group is None or user_id not in group.members.split():
            return Answer(False, "That pairing is not one of yours.")
        round_ = session.get(PairingRound, group.round_id)
        if round_ is None or round_.status != "open":
            return Answer(False, "That round is over; you'll hear about the next one.")
        queries.answer(session, group.id, user_id, outcome, now)
        # An answer says they are there: met counts for the whole group, other answers for the one who gave it.
        profile_queries.reset_missed(session, team_id, group.members.split() if outcome == "met" else [user_id])
    return Answer(True, round_blocks.answered(outcome, user_id)[0])


class RoundKeeper:
    """What the scheduler's tick does for open rounds: stragglers, follow-ups, closings."""

    def __init__(
        self,
        db: Database,
        slack: SlackGateway,
        *,
        clock: Callable[[], datetime],
        served: Callable[[str], bool] | None = None,
    ) -> None:
        self.db = db
        self.slack = slack
        self.clock = clock
        self.served = served  # whether a workspace is (still) installed; None: every stored one
        self.delivery = Delivery(db, slack, clock=clock)

    def run_due(self) -> None:
        now = self.clock()
        with self.db.snapshot() as session:
            stragglers = queries.rounds_with_undelivered(session, now - STRAGGLER_AGE)
            follow_ups = queries.rounds_due(session, now, "follow_up")
            closings = queries.rounds_due(session, now, "close")
        for round_id in stragglers:
            self._each(round_id, "deliver", self.delivery.deliver)
        for round_ in follow_ups:
            self._each(round_.id, "follow up", self.follow_up)
        for round_ in closings:
            self._each(round_.id, "close", self.close)

    def _each(self, round_id: int, step: str, action: Callable[[int], None]) -> None:
        try:
            with self.db.snapshot() as session:
                round_ = session.get(PairingRound, round_id)
                team_id = round_.team_id if round_ is not None else None
            if team_id is None or (self.served is not None and not self.served(team_id)):
                return  # gone, or its workspace uninstalled: the round waits for a reinstall
            with acting_for(team_id):
                action(round_id)
        except Exception:  # one round's trouble never stops the others; the next tick tries again
            log.exception("pairing round=%s: %s failed", round_id, step)

    def follow_up(self, round_id: int) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            if not queries.mark_followed_up(session, round_id, now):
                return
            groups = [g for g in queries.groups_of(session, round_id) if g.outcome in ("pending", "not_yet")]
        for group in groups:
            if group.conversation_id is None or group.message_ts is None:
                continue
            with self.db.transaction() as session:
                if not queries.claim_follow_up(session, group.id, now):
                    continue
            text, blocks = round_blocks.follow_up(group.id)
            self.slack.post(group.conversation_id, text, blocks)

    def close(self, round_id: int) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            round_ = session.get(PairingRound, round_id)
            unanswered = queries.close(session, round_id, now)
            silent = sorted({m for g in unanswered if g.message_ts for m in g.members.split()})
            paused = profile_queries.count_missed(session, round_.team_id, silent, now) if round_ and silent else []
            if round_ is not None and paused:
                profile_queries.pause_people(session, round_.team_id, paused, now + AUTO_PAUSE, now)
        for user_id in paused:
            self.slack.tell(
                user_id,
                ":double_vertical_bar: You haven't answered your last 3 pairing rounds, so I've paused you. "
                "`/mentor resume` brings you back whenever you like.",
            )
        if unanswered:
            log.info("pairing round=%s closed: %s group(s) never answered", round_id, len(unanswered))
