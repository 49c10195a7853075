"""Where the app is installed: Slack's OAuth installations, bots and states, and which Enterprise Grid
organisation a workspace belongs to.

The first three are the tables of slack_sdk's SQLAlchemy stores (`SQLAlchemyInstallationStore`,
`SQLAlchemyOAuthStateStore`), column for column, so those stores read and write them on our engine
while the migrations (0017) make them; tests/storage/test_installations.py holds the two definitions
equal. Their datetimes are naive UTC, as slack_sdk writes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow

_TOKEN = String(200)


class _BotColumns:
    """What an installation row and a bot row both keep of the bot: its workspace and token."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(32))  # None for an organisation-wide install
    team_name: Mapped[str | None] = mapped_column(String(200))
    bot_token: Mapped[str | None] = mapped_column(_TOKEN)
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str | None] = mapped_column(String(1000))
    bot_refresh_token: Mapped[str | None] = mapped_column(_TOKEN)
    bot_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False)
    installed_at: Mapped[datetime] = mapped_column(DateTime, default=func.now())


class SlackInstallation(_BotColumns, Base):
    """One installation (or reinstallation) of the app, by whoever installed it; the newest wins."""

    __tablename__ = "slack_installations"

    enterprise_url: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(32))
    user_token: Mapped[str | None] = mapped_column(_TOKEN)
    user_scopes: Mapped[str | None] = mapped_column(String(1000))
    user_refresh_token: Mapped[str | None] = mapped_column(_TOKEN)
    user_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    incoming_webhook_url: Mapped[str | None] = mapped_column(String(200))
    incoming_webhook_channel: Mapped[str | None] = mapped_column(String(200))
    incoming_webhook_channel_id: Mapped[str | None] = mapped_column(String(200))
    incoming_webhook_configuration_url: Mapped[str | None] = mapped_column(String(200))
    token_type: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
    )


class SlackBot(_BotColumns, Base):
    """The bot token of an installation: what every Slack call of that workspace is made with."""

    __tablename__ = "slack_bots"
    __table_args__ = (Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),)


class SlackOAuthState(Base):
    """An install begun on our page: its `state`, good once and until it expires."""

    __tablename__ = "slack_oauth_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(200))
    expire_at: Mapped[datetime] = mapped_column(DateTime)


class EnterpriseWorkspace(Base):
    """A workspace seen in a request of an Enterprise Grid organisation: which organisation it is of,
    so the scheduler and job worker, which have no request, find an organisation-wide install's token."""

    __tablename__ = "enterprise_workspaces"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(SlackId)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
