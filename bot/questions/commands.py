"""What `/ask <text>` and the questions part of `/peerlearn` ask for: closed unions of frozen
dataclasses, every value bounded, dispatched with `match`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.questions.rules import EXAMPLE, QuestionRejected, check_question
from bot.schedules.commands import ChannelRef, parse_channel, shown

MAX_ID = 2**31 - 1  # questions.number is a 32-bit integer on PostgreSQL
_ID = re.compile(r"^#?([0-9]+)$")

USAGE = "\n".join(
    [
        "*Ask the workspace*",
        f"• `/ask &lt;your question&gt;` — e.g. {EXAMPLE}: first the tips that may answer it, then the "
        "colleagues who know the topic",
        "• Message menu → *Ask Peerlearn* — ask a message's question for its author",
        "• `/ask mine` — your questions, open and answered",
        "• `/ask close &lt;number&gt;` — close one of your questions (the *Close* button on it does the same)",
    ]
)
ADMIN_USAGE = (
    "`/peerlearn questions #channel on|off` — answer every question asked in a channel · "
    "`/peerlearn questions` — the channels · `/peerlearn stats [week|month|quarter|all]` — what came of questions"
)
WINDOWS = {"week": timedelta(days=7), "month": timedelta(days=30), "quarter": timedelta(days=91), "all": None}


@dataclass(frozen=True)
class AskQuestion:
    text: str  # plain text, checked by check_question


@dataclass(frozen=True)
class MyQuestions:
    pass


@dataclass(frozen=True)
class CloseQuestion:
    number: int  # the question's number in the workspace, as people see it ("#7"); not its database id


@dataclass(frozen=True)
class AskHelp:
    problem: str | None = None


AskCommand = AskQuestion | MyQuestions | CloseQuestion | AskHelp


# `close` and the words people try for it (/ask has no delete): a command's first word, not a question's.
CLOSE_LIKE = ("close", "delete", "remove", "cancel")
CLOSE_HINT = "Did you mean `/ask close &lt;number&gt;`? `/ask mine` shows your questions' numbers."


def parse_ask_command(text: str) -> AskCommand:
    """`text` is plain (Slack's markup already read). A leading keyword makes a command when at most
    one word follows it (two after a number): `/ask close 12` closes, `/ask close abc` or `/ask
    delete 3` gets a usage hint (posting "close abc" to the workspace as a question helps nobody),
    while a keyword followed by a sentence is a question: `/ask close the gap between what and how?`
    and `/ask delete 3 rows from a table without locking it?` ask."""
    words = text.split()
    first = words[0].lower() if words else ""
    # `close 3 please`; but "delete 3 rows from a table without locking it?" is a question
    numbered = first in CLOSE_LIKE and len(words) == 3 and _ID.match(words[1]) is not None
    if (len(words) <= 2 or numbered) and (command := _subcommand(first, words[1:])) is not None:
        return command
    try:
        return AskQuestion(check_question(text))
    except QuestionRejected as rejected:
        return AskHelp(str(rejected))


def _subcommand(keyword: str, rest: list[str]) -> AskCommand | None:
    if keyword == "mine":
        return AskHelp("`/ask mine` takes nothing after it.") if rest else MyQuestions()
    if keyword == "help":
        return AskHelp() if not rest else AskHelp("`/ask help` takes nothing after it.")
    if keyword not in CLOSE_LIKE:
        return None
    number = _ID.match(rest[0]) if rest else None
    if keyword != "close" or number is None or len(rest) > 1:
        if number is not None:  # `/ask delete 3`: say what does that, rather than guess
            return AskHelp(f"Did you mean `/ask close {shown(number.group(1), 12)}`?")
        return AskHelp(CLOSE_HINT)
    digits = number.group(1).lstrip("0")
    # Compared as text first: a thousand digits never become an int, and no id has more than ten.
    if not digits or len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
        return AskHelp(f"There is no question `{shown(rest[0])}`.")
    return CloseQuestion(int(digits))


# -- /peerlearn questions | stats (admins) ---------------------------------------------------------


@dataclass(frozen=True)
class ListQuestionsChannels:
    pass


@dataclass(frozen=True)
class SetQuestionsChannel:
    channel: ChannelRef
    on: bool


@dataclass(frozen=True)
class QuestionStats:
    window: str  # a key of WINDOWS


@dataclass(frozen=True)
class QuestionsAdminProblem:
    problem: str


QuestionsAdminCommand = ListQuestionsChannels | SetQuestionsChannel | QuestionStats | QuestionsAdminProblem


def is_questions_admin(text: str) -> bool:
    """`/peerlearn questions …` or `/peerlearn stats …`: ours, not the schedules'."""
    words = text.split(None, 1)
    return bool(words) and words[0].lower() in ("questions", "stats")


def parse_questions_admin(text: str) -> QuestionsAdminCommand:
    words = text.split()
    keyword, rest = words[0].lower(), words[1:]
    if keyword == "stats":
        window = rest[0].lower() if rest else "month"
        if len(rest) > 1 or window not in WINDOWS:
            return QuestionsAdminProblem(
                f"`stats` takes `week`, `month`, `quarter` or `all` (I read `{shown(' '.join(rest))}`)."
            )
        return QuestionStats(window)
    if not rest:
        return ListQuestionsChannels()
    channel = parse_channel(rest[0])
    if channel is None:
        return QuestionsAdminProblem(f"`{shown(rest[0])}` is not a channel; pick one as you type `#`.")
    switch = rest[1].lower() if len(rest) == 2 else ""
    if switch not in ("on", "off"):
        return QuestionsAdminProblem("Say `on` or `off` after the channel.")
    return SetQuestionsChannel(channel, switch == "on")
