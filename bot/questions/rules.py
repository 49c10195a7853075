"""Questions as plain values: what reads as a question, what is too little or too much to ask, what a
question is about, which tips answer it, and working hours. No database, no Slack."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cadence import local_to_utc
from bot.text import STOPWORDS, extract_tags, parse_tags, search_words, without_control_characters

MAX_QUESTION_LENGTH = 3000  # a section's text; the question is posted, DMed and searched whole
MIN_WORDS = 2
MAX_TOPICS = 5
MAX_SUGGESTIONS = 3
EXAMPLE = "`/ask How do I find the slow queries in postgres?`"

# What a question starts with (the list), when it does not end with a question mark.
QUESTION_WORDS = frozenset("how what why where who when which does is can should".split())
_LEADING_MENTIONS = re.compile(r"^(?:\s*(?:<[@#!][^>]*>|@\S+)[,:]?)+")

# States (storage/models/questions.py): open until answered, by a tip or by a person, or closed.
OPEN_STATES = ("new", "suggested", "routing", "waiting", "unanswered")
ANSWERED_BY_TIP, ANSWERED, CLOSED = "answered_by_tip", "answered", "closed"


class QuestionRejected(ValueError):
    """A question that can't be asked as it is; the message is shown to the person as-is."""


def clean_question(text: str) -> str:
    return without_control_characters(text).strip()


def check_question(text: str) -> str:
    """The question as it will be stored, or QuestionRejected saying what to do instead."""
    text = clean_question(text)
    if not text:
        raise QuestionRejected(f"What would you like to ask? For example: {EXAMPLE}")
    if len(text) > MAX_QUESTION_LENGTH:
        raise QuestionRejected(
            f"That question is {len(text):,} characters; the limit is {MAX_QUESTION_LENGTH:,}. "
            "Ask the heart of it, and add the details in the thread."
        )
    if len(text.split()) < MIN_WORDS:
        raise QuestionRejected(
            f"Ask a whole question, so the people who know can tell it's for them. For example: {EXAMPLE}"
        )
    return text


def reads_as_question(text: str) -> bool:
    """A message in a questions channel that reads as a question: it ends with `?`, or its first word
    (after any mentions) is how/what/why/where/who/when/which/does/is/can/should."""
    stripped = _LEADING_MENTIONS.sub("", text).strip()
    if not stripped:
        return False
    if stripped.rstrip(" )\"'*_~").endswith("?"):
        return True
    first = stripped.split(None, 1)[0].lower().strip(",.:;!*_~\"'").replace("’", "'")
    return first.removesuffix("'s") in QUESTION_WORDS  # "what's", "how's"; but "can't" is no question


def topic_candidates(text: str, limit: int = 30) -> list[str]:
    """Words that may be the question's topics, in order: its `#tags` first, then its other words
    normalised like tags (`Postgres?` → `postgres`, `node.js` stays), each with its singular."""
    found: dict[str, None] = dict.fromkeys(extract_tags(text))
    for word in parse_tags(text.replace("#", " ")):
        if word in STOPWORDS or word.isdigit() or len(word) < 2:
            continue
        found.setdefault(word, None)
        for suffix in ("es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
                found.setdefault(word[: -len(suffix)], None)
    return list(found)[:limit]


def choose_topics(text: str, known: Iterable[str]) -> tuple[str, ...]:
    """The question's topics: its `#tags`, then the words the workspace knows as tags or skills."""
    explicit = extract_tags(text)
    known = set(known)
    chosen = [word for word in topic_candidates(text) if word in explicit or word in known]
    return tuple(chosen[:MAX_TOPICS])


# -- answers from tips ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def words_in_common(question: str, tip_text: str) -> int:
    """How many of the question's meaningful words (stemmed) the tip has."""
    wanted = {_stem(word) for word in search_words(question)}
    have = {_stem(word.lower()) for word in _WORD.findall(tip_text)}
    return len(wanted & have)


def is_good_match(question: str, tip_text: str) -> bool:
    """A tip that shares enough of the question's words to be worth showing: its one word, or at
    least half of them (2 at least, 3 at most needed)."""
    words = len({_stem(word) for word in search_words(question)})
    if words == 0:
        return False
    needed = 1 if words == 1 else min(3, max(2, math.ceil(words / 2)))
    return words_in_common(question, tip_text) >= needed


# -- working hours -------------------------------------------------------------------------------

WORK_START, WORK_END = time(9, 0), time(18, 0)
WORKDAYS = range(0, 5)  # Monday to Friday


def zone_of(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def in_working_hours(moment: datetime, zone: str | None) -> bool:
    local = moment.astimezone(zone_of(zone))
    return local.weekday() in WORKDAYS and WORK_START <= local.time() < WORK_END


def add_working_hours(start: datetime, hours: float, zone: str | None) -> datetime:
    """`start` plus `hours` counted only within working hours (Mon-Fri 09:00-18:00 in `zone`)."""
    tz = zone_of(zone)
    remaining = timedelta(hours=hours)
    moment = start
    for _ in range(3660):  # ten years of days: bounded, whatever the input
        day = moment.astimezone(tz).date()
        opens, closes = _window(day, tz)
        if day.weekday() in WORKDAYS and moment < closes:
            begin = max(moment, opens)
            if begin + remaining <= closes:
                return begin + remaining
            remaining -= closes - begin
        moment = _window(day + timedelta(days=1), tz)[0]
    return moment


def _window(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    if isinstance(tz, ZoneInfo):
        return local_to_utc(day, WORK_START, tz), local_to_utc(day, WORK_END, tz)
    return datetime.combine(day, WORK_START, tz), datetime.combine(day, WORK_END, tz)


@dataclass(frozen=True)
class Measures:
    """What came of the questions asked in a period."""

    asked: int
    answered_by_tips: int
    answered_by_people: int
    median_first_reply: timedelta | None  # from asking to the first reply in the thread
    escalated: int
    saved_as_tips: int
