"""/peerlearn use cases that need Slack: resolving and checking channels, time zones, confirmations."""

from __future__ import annotations

import logging

from bot.cadence import format_local
from bot.schedules import rules as schedules
from bot.schedules.rules import ChannelRef, ScheduleInputError, SetSchedule, cadence_of, describe_kind
from bot.services import Services
from bot.slack.gateway import Failed

log = logging.getLogger(__name__)


def resolve_channel(deps: Services, ref: ChannelRef) -> str:
    """The id of a channel the bot can post in; raises ScheduleInputError saying why not."""
    channel_id = ref.id or (deps.slack.find_channel(ref.name) if ref.name else None)
    if channel_id is None:
        raise ScheduleInputError(
            f"I can't find {ref.mention()}. Pick it from the autocomplete as you type `#`; "
            "for a private channel, `/invite @Peerlearn` there first."
        )
    info = deps.slack.channel_info(channel_id)
    if isinstance(info, Failed):
        raise ScheduleInputError(
            f"I can't see {ref.mention()} ({info.error}). For a private channel, `/invite @Peerlearn` there first."
        )
    if info.get("is_archived"):
        raise ScheduleInputError(f"<#{channel_id}> is archived, so I can't post there.")
    if info.get("is_im") or info.get("is_mpim"):
        raise ScheduleInputError("Schedules post in channels, not in direct messages.")
    if info.get("is_private") and not info.get("is_member"):
        raise ScheduleInputError(f"Invite me to <#{channel_id}> first (`/invite @Peerlearn`), then try again.")
    return channel_id


def configure(deps: Services, *, team_id: str, user_id: str, request: SetSchedule) -> str:
    channel_id = resolve_channel(deps, request.channel)
    person = deps.users.get(user_id)
    zone = request.zone or (person.timezone if person and person.timezone else "UTC")
    now = deps.clock()
    with deps.db.transaction() as session:
        schedule = schedules.save(
            session,
            team_id=team_id,
            channel_id=channel_id,
            request=request,
            zone=zone,
            user_id=user_id,
            now=now,
        )
        cadence = cadence_of(schedule)
    log.info(
        "schedule set team=%s user=%s channel=%s kind=%s %s",
        team_id,
        user_id,
        channel_id,
        request.kind,
        cadence.describe(),
    )
    scope = " It counts only tips shared in that channel." if request.channel_only else ""
    return (
        f":calendar: {describe_kind(request.kind).capitalize()} for <#{channel_id}>: {cadence.describe()}. "
        f"Next post: *{format_local(cadence.next_after(now), zone)}*.{scope}"
    )


def turn_off(deps: Services, *, team_id: str, user_id: str, kind: str, ref: ChannelRef) -> str:
    channel_id = ref.id or (deps.slack.find_channel(ref.name) if ref.name else None)
    removed = False
    if channel_id is not None:
        with deps.db.transaction() as session:
            removed = schedules.turn_off(session, team_id, channel_id, kind)
    if not removed:
        return f"There is no {describe_kind(kind)} schedule for {ref.mention()}; nothing changed."
    log.info("schedule removed team=%s user=%s channel=%s kind=%s", team_id, user_id, channel_id, kind)
    return f":white_check_mark: No more {describe_kind(kind)} in <#{channel_id}>."
