"""What the runtime keeps: processed events, the job queue and recent request keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow


class ProcessedEvent(Base):
    """Events API deliveries already handled, so Slack's retries change nothing (kept a week)."""

    __tablename__ = "processed_events"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Job(Base):
    """Work a listener left for after its ack: the Slack request it came from, run by a job worker.

    `due_at` is when the row may next be claimed: its (re)try time while queued, its lease expiry
    while running (renewed by its worker's heartbeat; a dead worker's job is claimed again once it
    passes); None once failed for good.
    """

    __tablename__ = "jobs"

    # 64-bit on PostgreSQL: at 200 jobs/s a 32-bit id runs out in four months. SQLite's INTEGER
    # PRIMARY KEY is 64-bit already (and only that exact type is the rowid).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    listener: Mapped[str] = mapped_column(String(128))  # the lazy listener's name
    mode: Mapped[str] = mapped_column(String(16))  # http (raw body) | socket_mode (JSON body)
    content_type: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # queued | running | failed
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None]
    holder: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_jobs_due", "due_at", "id"), Index("ix_jobs_team_state", "team_id", "state"))


class RequestKey(Base):
    """The Slack requests whose jobs were queued lately (kept minutes, past Slack's 5-minute replay
    window): a replayed request, or an event Slack delivers again, finds its key and queues nothing."""

    __tablename__ = "request_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # request_key(body) + ":" + listener
    batch: Mapped[str] = mapped_column(String(32))  # the enqueue transaction that stored it
    seen_at: Mapped[datetime] = mapped_column(index=True)
