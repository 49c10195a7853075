"""Prompt, digest and pairing schedules, the post ledger, custom prompts, the scheduler's lease."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow
from storage.models.numbers import PROMPT, next_number


class Schedule(Base):
    """A channel's prompt or digest schedule. The truth about schedules lives here, not in APScheduler."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    channel_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(16))  # prompt | digest
    cadence: Mapped[str] = mapped_column(String(16))  # daily | weekdays | weekly | biweekly
    weekday: Mapped[int | None]
    at_time: Mapped[str] = mapped_column(String(5))  # HH:MM, wall clock in `zone`
    zone: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[date | None] = mapped_column(Date)  # biweekly: a date in a posting week
    scope: Mapped[str] = mapped_column(String(16), default="workspace")  # digest: workspace | channel
    # Pairing rounds: mentorship | cross-team | coffee, people per group, rounds before a pair may meet again
    pairing_mode: Mapped[str | None] = mapped_column(String(16))
    pairing_size: Mapped[int | None]
    pairing_window: Mapped[int | None]
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # The period of the last firing handled (claimed or skipped): lets a tick skip it without a write.
    last_period: Mapped[str | None] = mapped_column(String(64))
    configured_by: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "channel_id", "kind", name="uq_schedules_channel_kind"),)


class ScheduledPost(Base):
    """The post ledger: one row per (team, channel, kind, period), claimed before anything is posted."""

    __tablename__ = "scheduled_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    channel_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(64))  # the firing's local date, or "now:<id>" for manual posts
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | posted | failed | skipped
    lease_until: Mapped[datetime | None]
    lease_holder: Mapped[str | None] = mapped_column(String(128))  # the process whose heartbeat renews it
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime | None]
    prompt_key: Mapped[str | None] = mapped_column(String(64))
    prompt_cycle: Mapped[int | None]
    resurfaced_tip_id: Mapped[int | None]
    reply_count: Mapped[int] = mapped_column(default=0)
    requested_by: Mapped[str | None] = mapped_column(SlackId)  # who asked for a post "now"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "kind", "period", name="uq_scheduled_posts_period"),
        Index("ix_scheduled_posts_channel_due", "team_id", "channel_id", "kind", "due_at"),
        Index("ix_scheduled_posts_message", "team_id", "channel_id", "message_ts"),
        Index("ix_scheduled_posts_status", "status", "lease_until"),
    )


class CustomPrompt(Base):
    __tablename__ = "custom_prompts"

    id: Mapped[int] = mapped_column(primary_key=True)  # the internal key: `custom:<id>` in the post ledger
    team_id: Mapped[str] = mapped_column(SlackId, index=True)
    # What admins see and type (`/peerlearn prompt remove 3`): 1, 2, 3 … within the workspace (migration 0022).
    number: Mapped[int] = mapped_column(default=next_number(PROMPT), server_default="0")
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    __table_args__ = (Index("uq_custom_prompts_number", "team_id", "number", unique=True),)


class SchedulerLease(Base):
    """A named lease, held by one process at a time: which scheduler process may post right now
    ("scheduled-posts"), and which process refreshes an installation's token ("token-refresh:<bot row>").
    Infrastructure, not workspace data: no team id."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
