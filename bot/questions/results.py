"""What the use cases of questions give back, for the handlers to render (bot/questions/blocks.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.kit import Block
from storage.models import Question, Tip


@dataclass(frozen=True)
class Suggested:
    question: Question
    tips: list[Tip]
    in_thread: bool = False  # shown in the question's thread (else to the person who asked, alone)


@dataclass(frozen=True)
class Routed:
    question: Question
    asked: int


@dataclass(frozen=True)
class TipsOnly:
    """A private conversation: the tips that match, and nothing stored or sent to anyone."""

    tips: list[Tip]


@dataclass(frozen=True)
class Refused:
    message: str


Asked = Suggested | Routed | TipsOnly | Refused


@dataclass(frozen=True)
class Reply:
    """What the person who clicked hears; `replace`: instead of the message they clicked in."""

    text: str
    blocks: list[Block] | None = None
    replace: bool = False
