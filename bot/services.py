"""What use cases talk through, built once per app by the runtime and passed down (no globals).

Only the collaborators every capability shares: the database, the Slack gateway, the directory of
people and the clock. Engines that belong to one capability (the circle runner, the scheduled
poster) are passed to the use cases that need them, not carried here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.slack.gateway import SlackGateway
from bot.slack.users import UserDirectory
from storage.db import Database


@dataclass(frozen=True)
class Services:
    db: Database
    slack: SlackGateway
    users: UserDirectory
    clock: Callable[[], datetime]
    tip_emoji: str  # the reaction that nominates a message and marks a saved one
