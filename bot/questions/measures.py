"""What came of questions in a period: for the digest (one line and *Can you help?*) and for admins
(`/peerlearn stats`, bot/questions/admin.py)."""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.questions.rules import ANSWERED, ANSWERED_BY_TIP, Measures
from storage import questions as queries
from storage.models import Question

CAN_YOU_HELP = 5  # unanswered questions a digest lists


def measure(asked: Iterable[Question]) -> Measures:
    rows = list(asked)
    waits = [q.first_reply_at - q.asked_at for q in rows if q.first_reply_at is not None]
    median = timedelta(seconds=statistics.median(w.total_seconds() for w in waits)) if waits else None
    return Measures(
        asked=len(rows),
        answered_by_tips=sum(q.state == ANSWERED_BY_TIP for q in rows),
        answered_by_people=sum(q.state == ANSWERED for q in rows),
        median_first_reply=median,
        escalated=sum(q.wave >= 2 for q in rows),
        saved_as_tips=sum(q.saved_tip_id is not None for q in rows),
    )


@dataclass(frozen=True)
class QuestionsRecap:
    measures: Measures
    open_questions: list[Question]  # unanswered after both windows: the digest's *Can you help?*


def digest_recap(
    session: Session,
    team_id: str,
    channel_id: str | None,
    start: datetime,
    end: datetime,
    quotable: Collection[str],
) -> QuestionsRecap | None:
    """The period's questions (asked in [start, end)) and the ones still unanswered; None if neither.
    *Can you help?* quotes only questions asked in `quotable` channels (the digest's own, and those
    found public just now: one turned private since its question was asked keeps it to its members)."""
    measures = measure(queries.asked_between(session, team_id, start, end, channel_id))
    still_open = queries.unanswered(session, team_id, channel_id, CAN_YOU_HELP, in_channels=quotable)
    if measures.asked == 0 and not still_open:
        return None
    return QuestionsRecap(measures, still_open)
