"""Someone deactivated in Slack: out of every circle, pairing pool and question routing at once;
their tips stay, theirs. (The questions they were asked about then ask the next person:
QuestionDesk.move_on_from, after this transaction, because that talks to Slack.)

Each capability that lets people take part in something adds how they leave it (LEAVERS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from storage import pairing as profile_queries
from storage import people_data as queries
from storage import questions as question_queries
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Leaver:
    what: str
    leave: Callable[[Session, str, str, datetime], int]  # (session, team_id, user_id, now) -> how many


def _leave_pairing(session: Session, team_id: str, user_id: str, now: datetime) -> int:
    profile_queries.set_participation(session, team_id, user_id, now, deactivated_at=now)
    return 1


LEAVERS: tuple[Leaver, ...] = (
    Leaver("pairing pools", _leave_pairing),
    Leaver("circles", lambda session, team_id, user_id, _now: queries.leave_circles(session, team_id, user_id)),
    Leaver("question routing", question_queries.release_asks_of),
)


def person_deactivated(db: Database, team_id: str, user_id: str, now: datetime) -> dict[str, int]:
    """Out of everything they took part in, in one transaction (a rerun finds nothing more to leave)."""
    with db.transaction() as session:
        left = {leaver.what: leaver.leave(session, team_id, user_id, now) for leaver in LEAVERS}
    log.info("deactivated team=%s user=%s left=%s", team_id, user_id, left)
    return left
