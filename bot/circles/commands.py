"""What `/circle <text>` asks for: a closed union, dispatched with `match` in handlers/circles.py.

`/circle <action> <circle name>`; `pause` may end in a number of rounds (1 to 12) and `checkin` must
end in `now`. A mistake is answered with what was wrong and the one usage line that fixes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.circles.rules import MAX_PAUSE_ROUNDS, clean_line
from bot.text import escape_mrkdwn
from bot.usage import unknown_word

# One line per action, each with an example: the help lists them all, a mistake gets its own.
USAGE = {
    "create": "`/circle create Rust learners` — start a circle (a form opens: schedule, questions, channel)",
    "join": "`/circle join Rust learners` — join a circle (or its *Join* button)",
    "leave": "`/circle leave Rust learners` — leave it",
    "list": "`/circle list` — every circle, its members and next check-in",
    "info": "`/circle info Rust learners` — members, schedule, an open check-in, streaks",
    "pause": "`/circle pause Rust learners 2` — sit out the next 2 rounds (1 to 12, default 1)",
    "checkin": "`/circle checkin Rust learners now` — open a check-in right away (owner or admin)",
    "edit": "`/circle edit Rust learners` — change its settings (owner or admin)",
    "archive": "`/circle archive Rust learners` — end it (owner or admin)",
    "help": "`/circle help` — everything /circle does",
}


@dataclass(frozen=True)
class CreateCircle:
    name: str  # prefills the form; may be empty


@dataclass(frozen=True)
class JoinCircle:
    name: str


@dataclass(frozen=True)
class LeaveCircle:
    name: str


@dataclass(frozen=True)
class ListCircles:
    pass


@dataclass(frozen=True)
class CircleInfo:
    name: str


@dataclass(frozen=True)
class PauseCircle:
    name: str
    rounds: int  # 1..MAX_PAUSE_ROUNDS


@dataclass(frozen=True)
class CheckinNow:
    name: str


@dataclass(frozen=True)
class EditCircle:
    name: str


@dataclass(frozen=True)
class ArchiveCircle:
    name: str


@dataclass(frozen=True)
class ShowHelp:
    problem: str | None = None
    usage: str | None = None  # the one usage line that fixes the problem; None: the whole help


CircleCommand = (
    CreateCircle
    | JoinCircle
    | LeaveCircle
    | ListCircles
    | CircleInfo
    | PauseCircle
    | CheckinNow
    | EditCircle
    | ArchiveCircle
    | ShowHelp
)

_NAMED: dict[str, Callable[[str], CircleCommand]] = {
    "join": JoinCircle,
    "leave": LeaveCircle,
    "info": CircleInfo,
    "edit": EditCircle,
    "archive": ArchiveCircle,
}
_ROUNDS = re.compile(r"[0-9]{1,2}")  # a longer number is part of the name ("Rust 2024")


def parse_circle_command(text: str) -> CircleCommand:
    words = clean_line(text).split()
    if not words:
        return ShowHelp()
    action, rest = words[0].lower(), words[1:]
    name = " ".join(rest)
    match action:
        case "help":
            return ShowHelp()
        case "list":
            return ListCircles()
        case "create":
            return CreateCircle(name)
        case "pause":
            return _pause(rest)
        case "checkin":
            if not rest or rest[-1].lower() != "now":
                return ShowHelp("Say `now` at the end.", USAGE["checkin"])
            return CheckinNow(" ".join(rest[:-1])) if rest[:-1] else _which("checkin", " now")
        case _ if action in _NAMED:
            return _NAMED[action](name) if name else _which(action)
        case _:
            return ShowHelp(*unknown_word(escape_mrkdwn(words[0][:40]), USAGE, USAGE["help"]))


def _pause(rest: list[str]) -> CircleCommand:
    rounds = 1
    if len(rest) > 1 and _ROUNDS.fullmatch(rest[-1]):
        rounds, rest = int(rest[-1]), rest[:-1]
        if not 1 <= rounds <= MAX_PAUSE_ROUNDS:
            return ShowHelp(f"Pause for 1 to {MAX_PAUSE_ROUNDS} rounds.", USAGE["pause"])
    return PauseCircle(" ".join(rest), rounds) if rest else _which("pause")


def _which(action: str, tail: str = "") -> ShowHelp:
    return ShowHelp(f"Which circle? e.g. `/circle {action} Rust learners{tail}`.", USAGE[action])
