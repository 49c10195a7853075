"""`/peerlearn export`, `/peerlearn my-data` and `/peerlearn forget-me`: text → a typed command.

Parsed apart from the rest of /peerlearn (bot/schedules/commands.py): `parse_people_command` says
None for anything that is not one of these, and the /peerlearn listener goes on as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.schedules.commands import shown

EXPORT_USAGE = "`/peerlearn export` (admins): every tip of the workspace, as a CSV file in your DM"
MY_DATA_USAGE = "`/peerlearn my-data`: everything Peerlearn holds about you, as a JSON file in your DM"
FORGET_ME_USAGE = "`/peerlearn forget-me`: delete what Peerlearn holds about you (you confirm first)"
USAGES = (EXPORT_USAGE, MY_DATA_USAGE, FORGET_ME_USAGE)


@dataclass(frozen=True)
class ExportTips:
    pass


@dataclass(frozen=True)
class SendMyData:
    pass


@dataclass(frozen=True)
class ForgetMe:
    pass


@dataclass(frozen=True)
class PeopleUsage:
    """One of these words with something after it: the one usage line that fits."""

    problem: str
    usage: str


PeopleCommand = ExportTips | SendMyData | ForgetMe | PeopleUsage

_WORDS: dict[str, tuple[type[ExportTips | SendMyData | ForgetMe], str]] = {
    "export": (ExportTips, EXPORT_USAGE),
    "my-data": (SendMyData, MY_DATA_USAGE),
    "mydata": (SendMyData, MY_DATA_USAGE),
    "forget-me": (ForgetMe, FORGET_ME_USAGE),
    "forgetme": (ForgetMe, FORGET_ME_USAGE),
}


def parse_people_command(text: str) -> PeopleCommand | None:
    """The people's-data command `text` asks for; None when it is another /peerlearn command."""
    words = text.split()
    if not words or words[0].lower() not in _WORDS:
        return None
    kind, usage = _WORDS[words[0].lower()]
    if len(words) > 1:
        return PeopleUsage(f"`{words[0].lower()}` takes nothing after it (I read `{shown(words[1])}`).", usage)
    return kind()


def is_people_command(text: str) -> bool:
    return parse_people_command(text) is not None
