"""Queries over pairing rounds, their groups and outcomes. Plain values in, rows out; no Slack here."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import PairingGroup, PairingLeftOut, PairingMember, PairingRound
from storage.pairing import has_word
from storage.upsert import insert_if_absent

MET = "met"
PENDING = "pending"
UNKNOWN = "unknown"


def claim_round(session: Session, values: dict[str, Any]) -> PairingRound | None:
    """The round for (team, channel, period), created now; None if it already exists (the database decides)."""
    round_id = insert_if_absent(session, PairingRound, values, ["team_id", "channel_id", "period"])
    return None if round_id is None else session.get(PairingRound, round_id)


def round_for(session: Session, team_id: str, channel_id: str, period: str) -> int | None:
    query = select(PairingRound.id).where(
        PairingRound.team_id == team_id, PairingRound.channel_id == channel_id, PairingRound.period == period
    )
    return session.scalar(query)


@dataclass(frozen=True)
class RoundCounts:
    groups: int
    trios: int
    people: int


def round_counts(session: Session, team_id: str, channel_id: str, period: str) -> RoundCounts:
    round_id = round_for(session, team_id, channel_id, period)
    groups = groups_of(session, round_id) if round_id is not None else []
    sizes = [len(g.members.split()) for g in groups if g.problem is None]
    return RoundCounts(groups=len(sizes), trios=sum(size > 2 for size in sizes), people=sum(sizes))


def mark_told(session: Session, round_id: int, user_id: str, now: datetime) -> None:
    session.execute(
        update(PairingLeftOut)
        .where(PairingLeftOut.round_id == round_id, PairingLeftOut.user_id == user_id)
        .values(told_at=now)
    )


def claim_report(session: Session, round_id: int, now: datetime) -> PairingRound | None:
    """Compare-and-set: the round, if this process is the one to send its summary."""
    changed = session.execute(
        update(PairingRound)
        .where(PairingRound.id == round_id, PairingRound.reported_at.is_(None))
        .values(reported_at=now)
    )
    return session.get(PairingRound, round_id) if changed.rowcount else None  # type: ignore[attr-defined]


def claim_follow_up(session: Session, group_id: int, now: datetime) -> bool:
    """Compare-and-set on the group: its follow-up goes out at most once."""
    changed = session.execute(
        update(PairingGroup)
        .where(PairingGroup.id == group_id, PairingGroup.followed_up_at.is_(None))
        .values(followed_up_at=now)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def record_groups(
    session: Session,
    round_: PairingRound,
    groups: Sequence[dict[str, Any]],
    left_out: Iterable[tuple[str, str]],
) -> list[PairingGroup]:
    """Every group and member of the round, and who was left out, before anyone is messaged."""
    rows = []
    for values in groups:
        group = PairingGroup(team_id=round_.team_id, round_id=round_.id, **values)
        session.add(group)
        rows.append(group)
    session.flush()
    for group in rows:
        for user_id in group.members.split():
            session.add(PairingMember(group_id=group.id, user_id=user_id, team_id=round_.team_id, round_id=round_.id))
    for user_id, reason in left_out:
        session.add(PairingLeftOut(round_id=round_.id, user_id=user_id, team_id=round_.team_id, reason=reason))
    session.flush()
    return rows


def groups_of(session: Session, round_id: int) -> list[PairingGroup]:
    return list(
        session.scalars(select(PairingGroup).where(PairingGroup.round_id == round_id).order_by(PairingGroup.id))
    )


def left_out_of(session: Session, round_id: int) -> list[PairingLeftOut]:
    query = select(PairingLeftOut).where(PairingLeftOut.round_id == round_id).order_by(PairingLeftOut.user_id)
    return list(session.scalars(query))


def group_in_team(session: Session, team_id: str, group_id: int) -> PairingGroup | None:
    group = session.get(PairingGroup, group_id)
    return group if group is not None and group.team_id == team_id else None


def met_pairs(session: Session, team_id: str, channel_id: str, last_rounds: int) -> set[tuple[str, str]]:
    """Pairs that met in the channel's last `last_rounds` rounds (all rounds when None)."""
    rounds = select(PairingRound.id).where(PairingRound.team_id == team_id, PairingRound.channel_id == channel_id)
    recent = rounds.order_by(PairingRound.id.desc()).limit(last_rounds).scalar_subquery()
    return _pairs(
        session, select(PairingGroup.members).where(PairingGroup.outcome == MET, PairingGroup.round_id.in_(recent))
    )


def ever_met_pairs(session: Session, team_id: str, user_ids: Iterable[str]) -> set[tuple[str, str]]:
    """Pairs among `user_ids` who met through any round of the workspace."""
    wanted = set(user_ids)
    query = select(PairingGroup.members).where(PairingGroup.team_id == team_id, PairingGroup.outcome == MET)
    return {pair for pair in _pairs(session, query) if pair[0] in wanted and pair[1] in wanted}


