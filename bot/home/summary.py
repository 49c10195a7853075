"""The App Home: what one person sees on Peerlearn's Home tab, gathered in one read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.circles import rules as circle_rules
from bot.figures.weeks import zone_or_utc
from bot.questions.service import open_questions
from bot.tips import rules as tips
from storage import circles as circle_queries
from storage import home as queries
from storage import pairing_rounds
from storage import tips as tip_queries
from storage.models import Circle, Question, Tip

OWN_TIPS_SHOWN = 3
TOP_TIPS_SHOWN = 5
CIRCLES_SHOWN = 10
STREAK_WEEKS_LOOKED_AT = 53


@dataclass(frozen=True)
class CircleOnHome:
    circle: Circle
    next_check_in: datetime | None  # None while the circle is paused (or its settings can't say)
    streak: int  # this person's check-ins in a row
    open_round_id: int | None = None  # a round open for this person to answer now
    answered: bool = False  # ... which they answered already (the button edits the answers)


@dataclass(frozen=True)
class MatchOnHome:
    group_id: int
    channel_id: str
    others: tuple[str, ...]
    outcome: str  # pending | not_yet | met | skipped


@dataclass(frozen=True)
class HomeSummary:
    user_id: str
    zone: str | None  # the person's Slack time zone: weeks and months are theirs
    own_tips: list[Tip]
    own_total: int
    votes_received: int  # all time
    top_this_week: list[Tip]  # the week's most helpful, none of them in `own_tips`
    circles: list[CircleOnHome]
    circles_total: int = 0
    votes_this_month: int = 0
    tip_week_streak: int = 0  # weeks in a row with a tip shared (this week's counts once it has one)
    tipped_this_week: bool = False  # ... and whether the streak includes this week already
    match: MatchOnHome | None = None  # the person's group in a pairing round still open
    open_questions: list[Question] = field(default_factory=list)  # theirs, newest first (up to /ask mine's 20)


def home_summary(session: Session, team_id: str, user_id: str, now: datetime, zone: str | None = None) -> HomeSummary:
    own, total = tip_queries.tips_by_author(session, team_id, user_id, OWN_TIPS_SHOWN)
    tip_streak, tipped_this_week = tip_week_streak(session, team_id, user_id, now, zone)
    shown_ids = {tip.id for tip in own}
    top = [tip for tip in tips.top(session, team_id, "week", now) if tip.id not in shown_ids][:TOP_TIPS_SHOWN]
    member_of = circle_queries.circles_of(session, team_id, user_id)
    memberships = queries.memberships(session, team_id, user_id)
    open_rounds = queries.open_rounds_for(session, team_id, user_id)
    circles = []
    for circle in member_of[:CIRCLES_SHOWN]:
        round_, answered = open_rounds.get(circle.id, (None, False))
        in_a_row = memberships[circle.id].streak if circle.id in memberships else 0
        circles.append(
            CircleOnHome(
                circle,
                circle_rules.next_check_in(circle, now),
                in_a_row,
                open_round_id=round_.id if round_ is not None else None,
                answered=answered,
            )
        )
    return HomeSummary(
        user_id=user_id,
        zone=zone,
        own_tips=own,
        own_total=total,
        votes_received=tip_queries.helpful_votes_received(session, team_id, user_id),
        votes_this_month=queries.votes_received_since(session, team_id, user_id, month_start(now, zone)),
        tip_week_streak=tip_streak,
        tipped_this_week=tipped_this_week,
        top_this_week=top,
        circles=circles,
        circles_total=len(member_of),
        match=_match(session, team_id, user_id),
        open_questions=open_questions(session, team_id, user_id),
    )


def _match(session: Session, team_id: str, user_id: str) -> MatchOnHome | None:
    current = pairing_rounds.current_group(session, team_id, user_id)
    if current is None:
        return None
    round_, group = current
    others = tuple(m for m in group.members.split() if m != user_id)
    return MatchOnHome(group.id, round_.channel_id, others, group.outcome)


def month_start(now: datetime, zone: str | None) -> datetime:
    """The first moment of the person's current calendar month, in their own zone."""
    local = now.astimezone(zone_or_utc(zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def tip_week_streak(session: Session, team_id: str, user_id: str, now: datetime, zone: str | None) -> tuple[int, bool]:
    """Weeks in a row, Monday to Sunday in the person's zone, in which they shared a tip; and whether
    this week is one of them. Until this week has a tip, the streak is last week's (still alive)."""
    tz = zone_or_utc(zone)
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    since = now - timedelta(weeks=STREAK_WEEKS_LOOKED_AT)
    weeks = set()
    for moment in queries.tip_times_since(session, team_id, user_id, since):
        day = moment.astimezone(tz).date()
        weeks.add((this_monday - (day - timedelta(days=day.weekday()))).days // 7)
    back = 0 if 0 in weeks else 1
    streak = 0
    while back + streak in weeks:
        streak += 1
    return streak, 0 in weeks
