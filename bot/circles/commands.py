"""What `/circle <text>` asks for: a closed union, dispatched with `match` in handlers/circles.py.

`/circle <action> <circle name>`; `pause` may end in a number of rounds (1 to 12) and `checkin` must
end in `now`. Anything else is help, led by what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.circles.rules import MAX_PAUSE_ROUNDS, clean_line
from bot.text import escape_mrkdwn


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
                return ShowHelp("Say `now`: `/circle checkin Rust learners now`.")
            return CheckinNow(" ".join(rest[:-1])) if rest[:-1] else _which("checkin", " now")
        case _ if action in _NAMED:
            return _NAMED[action](name) if name else _which(action)
        case _:
            return ShowHelp(f"I don't know `{escape_mrkdwn(words[0][:40])}`. Here is what I can do:")


def _pause(rest: list[str]) -> CircleCommand:
    rounds = 1
    if len(rest) > 1 and _ROUNDS.fullmatch(rest[-1]):
        rounds, rest = int(rest[-1]), rest[:-1]
        if not 1 <= rounds <= MAX_PAUSE_ROUNDS:
            return ShowHelp(f"Pause for 1 to {MAX_PAUSE_ROUNDS} rounds, e.g. `/circle pause Rust learners 2`.")
    return PauseCircle(" ".join(rest), rounds) if rest else _which("pause")


def _which(action: str, tail: str = "") -> ShowHelp:
    return ShowHelp(f"Which circle? e.g. `/circle {action} Rust learners{tail}`.")