def _pairs(session: Session, query: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for members in session.scalars(query):
        people = sorted(members.split())
        found.update((a, b) for i, a in enumerate(people) for b in people[i + 1 :])
    return found


def set_message(
    session: Session, group_id: int, conversation_id: str | None, message_ts: str | None, problem: str | None
) -> None:
    session.execute(
        update(PairingGroup)
        .where(PairingGroup.id == group_id)
        .values(conversation_id=conversation_id, message_ts=message_ts, problem=problem)
    )


def answer(session: Session, group_id: int, user_id: str, outcome: str, now: datetime) -> bool:
    """Record a member's answer for their group; False when it was already closed as unknown."""
    changed = session.execute(
        update(PairingGroup)
        .where(PairingGroup.id == group_id, PairingGroup.outcome != UNKNOWN)
        .values(outcome=outcome, answered_by=user_id, answered_at=now)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def current_group(session: Session, team_id: str, user_id: str) -> tuple[PairingRound, PairingGroup] | None:
    """The person's group in their latest open round, if any."""
    query = (
        select(PairingRound, PairingGroup)
        .join(PairingMember, PairingMember.round_id == PairingRound.id)
        .join(PairingGroup, PairingGroup.id == PairingMember.group_id)
        .where(PairingMember.team_id == team_id, PairingMember.user_id == user_id, PairingRound.status == "open")
        .order_by(PairingRound.id.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    return None if row is None else (row[0], row[1])


def past_groups(
    session: Session, team_id: str, user_id: str, limit: int = 5
) -> list[tuple[PairingRound, PairingGroup]]:
    query = (
        select(PairingRound, PairingGroup)
        .join(PairingMember, PairingMember.round_id == PairingRound.id)
        .join(PairingGroup, PairingGroup.id == PairingMember.group_id)
        .where(PairingMember.team_id == team_id, PairingMember.user_id == user_id)
        .order_by(PairingRound.id.desc())
        .limit(limit)
    )
    return [(r, g) for r, g in session.execute(query)]


def rounds_due(session: Session, now: datetime, step: str) -> list[PairingRound]:
    """Open rounds whose follow-up (step "follow_up") or end (step "close") has come."""
    query = select(PairingRound).where(PairingRound.status == "open")
    if step == "follow_up":
        query = query.where(PairingRound.follow_up_at <= now, PairingRound.followed_up_at.is_(None))
    else:
        query = query.where(PairingRound.closes_at <= now)
    query = query.order_by(PairingRound.id).limit(100)
    return list(session.scalars(query))


def rounds_with_undelivered(session: Session, created_before: datetime) -> list[int]:
    """Open rounds with a group neither messaged nor given up on (a crash mid-delivery left them)."""
    query = (
        select(PairingRound.id)
        .join(PairingGroup, PairingGroup.round_id == PairingRound.id)
        .where(
            PairingRound.status == "open",
            PairingRound.created_at <= created_before,
            PairingGroup.message_ts.is_(None),
            PairingGroup.problem.is_(None),
        )
        .distinct()
        .limit(100)
    )
    return list(session.scalars(query))


def mark_followed_up(session: Session, round_id: int, now: datetime) -> bool:
    """Compare-and-set: only one process sends a round's follow-ups."""
    changed = session.execute(
        update(PairingRound)
        .where(PairingRound.id == round_id, PairingRound.followed_up_at.is_(None))
        .values(followed_up_at=now)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def close(session: Session, round_id: int, now: datetime) -> list[PairingGroup]:
    """Compare-and-set the round closed; its unanswered groups become unknown. [] if already closed."""
    changed = session.execute(
        update(PairingRound)
        .where(PairingRound.id == round_id, PairingRound.status == "open")
        .values(status="closed", closed_at=now)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return []
    unanswered = [g for g in groups_of(session, round_id) if g.outcome == PENDING]
    session.execute(
        update(PairingGroup)
        .where(PairingGroup.round_id == round_id, PairingGroup.outcome == PENDING)
        .values(outcome=UNKNOWN)
    )
    return unanswered


def channel_rounds(session: Session, team_id: str, channel_id: str) -> list[PairingRound]:
    query = select(PairingRound).where(PairingRound.team_id == team_id, PairingRound.channel_id == channel_id)
    return list(session.scalars(query.order_by(PairingRound.id)))


def groups_of_rounds(session: Session, round_ids: Sequence[int]) -> list[PairingGroup]:
    if not round_ids:
        return []
    query = (
        select(PairingGroup)
        .where(PairingGroup.round_id.in_(round_ids))
        .order_by(PairingGroup.round_id, PairingGroup.id)
    )
    return list(session.scalars(query))


def round_count(session: Session, team_id: str, channel_id: str) -> int:
    query = (
        select(func.count())
        .select_from(PairingRound)
        .where(PairingRound.team_id == team_id, PairingRound.channel_id == channel_id)
    )
    return int(session.scalar(query) or 0)


def met_on_skills(session: Session, team_id: str, skills: Collection[str]) -> dict[str, dict[str, int]]:
    """{skill: {person: groups they met in that had the skill among what brought them together}}."""
    found: dict[str, dict[str, int]] = {skill: {} for skill in skills}
    if not skills:
        return found
    query = select(PairingGroup.members, PairingGroup.skills).where(
        PairingGroup.team_id == team_id,
        PairingGroup.outcome == MET,
        or_(*(has_word(PairingGroup.skills, skill) for skill in skills)),
    )
    for members, group_skills in session.execute(query.limit(5000)):
        for skill in set(group_skills.split()) & set(skills):
            for user_id in members.split():
                found[skill][user_id] = found[skill].get(user_id, 0) + 1
    return found


def met_between(
    session: Session, team_id: str, channel_id: str | None, start: datetime, end: datetime
) -> tuple[int, int]:
    """(groups that met, of which crossed teams) among rounds started in [start, end)."""
    query = (
        select(func.count(), func.coalesce(func.sum(case((PairingGroup.cross_team, 1), else_=0)), 0))
        .select_from(PairingGroup)
        .join(PairingRound, PairingRound.id == PairingGroup.round_id)
        .where(
            PairingRound.team_id == team_id,
            PairingRound.created_at >= start,
            PairingRound.created_at < end,
            PairingGroup.outcome == MET,
        )
    )
    if channel_id is not None:
        query = query.where(PairingRound.channel_id == channel_id)
    met, cross_team = session.execute(query).one()
    return int(met), int(cross_team)
