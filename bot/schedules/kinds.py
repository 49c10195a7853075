"""The closed sets of values prompts and digests take, so strict mypy proves every case is handled.

The database stores them as plain strings; a StrEnum member equals its string, so rows compare
with them directly, and `PostKind(row.kind)` refuses a value that is not one of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never


class PostKind(StrEnum):
    PROMPT = "prompt"
    DIGEST = "digest"
    PAIRING = "pairing"  # its "post" is a round: group DMs, and a line in the channel saying so


class LedgerStatus(StrEnum):
    """A post ledger row's state."""

    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"
    SKIPPED = "skipped"


class Delivery(StrEnum):
    """What one attempt at a post came to."""

    POSTED = "posted"
    RETRYING = "retrying"  # a transient failure: a later tick tries again within the grace window
    FAILED = "failed"
    PAUSED = "paused"  # a failure no retry fixes: the schedule is paused and its admin told


class Scope(StrEnum):
    """Which tips a digest counts."""

    WORKSPACE = "workspace"
    CHANNEL = "channel"


@dataclass(frozen=True)
class KindWords:
    schedule: str  # a schedule of this kind: "learning prompts for #general", "digest for #general"
    command: str  # the /peerlearn word that sets it
    one: str  # one post
    many: str  # posts in general


def words(kind: PostKind) -> KindWords:
    match kind:
        case PostKind.PROMPT:
            return KindWords("learning prompts", "prompts", "learning prompt", "learning prompts")
        case PostKind.DIGEST:
            return KindWords("digest", "digest", "digest", "digests")
        case PostKind.PAIRING:
            return KindWords("pairing rounds", "pairing", "pairing round", "pairing rounds")
        case _:
            assert_never(kind)


def describe_kind(kind: PostKind) -> str:
    return words(kind).schedule


def command_word(kind: PostKind) -> str:
    return words(kind).command


def one_post(kind: PostKind) -> str:
    return words(kind).one


def many_posts(kind: PostKind) -> str:
    return words(kind).many


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 reply`, `2 replies`, `0 tips`."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
