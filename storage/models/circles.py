"""Learning circles, their members, rounds and participants."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, StrEnumColumn, utcnow


class RoundState(StrEnum):
    """A circle round's steps, each taken once (compare-and-set): opening -> open -> closing -> closed."""

    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class ParticipantStatus(StrEnum):
    """A member's place in one round, decided before any DM goes out."""

    INVITED = "invited"
    ANSWERED = "answered"
    PAUSED = "paused"  # sitting this round out (/circle pause)
    UNREACHABLE = "unreachable"  # deactivated, DMs closed, or not in the circle's private channel


class Circle(Base):
    """A learning circle: a few people who check in with each other on a schedule."""

    __tablename__ = "circles"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(80))  # lower-cased: names are unique case-insensitively
    description: Mapped[str] = mapped_column(Text, default="")
    channel_id: Mapped[str] = mapped_column(SlackId)
    cadence: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int | None]
    at_time: Mapped[str] = mapped_column(String(5))
    zone: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[date | None] = mapped_column(Date)
    questions: Mapped[str] = mapped_column(Text)  # JSON list of 1-5 strings
    reminder_minutes: Mapped[int]
    window_minutes: Mapped[int]
    owner_id: Mapped[str] = mapped_column(SlackId)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    last_period: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The request that created it: a rerun of that job finds this circle instead of a name clash.
    created_key: Mapped[str | None] = mapped_column(String(64))
    announce_ts: Mapped[str | None] = mapped_column(String(32))  # the channel post with its Join button

    __table_args__ = (
        UniqueConstraint("team_id", "name_key", name="uq_circles_name"),
        Index("uq_circles_created_key", "team_id", "created_key", unique=True),
    )


class CircleMember(Base):
    __tablename__ = "circle_members"

    circle_id: Mapped[int] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    skip_rounds: Mapped[int] = mapped_column(default=0)  # /circle pause: rounds still to sit out
    streak: Mapped[int] = mapped_column(default=0)  # consecutive rounds answered
    last_answered_at: Mapped[datetime | None]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class CircleRound(Base):
    """One check-in round; opened, reminded and closed once each (compare-and-set on its status)."""

    __tablename__ = "circle_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    channel_id: Mapped[str] = mapped_column(SlackId)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    # reminded_at is set once, by whoever sends the reminders
    status: Mapped[RoundState] = mapped_column(StrEnumColumn(RoundState), default=RoundState.OPENING)
    lease_until: Mapped[datetime | None]  # while opening; renewed by its opener's heartbeat
    lease_holder: Mapped[str | None] = mapped_column(String(128))
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("circle_id", "period", name="uq_circle_rounds_period"),
        Index("ix_circle_rounds_status", "status", "remind_at", "closes_at"),
        Index("ix_circle_rounds_team_due", "team_id", "due_at"),
    )


class RoundParticipant(Base):
    __tablename__ = "round_participants"

    round_id: Mapped[int] = mapped_column(ForeignKey("circle_rounds.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    status: Mapped[ParticipantStatus] = mapped_column(StrEnumColumn(ParticipantStatus))
    dm_channel_id: Mapped[str | None] = mapped_column(SlackId)
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[str | None] = mapped_column(Text)  # JSON list aligned with the circle's questions
    reply_ts: Mapped[str | None] = mapped_column(String(32))  # the answers' reply in the round's thread
    answered_at: Mapped[datetime | None]
