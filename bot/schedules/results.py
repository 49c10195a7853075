"""What the /peerlearn use cases and the poster come to: plain values that blocks.py renders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.cadence import Cadence
from bot.pairing.groups import Plan
from bot.pairing.stats import PairingStats
from bot.schedules.commands import ChannelRef, PairingOptions
from bot.schedules.kinds import Delivery, PostKind

# Errors that no retry will fix: the schedule pauses and its admin hears why.
PAUSING_ERRORS = {
    "channel_not_found": "the channel no longer exists or I can't see it",
    "is_archived": "the channel is archived",
    "not_in_channel": "I'm not a member of that private channel",
    "restricted_action": "the workspace doesn't allow me to post there",
}


@dataclass(frozen=True)
class Delivered:
    post_id: int
    status: Delivery
    error: str | None = None
    message_ts: str | None = None
    # Rate limited (429): still pending and held by this poster, to go out again in its workspace's
    # lane once the Retry-After has passed (bot/schedules/lanes.py). Not an outcome yet.
    held: bool = False


@dataclass(frozen=True)
class Configured:
    kind: PostKind
    channel_id: str
    cadence: Cadence
    next_at: datetime
    channel_only: bool


@dataclass(frozen=True)
class TurnedOff:
    kind: PostKind
    channel_id: str


@dataclass(frozen=True)
class NothingToTurnOff:
    kind: PostKind
    channel: ChannelRef


@dataclass(frozen=True)
class PostedNow:
    kind: PostKind
    channel_id: str
    delivered: Delivered


@dataclass(frozen=True)
class PromptAdded:
    number: int  # the prompt's number in the workspace
    text: str


@dataclass(frozen=True)
class PromptRemoved:
    number: int  # the prompt's number in the workspace


@dataclass(frozen=True)
class NoSuchPrompt:
    number: int  # the prompt's number in the workspace


Changed = Configured | TurnedOff | NothingToTurnOff | PostedNow | PromptAdded | PromptRemoved | NoSuchPrompt


@dataclass(frozen=True)
class PairingPreviewed:
    channel_id: str
    options: PairingOptions
    plan: Plan


@dataclass(frozen=True)
class PairingFiguresShown:
    channel_id: str
    stats: PairingStats


@dataclass(frozen=True)
class ScheduleEntry:
    """One line of /peerlearn schedules."""

    kind: str  # as stored: a broken row may hold anything
    channel_id: str
    cadence: Cadence | None  # None: the row can't be read
    next_at: datetime | None  # None: paused or broken
    paused_reason: str | None
    channel_only: bool
