"""What `/tip <text>` asks for.

A leading keyword (help, search, top, mine, delete) makes a command. A keyword with one argument
that doesn't fit is a mistyped command and gets help; a keyword followed by a sentence is a tip
("/tip Delete merged branches weekly" shares that tip).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import escape_mrkdwn
from bot.tips.rules import WINDOWS


@dataclass(frozen=True)
class ShareTip:
    text: str


@dataclass(frozen=True)
class OpenComposer:
    pass


@dataclass(frozen=True)
class SearchTips:
    query: str


@dataclass(frozen=True)
class TopTips:
    window: str


@dataclass(frozen=True)
class MyTips:
    pass


@dataclass(frozen=True)
class DeleteTip:
    tip_id: int


@dataclass(frozen=True)
class ShowHelp:
    problem: str | None = None


TipCommand = ShareTip | OpenComposer | SearchTips | TopTips | MyTips | DeleteTip | ShowHelp


def parse_tip_command(text: str) -> TipCommand:
    text = text.strip()
    if not text:
        return OpenComposer()
    keyword, _, rest = text.partition(" ")
    keyword, rest = keyword.lower(), rest.strip()
    sentence = len(rest.split()) > 1
    if keyword == "search":
        return SearchTips(rest) if rest else ShowHelp("Tell me what to look for, e.g. `/tip search docker cache`.")
    if keyword == "help" and not sentence:
        return ShowHelp()
    if keyword == "top" and not sentence:
        window = rest.lower() or "week"
        if window not in WINDOWS:
            shown = escape_mrkdwn(window)
            return ShowHelp(f"`{shown}` is not a window I know; use `/tip top week`, `month` or `all`.")
        return TopTips(window)
    if keyword == "mine" and not sentence:
        return MyTips() if not rest else ShowHelp("`/tip mine` takes nothing after it.")
    if keyword == "delete" and not sentence:
        number = rest.lstrip("#")
        if not re.fullmatch(r"[0-9]+", number):
            return ShowHelp("Give the tip's number, e.g. `/tip delete 42` (it is shown on every tip).")
        return DeleteTip(int(number))
    return ShareTip(text)
