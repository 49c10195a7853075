"""Queries over tips and their votes. Plain values in, rows out; no Slack here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import Tip, TipDeletion, TipReaction, TipVote, utcnow
from storage.upsert import insert_if_absent


def insert_tip_once(session: Session, **values: Any) -> tuple[Tip, bool]:
    """The tip made by `values["request_key"]`: inserted now (True), or found from an earlier run (False)."""
    # Looked for first: an insert that conflicts would still have taken the workspace's next number.
    if (existing := tip_for_request(session, values["team_id"], values["request_key"])) is not None:
        return existing, False
    values = {"helpful_count": 0, "created_at": utcnow(), **values}
    tip_id = insert_if_absent(session, Tip, values, ["team_id", "request_key"])
    if tip_id is not None:
        tip = session.get(Tip, tip_id)
        assert tip is not None
        return tip, True
    existing = tip_for_request(session, values["team_id"], values["request_key"])
    assert existing is not None, "the insert conflicted on this key"
    return existing, False


def insert_tip_for_message(session: Session, **values: Any) -> Tip | None:
    """Insert a tip standing for an existing message; None if that message is a tip already."""
    if tip_for_message(session, values["team_id"], values["channel_id"], values["message_ts"]) is not None:
        return None  # looked for first, as above: no number taken for nothing
    values = {"helpful_count": 0, "created_at": utcnow(), **values}
    tip_id = insert_if_absent(session, Tip, values, ["team_id", "channel_id", "message_ts"])
    return None if tip_id is None else session.get(Tip, tip_id)


def tip_for_request(session: Session, team_id: str, request_key: str) -> Tip | None:
    query = select(Tip).where(Tip.team_id == team_id, Tip.request_key == request_key)
    return session.scalars(query).first()


def deletion_for_request(session: Session, team_id: str, request_key: str) -> TipDeletion | None:
    return session.get(TipDeletion, (team_id, request_key))


def was_deleted(session: Session, team_id: str, number: int) -> bool:
    """Whether this workspace's tip number `number` was deleted (asked only when it is not found: no index)."""
    query = select(TipDeletion.tip_id).where(TipDeletion.team_id == team_id, TipDeletion.number == number)
    return session.scalars(query.limit(1)).first() is not None


def record_deletion(session: Session, tip: Tip, request_key: str, deleted_by: str) -> TipDeletion | None:
    """Note the deletion under its request, in the deleting transaction; None if that request did it before."""
    values = {
        "team_id": tip.team_id,
        "request_key": request_key,
        "tip_id": tip.id,
        "number": tip.number,
        "source": tip.source,
        "channel_id": tip.channel_id,
        "message_ts": tip.message_ts,
        "deleted_by": deleted_by,
        "deleted_at": utcnow(),
    }
    if insert_if_absent(session, TipDeletion, values, ["team_id", "request_key"]) is None:
        return None
    return session.get(TipDeletion, (tip.team_id, request_key))


def get_tip(session: Session, team_id: str, tip_id: int) -> Tip | None:
    return session.scalars(select(Tip).where(Tip.team_id == team_id, Tip.id == tip_id)).first()


def tip_by_number(session: Session, team_id: str, number: int) -> Tip | None:
    """The workspace's tip with this number, as people see and type it."""
    return session.scalars(select(Tip).where(Tip.team_id == team_id, Tip.number == number)).first()


def tip_for_message(session: Session, team_id: str, channel_id: str, message_ts: str) -> Tip | None:
    query = select(Tip).where(Tip.team_id == team_id, Tip.channel_id == channel_id, Tip.message_ts == message_ts)
    return session.scalars(query).first()


def tips_by_ids(session: Session, team_id: str, ids: list[int]) -> list[Tip]:
    """Tips in the order of `ids` (the order a ranking query chose)."""
    if not ids:
        return []
    # By primary key only, then the team checked here: with team_id in the WHERE clause SQLite's
    # planner may pick a team index and read every tip of the workspace instead of 10 rows.
    found = {tip.id: tip for tip in session.scalars(select(Tip).where(Tip.id.in_(ids))) if tip.team_id == team_id}
    return [found[i] for i in ids if i in found]


def most_helpful(session: Session, team_id: str, since: datetime | None, limit: int) -> list[Tip]:
    query = select(Tip).where(Tip.team_id == team_id, Tip.helpful_count > 0)
    if since is not None:
        query = query.where(Tip.created_at >= since)
    query = query.order_by(Tip.helpful_count.desc(), Tip.id.desc()).limit(limit)
    return list(session.scalars(query))


def tips_by_author(session: Session, team_id: str, author_id: str, limit: int) -> tuple[list[Tip], int]:
    """The author's newest tips, and how many they have in all."""
    where = (Tip.team_id == team_id, Tip.author_id == author_id)
    tips = session.scalars(select(Tip).where(*where).order_by(Tip.created_at.desc(), Tip.id.desc()).limit(limit))
    total = session.scalar(select(func.count()).select_from(Tip).where(*where)) or 0
    return list(tips), total


def helpful_votes_received(session: Session, team_id: str, author_id: str) -> int:
    query = select(func.coalesce(func.sum(Tip.helpful_count), 0)).where(
        Tip.team_id == team_id, Tip.author_id == author_id
    )
    return int(session.scalar(query) or 0)


def delete_tip(session: Session, tip: Tip) -> None:
    # Explicit deletes rather than relying on ON DELETE CASCADE, which SQLite honours only with
    # foreign_keys=ON on every connection (an operator's sqlite3 shell may not set it).
    session.execute(delete(TipReaction).where(TipReaction.tip_id == tip.id))
    session.execute(delete(TipVote).where(TipVote.tip_id == tip.id))
    session.delete(tip)
    session.flush()


def add_reaction(session: Session, tip: Tip, user_id: str, reaction: str) -> bool:
    values = {"tip_id": tip.id, "user_id": user_id, "reaction": reaction, "team_id": tip.team_id}
    return insert_if_absent(session, TipReaction, values | {"created_at": utcnow()}, list(values)[:3]) is not None


def remove_reaction(session: Session, tip: Tip, user_id: str, reaction: str) -> bool:
    result = session.execute(
        delete(TipReaction).where(
            TipReaction.tip_id == tip.id, TipReaction.user_id == user_id, TipReaction.reaction == reaction
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def has_reactions(session: Session, tip: Tip, user_id: str) -> bool:
    query = select(TipReaction.reaction).where(TipReaction.tip_id == tip.id, TipReaction.user_id == user_id)
    return session.scalars(query.limit(1)).first() is not None


def add_vote(session: Session, tip: Tip, user_id: str) -> bool:
    values = {
        "tip_id": tip.id,
        "user_id": user_id,
        "team_id": tip.team_id,
        "author_id": tip.author_id,
        "created_at": utcnow(),
    }
    if insert_if_absent(session, TipVote, values, ["tip_id", "user_id"]) is None:
        return False
    session.execute(update(Tip).where(Tip.id == tip.id).values(helpful_count=Tip.helpful_count + 1))
    return True


def remove_vote(session: Session, tip: Tip, user_id: str) -> bool:
    result = session.execute(delete(TipVote).where(TipVote.tip_id == tip.id, TipVote.user_id == user_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(update(Tip).where(Tip.id == tip.id).values(helpful_count=Tip.helpful_count - 1))
    return True


def helpful_count(session: Session, tip_id: int) -> int:
    return session.scalar(select(Tip.helpful_count).where(Tip.id == tip_id)) or 0
