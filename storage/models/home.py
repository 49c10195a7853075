"""Who has seen the App Home, and the channels the bot has introduced itself in (once each, ever)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow


class HomeVisit(Base):
    """A person's first opening of the Home tab: it alone shows the welcome. The request that made
    it is kept, so a rerun of that request's job shows the welcome again (not a later opening)."""

    __tablename__ = "home_visits"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    first_key: Mapped[str] = mapped_column(String(64))  # bot/slack/requests.py's key of the first opening
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelIntro(Base):
    """The bot's one introduction in a channel it was added to: claimed by the request of the join
    that first saw it, posted with message metadata naming the channel, and its ts kept."""

    __tablename__ = "channel_intros"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64))  # the join whose job posts it
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime | None]
