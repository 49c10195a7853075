"""Queries over circles, their members, rounds and round participants."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Circle,
    CircleMember,
    CircleRound,
    ParticipantStatus,
    RoundParticipant,
    RoundState,
    utcnow,
)
from storage.upsert import insert_if_absent


def circle_named(session: Session, team_id: str, name: str) -> Circle | None:
    query = select(Circle).where(Circle.team_id == team_id, Circle.name_key == name.strip().lower())
    return session.scalars(query).first()


def live_circles(session: Session, team_id: str | None = None) -> list[Circle]:
    query = select(Circle).where(Circle.archived_at.is_(None))
    if team_id is not None:
        query = query.where(Circle.team_id == team_id)
    return list(session.scalars(query.order_by(Circle.name_key)))


def circle_in_team(session: Session, team_id: str, circle_id: int) -> Circle | None:
    circle = session.get(Circle, circle_id)
    return circle if circle is not None and circle.team_id == team_id else None


def circle_created_by(session: Session, team_id: str, key: str) -> Circle | None:
    """The circle a request created (a rerun of its job finds it here)."""
    return session.scalars(select(Circle).where(Circle.team_id == team_id, Circle.created_key == key)).first()


def pause_circle(session: Session, circle_id: int, reason: str) -> bool:
    """Pause a live circle unless it is paused already; True for the caller that paused it."""
    result = session.execute(
        update(Circle)
        .where(Circle.id == circle_id, Circle.paused_reason.is_(None))
        .values(paused_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def circles_of(session: Session, team_id: str, user_id: str) -> list[Circle]:
    """The live circles a person is a member of."""
    query = (
        select(Circle)
        .join(CircleMember, CircleMember.circle_id == Circle.id)
        .where(Circle.team_id == team_id, Circle.archived_at.is_(None), CircleMember.user_id == user_id)
        .order_by(Circle.name_key)
    )
    return list(session.scalars(query))


def circle_names(session: Session, team_id: str) -> list[str]:
    return list(session.scalars(select(Circle.name).where(Circle.team_id == team_id, Circle.archived_at.is_(None))))


def add_circle(session: Session, **values: Any) -> Circle:
    circle = Circle(**values)
    session.add(circle)
    session.flush()
    return circle


def members(session: Session, circle_id: int) -> list[CircleMember]:
    query = select(CircleMember).where(CircleMember.circle_id == circle_id).order_by(CircleMember.joined_at)
    return list(session.scalars(query))


def member(session: Session, circle_id: int, user_id: str) -> CircleMember | None:
    return session.get(CircleMember, (circle_id, user_id))


def add_member(session: Session, circle: Circle, user_id: str) -> bool:
    values = {"circle_id": circle.id, "user_id": user_id, "team_id": circle.team_id, "skip_rounds": 0, "streak": 0}
    return (
        insert_if_absent(session, CircleMember, values | {"joined_at": utcnow()}, ["circle_id", "user_id"]) is not None
    )


def remove_member(session: Session, circle_id: int, user_id: str) -> bool:
    result = session.execute(
        delete(CircleMember).where(CircleMember.circle_id == circle_id, CircleMember.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def member_counts(session: Session, circle_ids: list[int]) -> dict[int, int]:
    if not circle_ids:
        return {}
    query = (
        select(CircleMember.circle_id, func.count())
        .where(CircleMember.circle_id.in_(circle_ids))
        .group_by(CircleMember.circle_id)
    )
    return {circle_id: int(count) for circle_id, count in session.execute(query)}


# -- rounds ----------------------------------------------------------------------------------


def open_round(session: Session, **values: Any) -> CircleRound | None:
    """Insert the round for (circle, period); None when it exists (opened by another run)."""
    row = {"status": RoundState.OPENING, "created_at": utcnow(), **values}
    round_id = insert_if_absent(session, CircleRound, row, ["circle_id", "period"])
    return None if round_id is None else session.get(CircleRound, round_id)


def advance_round(
    session: Session, round_id: int, from_status: RoundState, to_status: RoundState, **values: Any
) -> bool:
    """Compare-and-set a round's status: exactly one caller moves it from one step to the next."""
    result = session.execute(
        update(CircleRound)
        .where(CircleRound.id == round_id, CircleRound.status == from_status)
        .values(status=to_status, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def abandon_round(session: Session, round_id: int, now: datetime) -> bool:
    """Close a round whose opening or closing failed for good, so no tick takes it up again."""
    result = session.execute(
        update(CircleRound)
        .where(CircleRound.id == round_id, CircleRound.status.in_((RoundState.OPENING, RoundState.CLOSING)))
        .values(status=RoundState.CLOSED, closed_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def round_of_period(session: Session, circle_id: int, period: str) -> CircleRound | None:
    query = select(CircleRound).where(CircleRound.circle_id == circle_id, CircleRound.period == period)
    return session.scalars(query).first()


def claim_reminders(session: Session, round_id: int, now: datetime) -> bool:
    result = session.execute(
        update(CircleRound)
        .where(CircleRound.id == round_id, CircleRound.reminded_at.is_(None), CircleRound.status == RoundState.OPEN)
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def rounds_to_remind(session: Session, now: datetime) -> list[int]:
    query = select(CircleRound.id).where(
        CircleRound.status == RoundState.OPEN, CircleRound.reminded_at.is_(None), CircleRound.remind_at <= now
    )
    return list(session.scalars(query))


def rounds_to_close(session: Session, now: datetime) -> list[int]:
    query = select(CircleRound.id).where(CircleRound.status == RoundState.OPEN, CircleRound.closes_at <= now)
    return list(session.scalars(query))


def take_over_opening(
    session: Session, round_id: int, now: datetime, lease_until: datetime, holder: str | None = None
) -> bool:
    """Resume a round whose opener died: compare-and-set on its expired lease."""
    result = session.execute(
        update(CircleRound)
        .where(CircleRound.id == round_id, CircleRound.status == RoundState.OPENING, CircleRound.lease_until < now)
        .values(lease_until=lease_until, lease_holder=holder)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew_openings(session: Session, holder: str, ids: list[Hashable], until: datetime) -> list[int]:
    """The heartbeat: extend the leases of the rounds `holder` is opening; the ids renewed."""
    result = session.execute(
        update(CircleRound)
        .where(CircleRound.id.in_(ids), CircleRound.status == "opening", CircleRound.lease_holder == holder)
        .values(lease_until=until)
        .returning(CircleRound.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def stale_openings(session: Session, now: datetime) -> list[int]:
    query = select(CircleRound.id).where(CircleRound.status == RoundState.OPENING, CircleRound.lease_until < now)
    return list(session.scalars(query))


def open_rounds(session: Session) -> list[CircleRound]:
    return list(
        session.scalars(select(CircleRound).where(CircleRound.status == RoundState.OPEN).order_by(CircleRound.id))
    )


def open_round_of(session: Session, circle_id: int) -> CircleRound | None:
    query = select(CircleRound).where(CircleRound.circle_id == circle_id, CircleRound.status == RoundState.OPEN)
    return session.scalars(query.order_by(CircleRound.due_at.desc())).first()


def running_round_of(session: Session, circle_id: int) -> CircleRound | None:
    """A round of the circle still opening or open."""
    query = select(CircleRound).where(
        CircleRound.circle_id == circle_id, CircleRound.status.in_((RoundState.OPENING, RoundState.OPEN))
    )
    return session.scalars(query.order_by(CircleRound.due_at.desc())).first()


def round_in_team(session: Session, team_id: str, round_id: int) -> CircleRound | None:
    round_ = session.get(CircleRound, round_id)
    return round_ if round_ is not None and round_.team_id == team_id else None


def last_answers(session: Session, circle_id: int) -> dict[str, datetime]:
    query = (
        select(RoundParticipant.user_id, func.max(RoundParticipant.answered_at))
        .join(CircleRound, CircleRound.id == RoundParticipant.round_id)
        .where(CircleRound.circle_id == circle_id, RoundParticipant.answered_at.is_not(None))
        .group_by(RoundParticipant.user_id)
    )
    return {user: answered for user, answered in session.execute(query) if answered is not None}


def add_participant(session: Session, round_: CircleRound, user_id: str, status: ParticipantStatus) -> bool:
    values = {"round_id": round_.id, "user_id": user_id, "team_id": round_.team_id, "status": status}
    return insert_if_absent(session, RoundParticipant, values, ["round_id", "user_id"]) is not None


def participants(session: Session, round_id: int) -> list[RoundParticipant]:
    query = select(RoundParticipant).where(RoundParticipant.round_id == round_id).order_by(RoundParticipant.user_id)
    return list(session.scalars(query))


def participant(session: Session, round_id: int, user_id: str) -> RoundParticipant | None:
    return session.get(RoundParticipant, (round_id, user_id))


def rounds_between(session: Session, team_id: str, start: datetime, end: datetime) -> list[CircleRound]:
    query = select(CircleRound).where(
        CircleRound.team_id == team_id,
        CircleRound.due_at >= start,
        CircleRound.due_at < end,
        CircleRound.status.in_((RoundState.OPEN, RoundState.CLOSING, RoundState.CLOSED)),
    )
    return list(session.scalars(query.order_by(CircleRound.due_at)))


def round_channels_since(session: Session, team_id: str, since: datetime) -> set[str]:
    """The channels the workspace's circle rounds were held in since `since`."""
    query = select(CircleRound.channel_id).where(CircleRound.team_id == team_id, CircleRound.due_at >= since)
    return set(session.scalars(query.distinct()))


def participants_of(session: Session, round_ids: list[int]) -> list[RoundParticipant]:
    if not round_ids:
        return []
    return list(session.scalars(select(RoundParticipant).where(RoundParticipant.round_id.in_(round_ids))))
