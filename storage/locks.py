"""Locks on one person's count, held to the end of the transaction: for a limit that is counted and
then added to (a quota, a cap), so two transactions can't both count the same rows and both add.

PostgreSQL: a transaction-level advisory lock keyed by a hash of (what is counted, team, person);
the transaction that waits counts again after the holder committed (READ COMMITTED: each statement
sees what was committed before it), and nobody else waits, not the person's other counts nor any
other workspace. Two people whose keys hash alike only take turns. SQLite needs none: its write
transactions (BEGIN IMMEDIATE, storage/db.py) already run one at a time.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Two 32-bit keys: a key space of their own, apart from the migrations' single 64-bit key.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:counted), hashtext(:person))")


def hold_count_of(session: Session, counted: str, team_id: str, user_id: str) -> None:
    """Until `session`'s transaction ends, no other transaction holds `counted` for this person. Take
    it before counting what the limit counts, and add in the same transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"counted": counted, "person": f"{team_id}:{user_id}"})
