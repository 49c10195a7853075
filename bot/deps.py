"""What every handler needs, built once per app by the factory and passed in (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.circle_rounds import CircleRunner
from bot.config import Settings
from bot.posting import ScheduledPoster
from bot.slack_api import SlackGateway, UserDirectory
from storage.db import Database


@dataclass(frozen=True)
class Deps:
    settings: Settings
    db: Database
    slack: SlackGateway
    users: UserDirectory
    clock: Callable[[], datetime]
    poster: ScheduledPoster
    circles: CircleRunner
