"""What `/peerlearn <text>` asks for: a closed union of frozen dataclasses, every value bounded.

The text arrives as Slack sends it (`&`, `<`, `>` entity-encoded; channels as `<#C123|name>`).
Anything out of bounds (a number no row can have, a time that is not a time, a zone that does not
exist, a word far too long to be anything) becomes `InvalidCommand`: what was wrong, and the one
usage line that fits, never a stored row or an error further down.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from datetime import time
from functools import cache
from zoneinfo import available_timezones

from bot.cadence import CadenceError, parse_clock, parse_when
from bot.pairing.people import Mode
from bot.schedules.kinds import PostKind
from bot.text import slack_to_plain, truncate_escaped
from bot.usage import unknown_word

MAX_ID = 2**31 - 1  # ids and numbers are 32-bit integers on PostgreSQL; anything larger names no row
MAX_WORD = 64  # no channel name, time, zone or keyword is longer
_KINDS = {
    "prompts": PostKind.PROMPT,
    "prompt": PostKind.PROMPT,
    "digest": PostKind.DIGEST,
    "digests": PostKind.DIGEST,
    "pairing": PostKind.PAIRING,
    "pairings": PostKind.PAIRING,
}
MODES = {
    "mentorship": Mode.MENTORSHIP,
    "cross-team": Mode.CROSS_TEAM,
    "crossteam": Mode.CROSS_TEAM,
    "coffee": Mode.COFFEE,
}
MAX_WINDOW = 52  # rounds a pair that met waits at most before meeting again
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{1,20})(?:\|([^>]*))?>$|^#([a-z0-9][a-z0-9._-]{0,79})$")
_NUMBER = re.compile(r"^#?([0-9]+)$")

WHEN = "&lt;daily|weekdays|mon…sun|biweekly fri&gt; HH:MM [Area/City]"
USAGE = {
    PostKind.PROMPT: f"`/peerlearn prompts #channel {WHEN}`, "
    "e.g. `/peerlearn prompts #general mon 09:00 Europe/Berlin`",
    PostKind.DIGEST: f"`/peerlearn digest #channel {WHEN} [channel-only]`, "
    "e.g. `/peerlearn digest #general fri 16:00 Europe/Berlin`",
    PostKind.PAIRING: f"`/peerlearn pairing #channel {WHEN} [mentorship|cross-team|coffee] [size 2|3] "
    "[norepeat &lt;rounds&gt;]`, e.g. `/peerlearn pairing #coffee mon 10:00 Europe/Berlin cross-team`",
}
PAIRING_USAGE = "`/peerlearn pairing #channel now|preview|stats|off`"
HELP_USAGE = "`/peerlearn help` — every Peerlearn command, grouped, with an example each"
# Each /peerlearn command with an example, for the help; a mistyped first word gets its own line.
HELP_LINES = {
    "prompts": "`/peerlearn prompts #general mon 09:00 Europe/Berlin` — a learning prompt every Monday "
    "(`daily`, `weekdays`, `mon`…`sun` or `biweekly fri`; the zone defaults to yours)",
    "digest": "`/peerlearn digest #general fri 16:00` — the week's most helpful tips every Friday; "
    "add `channel-only` to count only that channel's tips",
    "pairing": "`/peerlearn pairing #coffee mon 10:00 cross-team` — pairing rounds (`mentorship`, `cross-team` "
    "or `coffee`; `size 3`, `norepeat 6`); `/peerlearn pairing #coffee preview` shows the next pairs, "
    "also `now` and `stats`",
    "off": "`/peerlearn digest #general off` — stop a schedule (`prompts`, `digest` or `pairing`)",
    "now": "`/peerlearn prompt now #general` — post right away (`digest now` too)",
    "prompt": "`/peerlearn prompt add What did you automate this week?` — a prompt of your own; "
    "`/peerlearn prompt list` · `/peerlearn prompt remove 3`",
    "schedules": "`/peerlearn schedules` — what is scheduled, and when it posts next (anyone)",
    "help": HELP_USAGE,
}
# The first words /peerlearn knows, with the usage line a near miss of each gets.
_FIRST_WORDS = {
    "prompts": HELP_LINES["prompts"],
    "prompt": HELP_LINES["prompt"],
    "digest": HELP_LINES["digest"],
    "pairing": HELP_LINES["pairing"],
    "schedules": HELP_LINES["schedules"],
    "help": HELP_USAGE,
}
OFF_USAGE = "`/peerlearn prompts #channel off` or `/peerlearn digest #channel off`"
NOW_USAGE = "`/peerlearn prompt now [#channel]` or `/peerlearn digest now [#channel]`"
ADD_USAGE = "`/peerlearn prompt add &lt;question, up to 500 characters&gt;`"
REMOVE_USAGE = "`/peerlearn prompt remove &lt;number&gt;` (the numbers are in `/peerlearn prompt list`)"


@dataclass(frozen=True)
class ChannelRef:
    id: str | None
    name: str | None

    def mention(self) -> str:
        return f"<#{self.id}>" if self.id else f"#{self.name}"


@dataclass(frozen=True)
class PairingOptions:
    mode: Mode = Mode.COFFEE
    size: int = 2  # people per group: 2 or 3
    window: int = 6  # rounds of the channel in which a pair that met is not paired again


@dataclass(frozen=True)
class SetSchedule:
    kind: PostKind
    channel: ChannelRef
    cadence: str  # daily | weekdays | weekly | biweekly, as bot.cadence reads it
    weekday: int | None
    at: time
    zone: str | None  # None: the admin's own time zone
    channel_only: bool
    pairing: PairingOptions | None = None  # pairing rounds only


@dataclass(frozen=True)
class PreviewPairing:
    channel: ChannelRef


@dataclass(frozen=True)
class PairingFigures:
    channel: ChannelRef


@dataclass(frozen=True)
class TurnOff:
    kind: PostKind
    channel: ChannelRef


@dataclass(frozen=True)
class PostNow:
    kind: PostKind
    channel: ChannelRef | None  # None: where the command was run


@dataclass(frozen=True)
class ListSchedules:
    pass


@dataclass(frozen=True)
class AddPrompt:
    text: str  # plain text, as the person typed it


@dataclass(frozen=True)
class ListPrompts:
    pass


@dataclass(frozen=True)
class RemovePrompt:
    number: int  # the prompt's number in the workspace, as `/peerlearn prompt list` shows it; not its id


@dataclass(frozen=True)
class PeerlearnHelp:
    problem: str | None = None


@dataclass(frozen=True)
class InvalidCommand:
    problem: str
    usage: str  # the one usage line that fits what was tried


PeerlearnChange = SetSchedule | TurnOff | PostNow | AddPrompt | RemovePrompt
PairingRead = PreviewPairing | PairingFigures  # admins only, answered after the ack
PeerlearnCommand = PeerlearnChange | PairingRead | ListSchedules | ListPrompts | PeerlearnHelp | InvalidCommand


def parse_peerlearn_command(text: str) -> PeerlearnCommand:
    words = text.split()
    if not words or words[0].lower() == "help":
        return PeerlearnHelp()
    first = words[0].lower()
    if first == "schedules":
        return ListSchedules()
    if first not in _KINDS:
        return InvalidCommand(*unknown_word(shown(words[0]), _FIRST_WORDS, HELP_USAGE))
    kind, rest = _KINDS[first], words[1:]
    if not rest:
        return InvalidCommand("Tell me the channel and when.", USAGE[kind])
    action = rest[0].lower()
    if kind is PostKind.PROMPT and action in ("add", "list", "remove"):
        return _prompt_command(action, text.split(None, 2)[2] if len(words) > 2 else "")
    if action == "now":
        return _post_now(kind, rest[1:])
    channel = parse_channel(rest[0])
    if channel is None:
        return InvalidCommand(f"`{shown(rest[0])}` is not a channel; pick one as you type `#`.", USAGE[kind])
    if kind is PostKind.PAIRING and len(rest) > 1 and rest[1].lower() in ("now", "preview", "stats"):
        if len(rest) > 2:
            return InvalidCommand(f"`{rest[1].lower()}` takes nothing after it.", PAIRING_USAGE)
        match rest[1].lower():
            case "now":
                return PostNow(kind, channel)
            case "preview":
                return PreviewPairing(channel)
            case _:
                return PairingFigures(channel)
    if len(rest) > 1 and rest[1].lower() == "off":
        if len(rest) > 2:
            return InvalidCommand(f"`off` takes nothing after it (I read `{shown(rest[2])}`).", OFF_USAGE)
        return TurnOff(kind, channel)
    try:
        return _set_schedule(kind, channel, rest[1:])
    except CadenceError as error:
        return InvalidCommand(str(error), USAGE[kind])


def parse_channel(token: str) -> ChannelRef | None:
    """A channel as Slack sends it (`<#C123|name>` when the command escapes) or typed (`#name`)."""
    match = _CHANNEL.match(token)
    if not match:
        return None
    if match.group(1):
        return ChannelRef(id=match.group(1), name=match.group(2) or None)
    return ChannelRef(id=None, name=match.group(3))


def _post_now(kind: PostKind, words: list[str]) -> PeerlearnCommand:
    if not words:
        return PostNow(kind, None)
    channel = parse_channel(words[0])
    if channel is None or len(words) > 1:
        return InvalidCommand(f"`{shown(' '.join(words))}` is not a channel.", NOW_USAGE)
    return PostNow(kind, channel)


def _set_schedule(kind: PostKind, channel: ChannelRef, words: list[str]) -> SetSchedule:
    if too_long := next((word for word in words if len(word) > MAX_WORD), None):
        raise CadenceError(f"`{shown(too_long)}` is far too long to be a day, a time or a time zone.")
    cadence, weekday, rest = parse_when(words)
    if not rest:
        raise CadenceError("Say at what time, in 24-hour HH:MM.")
    at = parse_clock(rest[0])
    zone = None
    channel_only = False
    pairing = PairingOptions() if kind is PostKind.PAIRING else None
    words = rest[1:]
    while words:
        word, words = words[0], words[1:]
        lower = word.lower()
        if lower == "channel-only" and kind is PostKind.DIGEST:
            channel_only = True
        elif pairing is not None and lower in MODES:
            pairing = replace(pairing, mode=MODES[lower])
        elif pairing is not None and lower in ("size", "norepeat"):
            number = (
                _bounded(words[0] if words else "", 2, 3)
                if lower == "size"
                else _bounded(words[0] if words else "", 1, MAX_WINDOW)
            )
            if number is None:
                bounds = "2 or 3" if lower == "size" else f"1 to {MAX_WINDOW}"
                raise CadenceError(f"`{lower}` takes a number from {bounds}.")
            pairing = replace(pairing, size=number) if lower == "size" else replace(pairing, window=number)
            words = words[1:]
        elif zone is None and ("/" in word or word.upper() == "UTC"):
            zone = parse_zone("UTC" if word.upper() == "UTC" else word)
        elif pairing is not None and _close_to_mode(lower):
            raise CadenceError(f"`{shown(word)}` is not a mode; use `mentorship`, `cross-team` or `coffee`.")
        else:
            raise CadenceError(f"I don't understand `{shown(word)}` there.")
    return SetSchedule(kind, channel, cadence, weekday, at, zone, channel_only, pairing)


def _bounded(word: str, low: int, high: int) -> int | None:
    if not re.fullmatch(r"[0-9]{1,2}", word):
        return None
    number = int(word)
    return number if low <= number <= high else None


def _close_to_mode(word: str) -> bool:
    return bool(difflib.get_close_matches(word, list(MODES), n=1, cutoff=0.6))


def parse_zone(text: str) -> str:
    """A time zone name from the tz database, exactly as it is spelled there."""
    if text not in known_zones():
        raise CadenceError(
            f"`{shown(text)}` is not a time zone I know; use an Area/City name, e.g. `Europe/Berlin` "
            "or `America/New_York`."
        )
    return text


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _prompt_command(action: str, argument: str) -> PeerlearnCommand:
    if action == "list":
        return ListPrompts()
    if action == "add":
        return AddPrompt(slack_to_plain(argument))
    number = _NUMBER.match(argument.strip())
    if number is None:
        problem = (
            f"`{shown(argument.strip())}` is not a prompt number."
            if argument.strip()
            else "Which prompt? Give its number."
        )
        return InvalidCommand(problem, REMOVE_USAGE)
    digits = number.group(1).lstrip("0")
    # Compared as text first: a thousand digits never become an int, and no number has more than ten.
    if not digits or len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
        return InvalidCommand(f"There is no prompt `{shown(number.group(1))}`.", REMOVE_USAGE)
    return RemovePrompt(int(digits))


def shown(word: str, limit: int = 40) -> str:
    """A piece of what someone typed, shown back as typed: decoded once, escaped, and cut short."""
    return truncate_escaped(slack_to_plain(word), limit)
