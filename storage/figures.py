"""The workspace's activity per week, for the admins' figures: one grouped query per figure.

`bounds` are the weeks' edges in time order (n + 1 of them for n weeks, UTC-aware); every query
reads only the rows between the first and the last edge, through an index starting with the team,
and puts each row in its week with one CASE, so eight weeks or fifty-two cost one query each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal, select, union_all
from sqlalchemy.orm import Session

from storage.models import (
    CircleRound,
    PairingGroup,
    PairingRound,
    ParticipantStatus,
    Question,
    RoundParticipant,
    RoundState,
    Tip,
    TipVote,
)


def _week_of(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """The index of the week a timestamp falls in (rows are filtered to the weeks first): a CASE
    nested as a binary search, so a row costs log2(weeks) comparisons, not up to one per week."""

    def within(low: int, high: int) -> ColumnElement[int]:  # the week among weeks low..high-1
        if high - low == 1:
            return literal(low)
        middle = (low + high) // 2
        return case((column < bounds[middle], within(low, middle)), else_=within(middle, high))

    return within(0, len(bounds) - 1)


def _within(column: Any, bounds: Sequence[datetime]) -> ColumnElement[bool]:
    return and_(column >= bounds[0], column < bounds[-1])


def _per_week(rows: Any, weeks: int) -> list[int]:
    counts = [0] * weeks
    for week, count in rows:
        if 0 <= week < weeks:
            counts[week] = int(count or 0)
    return counts


def tips_shared(session: Session, team_id: str, bounds: Sequence[datetime]) -> list[int]:
    week = _week_of(Tip.created_at, bounds).label("week")
    query = select(week, func.count()).where(Tip.team_id == team_id, _within(Tip.created_at, bounds)).group_by(week)
    return _per_week(session.execute(query), len(bounds) - 1)


def people_active(session: Session, team_id: str, bounds: Sequence[datetime]) -> list[int]:
    """Distinct people who shared a tip or gave a helpful vote, each week."""
    shared = select(_week_of(Tip.created_at, bounds).label("week"), Tip.author_id.label("person")).where(
        Tip.team_id == team_id, _within(Tip.created_at, bounds)
    )
    voted = select(_week_of(TipVote.created_at, bounds).label("week"), TipVote.user_id.label("person")).where(
        TipVote.team_id == team_id, _within(TipVote.created_at, bounds)
    )
    both = union_all(shared, voted).subquery()
    query = select(both.c.week, func.count(distinct(both.c.person))).group_by(both.c.week)
    return _per_week(session.execute(query), len(bounds) - 1)


def check_ins(session: Session, team_id: str, bounds: Sequence[datetime]) -> tuple[list[int], list[int]]:
    """Per week of the rounds' dates: (check-ins answered, check-ins asked for). People sitting a
    round out or unreachable are not asked; a round still opening is not counted yet. Counted per
    round first, so only the rounds (not each participant) are put in their week."""
    answered = func.sum(case((RoundParticipant.status == ParticipantStatus.ANSWERED, 1), else_=0))
    per_round = (
        select(CircleRound.due_at.label("due_at"), answered.label("answered"), func.count().label("asked"))
        .select_from(CircleRound)
        .join(RoundParticipant, RoundParticipant.round_id == CircleRound.id)
        .where(
            CircleRound.team_id == team_id,
            _within(CircleRound.due_at, bounds),
            CircleRound.status.in_((RoundState.OPEN, RoundState.CLOSING, RoundState.CLOSED)),
            RoundParticipant.status.in_((ParticipantStatus.INVITED, ParticipantStatus.ANSWERED)),
        )
        .group_by(CircleRound.id, CircleRound.due_at)
        .subquery()
    )
    week = _week_of(per_round.c.due_at, bounds).label("week")
    query = select(week, func.sum(per_round.c.answered), func.sum(per_round.c.asked)).group_by(week)
    rows = list(session.execute(query))
    weeks = len(bounds) - 1
    return _per_week(((w, a) for w, a, _ in rows), weeks), _per_week(((w, n) for w, _, n in rows), weeks)


def pairs_met(session: Session, team_id: str, bounds: Sequence[datetime]) -> list[int]:
    """Groups of the week's pairing rounds that said they met."""
    week = _week_of(PairingRound.created_at, bounds).label("week")
    query = (
        select(week, func.count())
        .select_from(PairingRound)
        .join(PairingGroup, PairingGroup.round_id == PairingRound.id)
        .where(
            PairingRound.team_id == team_id,
            _within(PairingRound.created_at, bounds),
            PairingGroup.outcome == "met",
        )
        .group_by(week)
    )
    return _per_week(session.execute(query), len(bounds) - 1)


ANSWERED_STATES = ("answered", "answered_by_tip")  # bot/questions/rules.py's ANSWERED and ANSWERED_BY_TIP


def questions_answered(session: Session, team_id: str, bounds: Sequence[datetime]) -> list[int]:
    """Questions answered each week (by a tip the asker said answered it, or by a reply they
    accepted), in the week of the answer, not of the asking."""
    week = _week_of(Question.answered_at, bounds).label("week")
    query = (
        select(week, func.count())
        .where(
            Question.team_id == team_id,
            Question.state.in_(ANSWERED_STATES),
            Question.answered_at.is_not(None),
            _within(Question.answered_at, bounds),
        )
        .group_by(week)
    )
    return _per_week(session.execute(query), len(bounds) - 1)
