"""What `/tip <text>` asks for, and the strict readers of the other input tips take from Slack.

A leading keyword (help, search, top, mine, delete) makes a command. A keyword with one argument
that doesn't fit is a mistyped command and gets its one usage line; a keyword followed by a sentence
is a tip ("/tip Delete merged branches weekly" shares that tip). A near miss of a keyword
(`/tip serach docker`, `/tip helpme`) and a text too short to teach anything are never shared
straight away: the person is asked, with a button to share it anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import escape_mrkdwn, truncate
from bot.tips.rules import MAX_TIP_LENGTH, MAX_TIP_NUMBER, WINDOWS, clean_text

MIN_TIP_LENGTH = 15  # shorter ("Private wisdom", "frobnicate 12") teaches nobody much
MAX_BUTTON_VALUE = 2000  # Slack's limit for a button's value

# The one line of help that goes with each subcommand (errors show only the relevant one).
USAGE = {
    "share": "`/tip Use git worktree to review a PR without stashing #git` — share a tip (#words are tags)",
    "compose": "`/tip` — write a tip in a form",
    "search": "`/tip search docker cache` — the 10 best matches",
    "top": "`/tip top` · `/tip top month` · `/tip top all` — the most helpful tips",
    "mine": "`/tip mine` — your tips and how many found them helpful",
    "delete": "`/tip delete 42` — delete your tip #42 (admins: any tip)",
    "help": "`/tip help` — everything /tip does",
}
KEYWORDS = ("search", "top", "mine", "delete", "help")
GOOD_TIP_EXAMPLE = "/tip Run `git bisect run pytest` to find the commit that broke a test #git"


@dataclass(frozen=True)
class ShareTip:
    text: str


@dataclass(frozen=True)
class OpenComposer:
    text: str = ""  # a tip too long to share as typed opens the form with it, to trim


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
    number: int  # the tip's number in the workspace, as people see it ("Tip #3"); not its database id


@dataclass(frozen=True)
class ShowHelp:
    problem: str | None = None
    usage: str | None = None  # the one relevant usage line; None: the whole help


@dataclass(frozen=True)
class Suggest:
    """Probably a mistyped subcommand: asked about, with a button to share the text anyway."""

    text: str
    command: str  # what was probably meant, e.g. "/tip search docker"


@dataclass(frozen=True)
class TooShort:
    """Too short to be a useful tip: an example of a good one, with a button to share it anyway."""

    text: str


TipCommand = ShareTip | OpenComposer | SearchTips | TopTips | MyTips | DeleteTip | ShowHelp | Suggest | TooShort


def parse_tip_command(text: str) -> TipCommand:
    text = clean_text(text)
    if not text:
        return OpenComposer()
    keyword, _, rest = text.partition(" ")
    keyword, rest = keyword.lower(), rest.strip()
    if (command := _command(keyword, rest)) is not None:
        return command
    if len(text) > MAX_TIP_LENGTH:
        return OpenComposer(text)
    if (meant := _near_miss(keyword, rest)) is not None:
        return Suggest(text, meant)
    if len(text) < MIN_TIP_LENGTH or len(text.split()) < 2:
        return TooShort(text)
    return ShareTip(text)


def _command(keyword: str, rest: str) -> TipCommand | None:
    sentence = len(rest.split()) > 1
    if keyword == "search":
        if not rest:
            return ShowHelp("Tell me what to look for, e.g. `/tip search docker cache`.", USAGE["search"])
        return SearchTips(rest)
    if keyword == "help" and not sentence:
        return ShowHelp()
    if keyword == "top" and not sentence:
        window = rest.lower() or "week"
        if window not in WINDOWS:
            shown = escape_mrkdwn(window.replace("`", "'"))
            return ShowHelp(f"`{shown}` is not a window I know; use `/tip top week`, `month` or `all`.", USAGE["top"])
        return TopTips(window)
    if keyword == "mine" and not sentence:
        return MyTips() if not rest else ShowHelp("`/tip mine` takes nothing after it.", USAGE["mine"])
    if keyword == "delete" and not sentence:
        number = parse_tip_number(rest)
        if number is not None:
            return DeleteTip(number)
        if re.fullmatch(r"#?[0-9]+", rest):
            shown = truncate(rest.removeprefix("#"), 24)
            return ShowHelp(f"There is no tip #{shown}: tip numbers are shown on every tip.", USAGE["delete"])
        return ShowHelp("Give the tip's number, e.g. `/tip delete 42` (it is shown on every tip).", USAGE["delete"])
    return None


def parse_tip_number(text: str) -> int | None:
    """A tip number as typed (`42`, `#42`): ASCII digits within the range of tip numbers, else None."""
    number = text.strip().removeprefix("#")
    if not re.fullmatch(r"[0-9]{1,10}", number):
        return None
    value = int(number)
    return value if 1 <= value <= MAX_TIP_NUMBER else None


def _near_miss(word: str, rest: str) -> str | None:
    """The command `word rest` probably meant, when `word` is a keyword mistyped and `rest` fits it."""
    for keyword in KEYWORDS:
        # One slip (`serach`, `delte`, `mnie`), or a keyword run into more letters in a one-word text
        # (`helpme`); "deleted branches…" or "Reach out…" stay tips, since what follows doesn't fit.
        # What follows is checked first: it rules out nearly every tip, before any edit distance.
        run_on = not rest and word.startswith(keyword) and len(word) - len(keyword) <= 3
        if _fits(keyword, rest) and (run_on or _distance(word, keyword) <= 1):
            return f"/tip {keyword} {rest}".rstrip()
    return None


def _fits(keyword: str, rest: str) -> bool:
    words = rest.split()
    if keyword == "search":
        return len(words) <= 5  # a query, not a sentence
    if keyword == "top":
        return not words or (len(words) == 1 and words[0].lower() in WINDOWS)
    if keyword == "delete":
        return len(words) == 1 and words[0].lstrip("#").isdigit()
    return not words  # help, mine


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`."""
    if abs(len(a) - len(b)) > 3:
        return 4
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def share_anyway_text(value: object) -> str | None:
    """The text a *Share it anyway* button carries, strictly: a string that is a tip's text, else None."""
    if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
        return None
    text = clean_text(value)
    return text or None
