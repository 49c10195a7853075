"""The App Home: what one person sees on Peerlearn's Home tab, gathered in one read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.circles import rules as circle_rules
from bot.tips import rules as tips
from storage import circles as circle_queries
from storage import pairing_rounds
from storage import tips as tip_queries
from storage.db import Database
from storage.models import Circle, Tip

OWN_TIPS_SHOWN = 3
TOP_TIPS_SHOWN = 5


@dataclass(frozen=True)
class CircleOnHome:
    circle: Circle
    next_check_in: datetime | None  # None while the circle is paused


@dataclass(frozen=True)
class MatchOnHome:
    group_id: int
    channel_id: str
    others: tuple[str, ...]
    outcome: str  # pending | not_yet | met | skipped


@dataclass(frozen=True)
class HomeSummary:
    user_id: str
    own_tips: list[Tip]
    own_total: int
    votes_received: int
    top_this_week: list[Tip]
    circles: list[CircleOnHome]
    match: MatchOnHome | None = None  # the person's group in a pairing round still open


def home_summary(session: Session, team_id: str, user_id: str, now: datetime) -> HomeSummary:
    own, total = tip_queries.tips_by_author(session, team_id, user_id, OWN_TIPS_SHOWN)
    member_of = circle_queries.circles_of(session, team_id, user_id)
    current = pairing_rounds.current_group(session, team_id, user_id)
    match = None
    if current is not None:
        round_, group = current
        others = tuple(m for m in group.members.split() if m != user_id)
        match = MatchOnHome(group.id, round_.channel_id, others, group.outcome)
    return HomeSummary(
        user_id=user_id,
        own_tips=own,
        own_total=total,
        votes_received=tip_queries.helpful_votes_received(session, team_id, user_id),
        top_this_week=tips.top(session, team_id, "week", now)[:TOP_TIPS_SHOWN],
        circles=[
            CircleOnHome(circle, None if circle.paused_reason else circle_rules.cadence_of(circle).next_after(now))
            for circle in member_of
        ],
        match=match,
    )


def summary_for(db: Database, team_id: str, user_id: str, now: datetime) -> HomeSummary:
    with db.snapshot() as session:
        return home_summary(session, team_id, user_id, now)
