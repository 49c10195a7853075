"""What a digest says about a period: the best tips, who shared, who taught, the prompt, a classic."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.circles import rules as circles
from bot.schedules import prompts
from storage import circles as circle_queries
from storage import digests as queries
from storage import schedules
from storage.models import Circle, Tip

BEST_TIPS = 5
TEACHERS = 3
ARCHIVE_CANDIDATES = 20
RECENTLY_RESURFACED = 10  # digests in a row that won't resurface the same tip


@dataclass(frozen=True)
class PromptRecap:
    text: str
    replies: int
    message_ts: str | None


@dataclass(frozen=True)
class CirclesRecap:
    rounds: int
    invited: int
    answered: int
    asks: list[tuple[str, str, str]]  # (member, what they are stuck on, circle name)


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

    @property
    def quiet(self) -> bool:
        return self.tips_shared == 0 and not self.teachers


def gather(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    channel_only: bool,
    start: datetime,
    end: datetime,
    seed: str,
) -> Digest:
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
    candidates = queries.archive_favourites(session, team_id, start, scope, already, ARCHIVE_CANDIDATES)
    return Digest(
        start=start,
        end=end,
        channel_only=channel_only,
        best=queries.best_tips_shared(session, team_id, start, end, scope, BEST_TIPS),
        tips_shared=tips_shared,
        sharers=sharers,
        teachers=queries.top_teachers(session, team_id, start, end, scope, TEACHERS),
        prompt=recap,
        resurfaced=_pick(candidates, seed),
        circles=_circles(session, team_id, channel_id if channel_only else None, start, end),
    )


def _circles(
    session: Session, team_id: str, channel_id: str | None, start: datetime, end: datetime
) -> CirclesRecap | None:
    """Rounds held in the period, how many took part, and what people are stuck on."""
    held = [
        r for r in circle_queries.rounds_between(session, team_id, start, end) if channel_id in (None, r.channel_id)
    ]
    if not held:
        return None
    names: dict[int, tuple[str, int | None]] = {}
    for round_ in held:
        if round_.circle_id not in names:
            circle = session.get(Circle, round_.circle_id)
            assert circle is not None
            names[round_.circle_id] = (circle.name, circles.stuck_question(circles.questions_of(circle)))
    circle_of = {r.id: r.circle_id for r in held}
    taking_part = circle_queries.participants_of(session, [r.id for r in held])
    asks = []
    for participant in taking_part:
        name, stuck = names[circle_of[participant.round_id]]
        given = json.loads(participant.answers) if participant.answers else []
        if stuck is not None and stuck < len(given) and given[stuck]:
            asks.append((participant.user_id, given[stuck], name))
    return CirclesRecap(
        rounds=len(held),
        invited=sum(p.status in ("invited", "answered") for p in taking_part),
        answered=sum(p.status == "answered" for p in taking_part),
        asks=asks,
    )


def _pick(candidates: list[Tip], seed: str) -> Tip | None:
    """One of the favourites, the same one for the same seed (so a retried post doesn't change)."""
    if not candidates:
        return None
    index = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % len(candidates)
    return candidates[index]
