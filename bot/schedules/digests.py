"""What a digest says about a period: the best tips, who shared, who taught, the prompt, a classic."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.circles import rules as circles
from bot.questions.measures import QuestionsRecap, digest_recap
from bot.schedules import prompts
from bot.slack.conversations import ChannelReaders
from bot.slack.gateway import SlackGateway
from storage import circles as circle_queries
from storage import digests as queries
from storage import pairing_rounds, schedules
from storage import questions as question_queries
from storage.db import Database
from storage.models import Circle, CircleRound, Tip

log = logging.getLogger(__name__)

BEST_TIPS = 5
TEACHERS = 3
RECENTLY_RESURFACED = 10  # digests in a row that won't resurface the same tip
# Circle rounds older than this are in no digest (the longest period is a month's); their channels
# need no look-up.
CIRCLE_CHANNELS_LOOKBACK = timedelta(days=93)


@dataclass(frozen=True)
class PromptRecap:
    text: str
    replies: int
    message_ts: str | None


@dataclass(frozen=True)
class CirclesRecap:
    rounds: int
    still_open: int  # rounds people can still answer: their silent members are not "unanswered" yet
    invited: int  # check-ins that could be answered and are settled: answered, or in a round now closed
    answered: int
    asks: list[tuple[str, str, str]]  # (member, what they are stuck on, circle name)


@dataclass(frozen=True)
class ConnectionsRecap:
    """Pairing rounds of the period: groups whose people said they met, and how many crossed teams."""

    met: int
    cross_team: int


@dataclass(frozen=True)
class Digest:
    start: datetime
    end: datetime
    channel_only: bool
    best: list[Tip]
    tips_shared: int
    sharers: int
    teachers: list[tuple[str, int]]
    prompt: PromptRecap | None
    resurfaced: Tip | None
    circles: CirclesRecap | None = None
    connections: ConnectionsRecap | None = None
    questions: QuestionsRecap | None = None

    @property
    def quiet(self) -> bool:
        return self.tips_shared == 0 and not self.teachers


def public_channels(db: Database, slack: SlackGateway, team_id: str, now: datetime) -> frozenset[str]:
    """The channels of the workspace's recent circle rounds and unanswered questions that anyone in
    the workspace can read: a digest posted elsewhere quotes only their check-in answers and
    questions. Asked of Slack before the digest is composed (not inside its transaction); a channel
    Slack can't describe counts as private."""
    with db.snapshot() as session:
        channels = circle_queries.round_channels_since(session, team_id, now - CIRCLE_CHANNELS_LOOKBACK)
        channels |= question_queries.unanswered_channels(session, team_id)
    readers = ChannelReaders(slack)  # G… ids private without asking; Slack couldn't say: not public
    return frozenset(channel_id for channel_id in sorted(channels) if readers.is_private(channel_id) is False)


def gather(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    channel_only: bool,
    start: datetime,
    end: datetime,
    public_channels: frozenset[str] = frozenset(),
) -> Digest:
    """What the digest posted in `channel_id` says. Check-in answers of circles and unanswered
    questions are quoted only from that channel and from `public_channels` (found public just now,
    see the function of that name): a private circle's answers, and the question of a channel turned
    private since it was asked, stay in their channel."""
    scope = channel_id if channel_only else None
    tips_shared, sharers = queries.sharing_counts(session, team_id, start, end, scope)
    prompt_post = next(iter(schedules.posts_between(session, team_id, channel_id, "prompt", start, end)), None)
    recap = None
    if prompt_post is not None:
        text = prompts.text_of(session, team_id, prompt_post.prompt_key)
        if text:
            recap = PromptRecap(text=text, replies=prompt_post.reply_count, message_ts=prompt_post.message_ts)
    recent = schedules.recent_posts(session, team_id, channel_id, "digest", RECENTLY_RESURFACED)
    already = {post.resurfaced_tip_id for post in recent if post.resurfaced_tip_id is not None}
    return Digest(
        start=start,
        end=end,
        channel_only=channel_only,
        best=queries.best_tips_shared(session, team_id, start, end, scope, BEST_TIPS),
        tips_shared=tips_shared,
        sharers=sharers,
        teachers=queries.top_teachers(session, team_id, start, end, scope, TEACHERS),
        prompt=recap,
        resurfaced=queries.most_helpful_older_tip(session, team_id, start, scope, already),
        circles=_circles(
            session, team_id, channel_id if channel_only else None, start, end, public_channels | {channel_id}
        ),
        connections=_connections(session, team_id, channel_id if channel_only else None, start, end),
        questions=digest_recap(
            session, team_id, channel_id if channel_only else None, start, end, public_channels | {channel_id}
        ),
    )


def _connections(
    session: Session, team_id: str, channel_id: str | None, start: datetime, end: datetime
) -> ConnectionsRecap | None:
    met, cross_team = pairing_rounds.met_between(session, team_id, channel_id, start, end)
    return ConnectionsRecap(met, cross_team) if met else None


def _circles(
    session: Session, team_id: str, channel_id: str | None, start: datetime, end: datetime, quotable: frozenset[str]
) -> CirclesRecap | None:
    """Rounds held in the period, how many took part, and what people are stuck on (quoted only from
    rounds held in `quotable` channels: the others' readers are not the digest's)."""
    held = [
        r for r in circle_queries.rounds_between(session, team_id, start, end) if channel_id in (None, r.channel_id)
    ]
    if not held:
        return None
    names: dict[int, tuple[str, int | None]] = {}
    for round_ in held:
        if round_.circle_id not in names:
            names[round_.circle_id] = _circle_name_and_stuck(session, round_)
    by_id = {r.id: r for r in held}
    taking_part = circle_queries.participants_of(session, [r.id for r in held])
    asks = []
    for participant in taking_part:
        name, stuck = names[by_id[participant.round_id].circle_id]
        given = _answers(participant.answers, participant.round_id, participant.user_id)
        ask = given[stuck] if stuck is not None and stuck < len(given) else None
        if isinstance(ask, str) and ask and by_id[participant.round_id].channel_id in quotable:
            asks.append((participant.user_id, ask, name))
    settled = [
        p
        for p in taking_part
        if p.status == "answered" or (p.status == "invited" and by_id[p.round_id].status != "open")
    ]
    return CirclesRecap(
        rounds=len(held),
        still_open=sum(r.status == "open" for r in held),
        invited=len(settled),
        answered=sum(p.status == "answered" for p in settled),
        asks=asks,
    )


def _circle_name_and_stuck(session: Session, round_: CircleRound) -> tuple[str, int | None]:
    circle = session.get(Circle, round_.circle_id)
    if circle is None:
        return "a circle", None
    try:
        return circle.name, circles.stuck_question(circles.questions_of(circle))
    except (ValueError, TypeError, AttributeError):  # unreadable questions: the round still counts
        log.warning("circle %s team=%s: questions unreadable; no asks in the digest", circle.id, circle.team_id)
        return circle.name, None


def _answers(raw: str | None, round_id: int, user_id: str) -> list[object]:
    if not raw:
        return []
    try:
        given = json.loads(raw)
    except ValueError:
        log.warning("round %s user=%s: answers unreadable; left out of the digest", round_id, user_id)
        return []
    return given if isinstance(given, list) else []
