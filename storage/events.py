"""Processed Events API deliveries (event_id), so a retried delivery is recognised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent, utcnow
from storage.upsert import insert_if_absent


def claim_event(session: Session, team_id: str, event_id: str) -> bool:
    """True the first time this event is seen. Commit together with the event's effects."""
    values = {"team_id": team_id, "event_id": event_id, "received_at": utcnow()}
    return insert_if_absent(session, ProcessedEvent, values, ["team_id", "event_id"]) is not None


def forget_events_before(session: Session, cutoff: datetime) -> int:
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
