"""Small readers over the database for scenario tests."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Tip, TipVote


def all_tips(db: Database) -> list[Tip]:
    with db.snapshot() as session:
        return list(session.scalars(select(Tip).order_by(Tip.id)))


def tip_by_id(db: Database, tip_id: int) -> Tip:
    with db.snapshot() as session:
        tip = session.get(Tip, tip_id)
        assert tip is not None
        return tip


def voters(db: Database, tip_id: int) -> set[str]:
    with db.snapshot() as session:
        return set(session.scalars(select(TipVote.user_id).where(TipVote.tip_id == tip_id)))


def vote_rows(db: Database) -> int:
    with db.snapshot() as session:
        return session.scalar(select(func.count()).select_from(TipVote)) or 0
