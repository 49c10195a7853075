"""Aggregates behind a digest. Each is one indexed query; none loads a period's rows into Python."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from storage.models import ANONYMOUS_AUTHOR, Tip, TipVote


def _tips_in(team_id: str, start: datetime, end: datetime, channel_id: str | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Tip.team_id == team_id, Tip.created_at >= start, Tip.created_at < end]
    if channel_id is not None:
        where.append(Tip.origin_channel_id == channel_id)
    return where


def best_tips_shared(
    session: Session, team_id: str, start: datetime, end: datetime, channel_id: str | None, limit: int
) -> list[Tip]:
    """Tips shared in the period with the most helpful votes (self-votes never exist)."""
    query = (
        select(Tip)
        .where(*_tips_in(team_id, start, end, channel_id), Tip.helpful_count > 0)
        .order_by(Tip.helpful_count.desc(), Tip.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def sharing_counts(
    session: Session, team_id: str, start: datetime, end: datetime, channel_id: str | None
) -> tuple[int, int]:
    """How many tips were shared in the period, and by how many people."""
    query = select(func.count(), func.count(Tip.author_id.distinct())).where(*_tips_in(team_id, start, end, channel_id))
    tips, people = session.execute(query).one()
    return int(tips), int(people)


def top_teachers(
    session: Session, team_id: str, start: datetime, end: datetime, channel_id: str | None, limit: int
) -> list[tuple[str, int]]:
    """Authors whose tips got the most helpful votes during the period."""
    votes = func.count().label("votes")
    query = select(TipVote.author_id, votes).where(
        TipVote.team_id == team_id,
        TipVote.created_at >= start,
        TipVote.created_at < end,
        TipVote.author_id != ANONYMOUS_AUTHOR,  # forgotten authors are nobody's to name
    )
    if channel_id is not None:
        query = query.join(Tip, Tip.id == TipVote.tip_id).where(Tip.origin_channel_id == channel_id)
    query = query.group_by(TipVote.author_id).order_by(votes.desc(), TipVote.author_id).limit(limit)
    return [(author, int(count)) for author, count in session.execute(query)]


def most_helpful_older_tip(
    session: Session,
    team_id: str,
    shared_before: datetime,
    channel_id: str | None,
    exclude_ids: Collection[int],
) -> Tip | None:
    """The most helpful tip shared before the period (the oldest of equals), to resurface."""
    query = select(Tip).where(Tip.team_id == team_id, Tip.created_at < shared_before, Tip.helpful_count > 0)
    if channel_id is not None:
        query = query.where(Tip.origin_channel_id == channel_id)
    if exclude_ids:
        query = query.where(Tip.id.not_in(list(exclude_ids)))
    return session.scalars(query.order_by(Tip.helpful_count.desc(), Tip.created_at, Tip.id).limit(1)).first()
