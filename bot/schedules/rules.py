"""Schedules as the domain sees them: what a stored row means, and how one is saved. No Slack here."""

from __future__ import annotations

import re
from datetime import datetime, time

from sqlalchemy.orm import Session

from bot.cadence import Cadence
from bot.pairing.people import Mode
from bot.schedules.commands import PairingOptions, SetSchedule, known_zones
from bot.schedules.kinds import PostKind, Scope
from storage import schedules as queries
from storage.models import Schedule

CADENCES = frozenset({"daily", "weekdays", "weekly", "biweekly"})
_AT = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class ScheduleInputError(ValueError):
    """Bad /peerlearn input found while acting on it: the message says what is wrong and what to do;
    `usage` is the one usage line worth showing with it, if any."""

    def __init__(self, message: str, *, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class BrokenSchedule(ValueError):
    """A stored schedule no cadence can be read from (written by hand, or by an older version)."""


def cadence_of(schedule: Schedule) -> Cadence:
    """When the schedule posts; BrokenSchedule (saying what is wrong) if the row makes no sense."""
    kind_of(schedule)
    if schedule.cadence not in CADENCES:
        raise BrokenSchedule(f"unknown cadence {schedule.cadence!r}")
    weekly = schedule.cadence in ("weekly", "biweekly")
    if weekly and (schedule.weekday is None or not 0 <= schedule.weekday <= 6):
        raise BrokenSchedule(f"weekday {schedule.weekday!r} is not a day of the week")
    at = _AT.match(schedule.at_time or "")
    if at is None:
        raise BrokenSchedule(f"time {schedule.at_time!r} is not HH:MM")
    if schedule.zone not in known_zones():
        raise BrokenSchedule(f"unknown time zone {schedule.zone!r}")
    return Cadence(
        kind=schedule.cadence,
        at=time(int(at.group(1)), int(at.group(2))),
        zone=schedule.zone,
        weekday=schedule.weekday if weekly else None,
        anchor=schedule.anchor,
    )


def kind_of(schedule: Schedule) -> PostKind:
    try:
        return PostKind(schedule.kind)
    except ValueError:
        raise BrokenSchedule(f"unknown kind {schedule.kind!r}") from None


def channel_only(schedule: Schedule | None) -> bool:
    return schedule is not None and schedule.scope == Scope.CHANNEL


def save(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    request: SetSchedule,
    zone: str,
    user_id: str,
    now: datetime,
) -> Schedule:
    """Store the schedule; biweekly ones post first on the coming matching day."""
    anchor = None
    if request.cadence == "biweekly":
        weekly = Cadence("weekly", request.at, zone, weekday=request.weekday)
        anchor = weekly.next_after(now).astimezone(weekly.tz).date()
    return queries.save_schedule(
        session,
        team_id,
        channel_id,
        request.kind.value,
        cadence=request.cadence,
        weekday=request.weekday,
        at_time=request.at.strftime("%H:%M"),
        zone=zone,
        anchor=anchor,
        scope=(Scope.CHANNEL if request.channel_only else Scope.WORKSPACE).value,
        pairing_mode=request.pairing.mode.value if request.pairing else None,
        pairing_size=request.pairing.size if request.pairing else None,
        pairing_window=request.pairing.window if request.pairing else None,
        configured_by=user_id,
        now=now,
    )


def turn_off(session: Session, team_id: str, channel_id: str, kind: PostKind) -> bool:
    return queries.remove_schedule(session, team_id, channel_id, kind.value)


def listing(session: Session, team_id: str) -> list[Schedule]:
    return queries.team_schedules(session, team_id)


def pairing_options(schedule: Schedule | None) -> PairingOptions:
    """A pairing schedule's options; the defaults for a round asked for now, or a value no reader
    would store (a forged or old row never breaks the round)."""
    if schedule is None:
        return PairingOptions()
    defaults = PairingOptions()
    try:
        mode = Mode(schedule.pairing_mode) if schedule.pairing_mode else defaults.mode
    except ValueError:
        mode = defaults.mode
    size = schedule.pairing_size if schedule.pairing_size in (2, 3) else defaults.size
    window = schedule.pairing_window if schedule.pairing_window and 1 <= schedule.pairing_window <= 52 else None
    return PairingOptions(mode, size or defaults.size, window or defaults.window)
