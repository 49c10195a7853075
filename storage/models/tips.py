"""Tips, their reactions and votes, and deletions remembered for reruns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow
from storage.models.numbers import TIP, next_number

# The author of a tip whose author asked Peerlearn to forget them and keep their tips: no Slack id is
# empty, so it names nobody (shown as "a former member", never counted as a teacher).
ANONYMOUS_AUTHOR = ""


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    # What people see and type ("Tip #3", `/tip delete 3`): 1, 2, 3 … within the workspace (migration
    # 0021). The server default only lets SQLite add the column; every insert takes a number here.
    number: Mapped[int] = mapped_column(default=next_number(TIP), server_default="0")
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
    # The Slack request that made it (bot/slack/requests.py): a rerun of that request's job finds
    # this tip instead of making a second one, and its post carries the key in its metadata.
    request_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts", name="uq_tips_message"),
        # A unique index, not a constraint: SQLite adds it without rebuilding the table (and its FTS triggers).
        Index("uq_tips_request", "team_id", "request_key", unique=True),
        Index("uq_tips_number", "team_id", "number", unique=True),
        Index("ix_tips_team_created", "team_id", "created_at"),
        # created_at last: /tip top week walks the most helpful first and skips older tips in the
        # index itself, without reading their rows (migration 0019).
        Index("ix_tips_team_helpful_created", "team_id", "helpful_count", "id", "created_at"),
        Index("ix_tips_team_author", "team_id", "author_id", "created_at"),
        Index("ix_tips_team_channel_helpful", "team_id", "origin_channel_id", "helpful_count", "id"),
        Index("ix_tips_team_channel_created", "team_id", "origin_channel_id", "created_at"),
        # The admins' weekly figures: who shared, week by week, without reading the rows.
        Index("ix_tips_team_created_author", "team_id", "created_at", "author_id"),
    )


class TipDeletion(Base):
    """A deleted tip's trace, kept under the request that deleted it: a rerun of that request finds
    it and finishes the Slack side (taking the post or the mark away) instead of answering "no tip"."""

    __tablename__ = "tip_deletions"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tip_id: Mapped[int]
    # The tip's number, so `/tip delete 3` again says it was deleted (0021 gave earlier ones their id, as shown).
    number: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(SlackId)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    deleted_by: Mapped[str] = mapped_column(SlackId)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    # The tip's author, copied so "top teachers of the week" aggregates votes without a join.
    author_id: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # Covers "top teachers" (and the join to a tip's channel) without reading the rows.
        Index("ix_tip_votes_team_created_author_tip", "team_id", "created_at", "author_id", "tip_id"),
        # The admins' weekly figures: who voted, week by week, without reading the rows.
        Index("ix_tip_votes_team_created_user", "team_id", "created_at", "user_id"),
    )
