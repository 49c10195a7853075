"""Housekeeping that keeps tables small."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from storage import events
from storage.db import Database

log = logging.getLogger(__name__)

# Slack retries a delivery within minutes; a week of event ids is a generous margin.
EVENT_MEMORY = timedelta(days=7)


def daily_upkeep(db: Database, now: datetime) -> None:
    forget_old_events(db, now)
    db.refresh_statistics()


def forget_old_events(db: Database, now: datetime) -> int:
    with db.transaction() as session:
        forgotten = events.forget_events_before(session, now - EVENT_MEMORY)
    if forgotten:
        log.info("forgot %s processed event ids older than %s", forgotten, EVENT_MEMORY)
    return forgotten
