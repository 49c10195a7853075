"""What `/peerlearn` asks for, and schedules as the domain sees them. No Slack in here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.orm import Session

from bot.cadence import Cadence, CadenceError, parse_clock, parse_when, parse_zone
from storage import schedules as queries
from storage.models import Schedule

_KINDS = {"prompts": "prompt", "prompt": "prompt", "digest": "digest", "digests": "digest"}
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|([^>]*))?>$|^#([a-z0-9][a-z0-9._-]{0,79})$")
EXAMPLES = {
    "prompt": "`/peerlearn prompts #general mon 09:00 Europe/Berlin`",
    "digest": "`/peerlearn digest #general fri 16:00 Europe/Berlin`",
}


class ScheduleInputError(ValueError):
    """Bad /peerlearn input: the message says what is wrong and shows a correct example."""


@dataclass(frozen=True)
class ChannelRef:
    id: str | None
    name: str | None

    def mention(self) -> str:
        return f"<#{self.id}>" if self.id else f"#{self.name}"


@dataclass(frozen=True)
class SetSchedule:
    kind: str
    channel: ChannelRef
    cadence: str
    weekday: int | None
    at: time
    zone: str | None
    channel_only: bool


@dataclass(frozen=True)
class TurnOff:
    kind: str
    channel: ChannelRef


@dataclass(frozen=True)
class PostNow:
    kind: str
    channel: ChannelRef | None


@dataclass(frozen=True)
class ListSchedules:
    pass


@dataclass(frozen=True)
class AddPrompt:
    text: str


@dataclass(frozen=True)
class ListPrompts:
    pass


@dataclass(frozen=True)
class RemovePrompt:
    prompt_id: int


@dataclass(frozen=True)
class PeerlearnHelp:
    problem: str | None = None


PeerlearnCommand = (
    SetSchedule | TurnOff | PostNow | ListSchedules | AddPrompt | ListPrompts | RemovePrompt | PeerlearnHelp
)


def parse_channel(token: str) -> ChannelRef | None:
    """A channel as Slack sends it (`<#C123|name>` when the command escapes) or typed (`#name`)."""
    match = _CHANNEL.match(token)
    if not match:
        return None
    if match.group(1):
        return ChannelRef(id=match.group(1), name=match.group(2) or None)
    return ChannelRef(id=None, name=match.group(3))


def parse_peerlearn_command(text: str) -> PeerlearnCommand:
    words = text.split()
    if not words or words[0].lower() == "help":
        return PeerlearnHelp()
    first = words[0].lower()
    if first == "schedules":
        return ListSchedules()
    if first not in _KINDS:
        return PeerlearnHelp(f"I don't know `{_shown(words[0])}`. Here is what I can do:")
    kind = _KINDS[first]
    rest = words[1:]
    if not rest:
        return PeerlearnHelp(f"Tell me the channel and when, e.g. {EXAMPLES[kind]}.")
    action = rest[0].lower()
    if kind == "prompt" and action in ("add", "list", "remove"):
        return _prompt_command(action, text.split(None, 2)[2] if len(words) > 2 else "")
    if action == "now":
        channel = parse_channel(rest[1]) if len(rest) > 1 else None
        if len(rest) > 1 and channel is None:
            return PeerlearnHelp(f"`{_shown(rest[1])}` is not a channel; e.g. `/peerlearn {first} now #general`.")
        return PostNow(kind, channel)
    channel = parse_channel(rest[0])
    if channel is None:
        return PeerlearnHelp(f"`{_shown(rest[0])}` is not a channel. Example: {EXAMPLES[kind]}.")
    if len(rest) > 1 and rest[1].lower() == "off" and len(rest) == 2:
        return TurnOff(kind, channel)
    try:
        return _set_schedule(kind, channel, rest[1:])
    except CadenceError as error:
        return PeerlearnHelp(f"{error} Example: {EXAMPLES[kind]}.")


def _set_schedule(kind: str, channel: ChannelRef, words: list[str]) -> SetSchedule:
    cadence, weekday, rest = parse_when(words)
    if not rest:
        raise CadenceError("Say at what time, in 24-hour HH:MM.")
    at = parse_clock(rest[0])
    zone = None
    channel_only = False
    for word in rest[1:]:
        if word.lower() == "channel-only" and kind == "digest":
            channel_only = True
        elif zone is None and ("/" in word or word.upper() == "UTC"):
            zone = parse_zone("UTC" if word.upper() == "UTC" else word)
        else:
            raise CadenceError(f"I don't understand `{_shown(word)}` there.")
    return SetSchedule(kind, channel, cadence, weekday, at, zone, channel_only)


def _prompt_command(action: str, argument: str) -> PeerlearnCommand:
    if action == "list":
        return ListPrompts()
    if action == "add":
        return AddPrompt(argument)
    number = argument.strip().lstrip("#")
    if not re.fullmatch(r"[0-9]+", number):
        return PeerlearnHelp(
            "Give the prompt's number from `/peerlearn prompt list`, e.g. `/peerlearn prompt remove 3`."
        )
    return RemovePrompt(int(number))


def _shown(word: str) -> str:
    return word.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:80]


def cadence_of(schedule: Schedule) -> Cadence:
    hours, minutes = schedule.at_time.split(":")
    return Cadence(
        kind=schedule.cadence,
        at=time(int(hours), int(minutes)),
        zone=schedule.zone,
        weekday=schedule.weekday,
        anchor=schedule.anchor,
    )


def describe_kind(kind: str) -> str:
    return "learning prompts" if kind == "prompt" else "digest"


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
        request.kind,
        cadence=request.cadence,
        weekday=request.weekday,
        at_time=request.at.strftime("%H:%M"),
        zone=zone,
        anchor=anchor,
        scope="channel" if request.channel_only else "workspace",
        configured_by=user_id,
        now=now,
    )


def turn_off(session: Session, team_id: str, channel_id: str, kind: str) -> bool:
    return queries.remove_schedule(session, team_id, channel_id, kind)


def listing(session: Session, team_id: str) -> list[Schedule]:
    return queries.team_schedules(session, team_id)
