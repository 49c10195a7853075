"""The admins' side of questions: questions channels (`/peerlearn questions #channel on|off`) and
what came of questions (`/peerlearn stats`). Rights are asked of Slack at the change, as for every
`/peerlearn` change (bot/schedules/service.require_admin)."""

from __future__ import annotations

import logging

from bot.questions.commands import WINDOWS
from bot.questions.measures import measure
from bot.questions.rules import Measures
from bot.schedules.commands import ChannelRef
from bot.schedules.rules import ScheduleInputError
from bot.schedules.service import require_admin, resolve_channel
from bot.services import Services
from bot.slack.results import Failed
from bot.tips.rules import looks_private
from storage import questions as queries

log = logging.getLogger(__name__)


def stats(services: Services, *, team_id: str, user_id: str, window: str) -> tuple[Measures, list[str]]:
    """The measures of questions asked in the last `window`, and the questions channels (admins only)."""
    require_admin(services, team_id, user_id)
    span = WINDOWS[window]
    now = services.clock()
    with services.db.snapshot() as session:
        asked = queries.asked_between(session, team_id, None if span is None else now - span, now)
        return measure(asked), queries.questions_channels(session, team_id)


def set_channel(services: Services, *, team_id: str, user_id: str, ref: ChannelRef, on: bool) -> str:
    """Turn answering on or off in a channel (admins only); what to tell the admin."""
    require_admin(services, team_id, user_id)
    if not on:
        channel_id = ref.id or (
            found if isinstance(found := services.slack.find_channel(ref.name or ""), str) else None
        )
        with services.db.transaction() as session:
            removed = channel_id is not None and queries.disable_channel(session, team_id, channel_id)
        return (
            f"Questions in {ref.mention()} are no longer answered by Peerlearn."
            if removed
            else (f"{ref.mention()} was not a questions channel.")
        )
    channel_id = resolve_channel(services, ref)
    info = services.slack.channel_info(channel_id)
    if looks_private(channel_id) or isinstance(info, Failed) or info.get("is_private"):
        raise ScheduleInputError(
            "Questions channels must be public: I ask colleagues outside the channel to answer, "
            "and they must be able to see the thread."
        )
    if failed := services.slack.join(channel_id):  # Slack sends a channel's messages only to its members
        raise ScheduleInputError(f"I couldn't join <#{channel_id}> ({failed.error}); invite me, then try again.")
    with services.db.transaction() as session:
        queries.enable_channel(session, team_id, channel_id, user_id, services.clock())
    log.info("questions channel on team=%s user=%s channel=%s", team_id, user_id, channel_id)
    return (
        f":raising_hand: From now on, every new message in <#{channel_id}> that reads as a question gets tips "
        "that may answer it, then the colleagues who know, in its thread."
    )


def channels(services: Services, team_id: str) -> list[str]:
    with services.db.snapshot() as session:
        return queries.questions_channels(session, team_id)
