"""The closed sets of values prompts and digests take, so strict mypy proves every case is handled.

The database stores them as plain strings; a StrEnum member equals its string, so rows compare
with them directly, and `PostKind(row.kind)` refuses a value that is not one of ours.
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never


class PostKind(StrEnum):
    PROMPT = "prompt"
    DIGEST = "digest"


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


def describe_kind(kind: PostKind) -> str:
    """`learning prompts` / `digest`, as sentences name them."""
    match kind:
        case PostKind.PROMPT:
            return "learning prompts"
        case PostKind.DIGEST:
            return "digest"
        case _:
            assert_never(kind)


def command_word(kind: PostKind) -> str:
    """The /peerlearn word that schedules this kind: `prompts` or `digest`."""
    match kind:
        case PostKind.PROMPT:
            return "prompts"
        case PostKind.DIGEST:
            return "digest"
        case _:
            assert_never(kind)


def one_post(kind: PostKind) -> str:
    """`learning prompt` / `digest`: one post of this kind."""
    match kind:
        case PostKind.PROMPT:
            return "learning prompt"
        case PostKind.DIGEST:
            return "digest"
        case _:
            assert_never(kind)


def many_posts(kind: PostKind) -> str:
    """`learning prompts` / `digests`: posts of this kind in general."""
    match kind:
        case PostKind.PROMPT:
            return "learning prompts"
        case PostKind.DIGEST:
            return "digests"
        case _:
            assert_never(kind)


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 reply`, `2 replies`, `0 tips`."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
