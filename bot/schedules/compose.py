"""What a scheduled post says, by kind: the prompt chosen, the digest gathered, the pairing round's
announcement. Choices are written onto the ledger row, so a retry posts the same thing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, assert_never

from sqlalchemy.orm import Session

from bot.pairing.round_blocks import pairing_post
from bot.schedules import digests, prompts
from bot.schedules.blocks import digest_post, prompt_post
from bot.schedules.kinds import PostKind
from bot.schedules.rules import BrokenSchedule, cadence_of, channel_only
from storage import pairing_rounds
from storage.models import Schedule, ScheduledPost

MANUAL_DIGEST_PERIOD = timedelta(days=7)


def compose(
    session: Session, post: ScheduledPost, tip_emoji: str, public_channels: frozenset[str] = frozenset()
) -> tuple[str, list[dict[str, Any]]]:
    """The message of a claimed post, its choices written onto the ledger row so a retry posts the same.
    A digest quotes circles' check-in answers and unanswered questions from its own channel and
    `public_channels` only."""
    kind = PostKind(post.kind)
    match kind:
        case PostKind.PROMPT:
            # A retry posts the prompt chosen first, unless it was removed from the bank since.
            bank = prompts.workspace_bank(session, post.team_id)
            prompt = next((p for p in bank if p.key == post.prompt_key), None) if post.prompt_key else None
            if prompt is None:
                prompt, cycle = prompts.next_for_channel(session, post.team_id, post.channel_id, bank)
                post.prompt_key, post.prompt_cycle = prompt.key, cycle
            return prompt_post(prompt, tip_emoji)
        case PostKind.DIGEST:
            schedule = session.get(Schedule, post.schedule_id) if post.schedule_id else None
            digest = digests.gather(
                session,
                team_id=post.team_id,
                channel_id=post.channel_id,
                channel_only=channel_only(schedule),
                start=_digest_start(schedule, post),
                end=post.due_at,
                public_channels=public_channels,
            )
            post.resurfaced_tip_id = digest.resurfaced.id if digest.resurfaced else None
            return digest_post(digest, tip_emoji)
        case PostKind.PAIRING:
            # The round itself (groups recorded, DMs sent) ran before this; the channel hears it happened.
            counts = pairing_rounds.round_counts(session, post.team_id, post.channel_id, post.period)
            return pairing_post(counts)
        case _:
            assert_never(kind)


def _digest_start(schedule: Schedule | None, post: ScheduledPost) -> datetime:
    if schedule is None or post.period.startswith("now:"):
        return post.due_at - MANUAL_DIGEST_PERIOD
    try:
        previous = cadence_of(schedule).previous_before(post.due_at)
    except BrokenSchedule:
        previous = None  # its row is paused by the tick; this digest covers the usual week
    return previous or post.due_at - MANUAL_DIGEST_PERIOD
