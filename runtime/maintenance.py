"""Housekeeping that keeps tables small."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.people.lifecycle import purge_uninstalled
from storage import events, jobs, people_data
from storage.db import Database

log = logging.getLogger(__name__)

# Slack retries a delivery within minutes; a week of event ids is a generous margin.
EVENT_MEMORY = timedelta(days=7)
# Failed jobs stay for an operator to look into (their error and request), then go.
FAILED_JOB_MEMORY = timedelta(days=14)
# Keys of queued requests: Slack accepts a signed request for 5 minutes and redelivers an event
# within about as long, so twice that. Job workers prune them every minute (runtime/jobs.py).
REQUEST_KEY_MEMORY = timedelta(minutes=10)
# Forget-me receipts and the records of files sent serve only reruns of their request's job (which
# come within minutes): a day is plenty, and a receipt names nobody anyway.
RERUN_MEMORY = timedelta(days=1)


def daily_upkeep(db: Database, now: datetime) -> None:
    forget_old_events(db, now)
    forget_failed_jobs(db, now)
    forget_request_keys(db, now)
    forget_rerun_records(db, now)
    purge_uninstalled_workspaces(db, now)
    db.refresh_statistics()


def purge_uninstalled_workspaces(db: Database, now: datetime) -> dict[str, int]:
    """The data of workspaces uninstalled 30 days ago and not installed since (bot/people/lifecycle.py)."""
    try:
        return purge_uninstalled(db, now)
    except Exception:  # the database unreachable: the next upkeep tries again; the rest goes on now
        log.exception("purging uninstalled workspaces failed")
        return {}


def forget_rerun_records(db: Database, now: datetime) -> int:
    cutoff = now - RERUN_MEMORY
    receipts = _forget(db, people_data.forget_receipts_before, cutoff, "forget-me receipts")
    return receipts + _forget(db, people_data.forget_deliveries_before, cutoff, "records of files sent")


def forget_old_events(db: Database, now: datetime) -> int:
    return _forget(db, events.forget_events_before, now - EVENT_MEMORY, "processed event ids")


def forget_failed_jobs(db: Database, now: datetime) -> int:
    return _forget(db.queue, jobs.forget_failed_before, now - FAILED_JOB_MEMORY, "failed jobs")


def forget_request_keys(db: Database, now: datetime) -> int:
    return _forget(db.queue, jobs.forget_request_keys_before, now - REQUEST_KEY_MEMORY, "request keys")


def _forget(db: Database, forget: Callable[[Session, datetime], int], cutoff: datetime, what: str) -> int:
    with db.transaction() as session:
        forgotten = forget(session, cutoff)
    if forgotten:
        log.info("forgot %s %s from before %s", forgotten, what, cutoff.isoformat(timespec="seconds"))
    return forgotten
