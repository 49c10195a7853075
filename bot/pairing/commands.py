"""What `/mentor <text>` asks for: a closed set of commands, parsed once, dispatched with `match`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import escape_mrkdwn, parse_tags
from bot.text import without_control_characters as clean_text
from bot.usage import unknown_word

MAX_PAUSE_WEEKS = 52
USAGE = {
    "profile": "`/mentor profile` — what you can teach, what you want to learn, your level and team",
    "find": "`/mentor find &lt;skill&gt;` — who can help with a skill, e.g. `/mentor find postgres`",
    "me": "`/mentor me` — your profile, your current match and your past ones",
    "pause": "`/mentor pause [weeks]` — sit out pairing rounds for a while, e.g. `/mentor pause 2` "
    "(default 1 week, at most 52)",
    "resume": "`/mentor resume` — back in the pairing rounds",
    "off": "`/mentor off` — out of all pairing rounds (your profile stays findable; `/mentor resume` undoes it)",
    "help": "`/mentor help` — everything /mentor does",
}


@dataclass(frozen=True)
class EditProfile:
    pass


@dataclass(frozen=True)
class FindPeople:
    skill: str


@dataclass(frozen=True)
class ShowMe:
    pass


@dataclass(frozen=True)
class Pause:
    weeks: int


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class ShowHelp:
    problem: str | None = None
    usage: str | None = None  # the one usage line that matters, when the problem is about one command


MentorCommand = EditProfile | FindPeople | ShowMe | Pause | Resume | OptOut | ShowHelp


def parse_mentor_command(text: str) -> MentorCommand:
    words = clean_text(text).split()
    if not words:
        return ShowHelp()
    keyword, rest = words[0].lower(), words[1:]
    match keyword:
        case "profile" | "edit":
            return EditProfile()
        case "find" | "who":
            skills = parse_tags(" ".join(rest))
            if not skills:
                return ShowHelp("Name the skill you need help with.", USAGE["find"])
            return FindPeople(skills[0])
        case "me" | "status":
            return ShowMe()
        case "pause":
            return _pause(rest)
        case "resume" | "on":
            return Resume()
        case "off" | "stop":
            return OptOut()
        case "help":
            return ShowHelp()
    shown = escape_mrkdwn(keyword[:40].replace("`", "'"))
    return ShowHelp(*unknown_word(shown, USAGE, USAGE["help"]))


def _pause(rest: list[str]) -> MentorCommand:
    if not rest:
        return Pause(1)
    number = rest[0].lower().removesuffix("w").removesuffix("weeks").removesuffix("week")
    if len(rest) > 2 or not re.fullmatch(r"[0-9]{1,3}", number):
        return ShowHelp("Give the number of weeks, e.g. `/mentor pause 2`.", USAGE["pause"])
    weeks = int(number)
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        return ShowHelp(f"Pause for 1 to {MAX_PAUSE_WEEKS} weeks.", USAGE["pause"])
    return Pause(weeks)
