"""Pause, resume and run now one schedule by its id: the admins' Home buttons.

The id comes from a button's value: input from the network, looked up within the request's team
only. The person's rights are asked of Slack at the change (`require_admin`), as for every
/peerlearn change. A pause is the schedule's `paused_reason` (the scheduler posts only schedules
without one); resuming owes nothing missed while paused (the schedule's `updated_at` moves on).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.schedules.commands import ChannelRef
from bot.schedules.kinds import PostKind, command_word
from bot.schedules.posting import ScheduledPoster
from bot.schedules.results import PostedNow
from bot.schedules.rules import BrokenSchedule, ScheduleInputError, cadence_of, kind_of
from bot.schedules.service import require_admin, resolve_channel
from bot.services import Services
from storage import schedules as queries
from storage.models import Schedule

log = logging.getLogger(__name__)

PAUSED_BY_ADMIN = "by an admin"  # shown as "paused (by an admin)"
GONE = "That schedule no longer exists; `/peerlearn schedules` lists them."


@dataclass(frozen=True)
class Toggled:
    kind: PostKind | None  # None: a stored kind no version knows
    channel_id: str
    paused: bool  # how it is now
    changed: bool  # False: it was so already
    next_at: datetime | None = None  # resumed: when it posts next
    zone: str = "UTC"  # the schedule's own, for clients that can't show Slack dates


def _in_team(schedule: Schedule | None) -> Schedule:
    if schedule is None:
        raise ScheduleInputError(GONE)
    return schedule


def _kind(schedule: Schedule) -> PostKind | None:
    try:
        return kind_of(schedule)
    except BrokenSchedule:
        return None


def pause(services: Services, *, team_id: str, user_id: str, schedule_id: int) -> Toggled:
    require_admin(services, team_id, user_id)
    with services.db.transaction() as session:
        schedule = _in_team(queries.schedule_in_team(session, team_id, schedule_id))
        changed = schedule.paused_reason is None
        if changed:
            schedule.paused_reason = PAUSED_BY_ADMIN
    log.info("schedule paused team=%s user=%s schedule=%s changed=%s", team_id, user_id, schedule_id, changed)
    return Toggled(_kind(schedule), schedule.channel_id, paused=True, changed=changed)


def resume(services: Services, *, team_id: str, user_id: str, schedule_id: int) -> Toggled:
    require_admin(services, team_id, user_id)
    now = services.clock()
    with services.db.transaction() as session:
        schedule = _in_team(queries.schedule_in_team(session, team_id, schedule_id))
        try:
            cadence = cadence_of(schedule)
        except BrokenSchedule as broken:
            word = command_word(kind) if (kind := _kind(schedule)) else "prompts"
            raise ScheduleInputError(
                f"Its stored settings can't be read ({broken}), so resuming would only pause it again. "
                f"Set it again: `/peerlearn {word} <#{schedule.channel_id}> mon 09:00`."
            ) from None
        changed = schedule.paused_reason is not None
        if changed:
            schedule.paused_reason = None
            schedule.updated_at = now  # nothing missed while it was paused is owed
    log.info("schedule resumed team=%s user=%s schedule=%s changed=%s", team_id, user_id, schedule_id, changed)
    next_at = cadence.next_after(now)
    return Toggled(
        _kind(schedule), schedule.channel_id, paused=False, changed=changed, next_at=next_at, zone=cadence.zone
    )


def run_now(
    services: Services, poster: ScheduledPoster, *, team_id: str, user_id: str, schedule_id: int, key: str
) -> PostedNow:
    """Post (or start the round) right away, through the schedule's own ledger: once per request."""
    require_admin(services, team_id, user_id)
    with services.db.snapshot() as session:
        schedule = _in_team(queries.schedule_in_team(session, team_id, schedule_id))
    kind = _kind(schedule)
    if kind is None:
        raise ScheduleInputError("I don't know what this schedule posts; set it again with `/peerlearn`.")
    channel_id = resolve_channel(services, ChannelRef(schedule.channel_id, None), member=user_id)
    return PostedNow(kind, channel_id, poster.post_now(team_id, channel_id, kind, user_id, key))
