"""Tables. Every row carries the Slack team id, so one database serves many workspaces unmixed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SlackId = String(32)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    author_id: Mapped[str] = mapped_column(SlackId)
    # Who turned someone else's message into a tip (shortcut or reaction); None for /tip.
    saved_by_id: Mapped[str | None] = mapped_column(SlackId)
    text: Mapped[str] = mapped_column(Text)
    # Lower-case tags without '#', space-separated: indexed by full-text search with the text.
    tags: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    # Where it was shared (the channel /tip ran in, or the captured message's channel).
    origin_channel_id: Mapped[str | None] = mapped_column(SlackId)
    # The Slack message that stands for the tip: reactions on it are helpful votes.
    channel_id: Mapped[str | None] = mapped_column(SlackId)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    helpful_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts", name="uq_tips_message"),
        Index("ix_tips_team_created", "team_id", "created_at"),
        Index("ix_tips_team_helpful", "team_id", "helpful_count", "id"),
        Index("ix_tips_team_author", "team_id", "author_id", "created_at"),
    )


class TipReaction(Base):
    """Each emoji a person put on a tip; their vote stands while at least one remains."""

    __tablename__ = "tip_reactions"

    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    reaction: Mapped[str] = mapped_column(String(100), primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TipVote(Base):
    """One "this helped me" per person per tip (never the author's own)."""

    __tablename__ = "tip_votes"

    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_tip_votes_team_created", "team_id", "created_at"),)


class ProcessedEvent(Base):
    """Events API deliveries already handled, so Slack's retries change nothing (kept a week)."""

    __tablename__ = "processed_events"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
