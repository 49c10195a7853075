"""Where the app is installed: the bot token a workspace's calls are made with, its rotation under a
row lock, deletion on uninstall, and which Enterprise Grid organisation a workspace is of.

The tables are slack_sdk's (storage/models/installations.py): its store writes a new installation
through Bolt's OAuth flow; these are the reads and changes Peerlearn makes itself. Their datetimes
are naive UTC, as slack_sdk keeps them; every function here takes and gives aware ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.orm import Session

from storage.models import EnterpriseWorkspace, SlackBot, SlackInstallation
from storage.upsert import insert_if_absent


@dataclass(frozen=True)
class Bot:
    """An installation's bot, as the calls of its workspace (or organisation) need it."""

    row_id: int
    team_id: str | None  # None: installed organisation-wide (Enterprise Grid)
    enterprise_id: str | None
    token: str
    refresh_token: str | None  # set when token rotation is on
    expires_at: datetime | None
    bot_id: str | None
    bot_user_id: str | None
    scopes: str | None
    team_name: str | None
    is_enterprise_install: bool
    installed_at: datetime


def _as_bot(row: SlackBot) -> Bot:
    assert row.bot_token is not None
    return Bot(
        row_id=row.id,
        team_id=row.team_id,
        enterprise_id=row.enterprise_id,
        token=row.bot_token,
        refresh_token=row.bot_refresh_token,
        expires_at=aware(row.bot_token_expires_at),
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        scopes=row.bot_scopes,
        team_name=row.team_name,
        is_enterprise_install=bool(row.is_enterprise_install),
        installed_at=aware(row.installed_at) or datetime.min.replace(tzinfo=UTC),
    )


def aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive(value: datetime) -> datetime:
    """As slack_sdk stores datetimes: UTC without a zone."""
    return value.astimezone(UTC).replace(tzinfo=None)


def _installed(client_id: str, team_id: str | None, enterprise_id: str | None) -> ColumnElement[bool]:
    """A workspace's own installation (team ids are unique across Slack), or an organisation's."""
    if team_id is not None:
        return and_(SlackBot.client_id == client_id, SlackBot.team_id == team_id)
    return and_(
        SlackBot.client_id == client_id,
        SlackBot.enterprise_id == enterprise_id,
        SlackBot.team_id.is_(None),
        SlackBot.is_enterprise_install.is_(True),
    )


def latest_bot(session: Session, client_id: str, team_id: str | None, enterprise_id: str | None = None) -> Bot | None:
    """The newest bot token of a workspace (`team_id`), or of an organisation-wide install
    (`team_id` None, `enterprise_id`); None when there is none."""
    if team_id is None and enterprise_id is None:
        return None
    row = session.scalars(
        select(SlackBot)
        .where(_installed(client_id, team_id, enterprise_id), SlackBot.bot_token.is_not(None))
        .order_by(SlackBot.installed_at.desc(), SlackBot.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _as_bot(row)


def lock_bot(session: Session, row_id: int) -> Bot | None:
    """The bot row, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's write
    transaction already holds the database's one write lock), so one process refreshes it at a time."""
    row = session.scalars(select(SlackBot).where(SlackBot.id == row_id).with_for_update()).first()
    return None if row is None or row.bot_token is None else _as_bot(row)


def store_rotated(session: Session, bot: Bot, *, token: str, refresh_token: str, expires_at: datetime) -> None:
    """A refreshed token, on the bot row and on its installation's rows (slack_sdk reads both)."""
    values = {
        "bot_token": token,
        "bot_refresh_token": refresh_token,
        "bot_token_expires_at": naive(expires_at),
    }
    session.execute(update(SlackBot).where(SlackBot.id == bot.row_id).values(**values))
    session.execute(
        update(SlackInstallation)
        .where(
            SlackInstallation.team_id.is_(None) if bot.team_id is None else SlackInstallation.team_id == bot.team_id,
            SlackInstallation.enterprise_id.is_(None)
            if bot.enterprise_id is None
            else SlackInstallation.enterprise_id == bot.enterprise_id,
            SlackInstallation.installed_at == naive(bot.installed_at),
        )
        .values(**values)
    )


def delete_installations(
    session: Session,
    client_id: str,
    team_id: str | None,
    enterprise_id: str | None,
    *,
    installed_before: datetime | None = None,
) -> int:
    """Forget a workspace's (or, with `team_id` None, an organisation-wide) installations and bots.

    With `installed_before`, only those made before then: an uninstall that Slack delivers after a
    reinstall leaves the reinstall alone. The number of bot rows deleted."""
    if team_id is None and enterprise_id is None:
        return 0
    bots = _installed(client_id, team_id, enterprise_id)
    if team_id is not None:
        installations = and_(SlackInstallation.client_id == client_id, SlackInstallation.team_id == team_id)
    else:
        installations = and_(
            SlackInstallation.client_id == client_id,
            SlackInstallation.enterprise_id == enterprise_id,
            SlackInstallation.team_id.is_(None),
        )
    if installed_before is not None:
        bots = and_(bots, SlackBot.installed_at < naive(installed_before))
        installations = and_(installations, SlackInstallation.installed_at < naive(installed_before))
    session.execute(delete(SlackInstallation).where(installations))
    return session.execute(delete(SlackBot).where(bots)).rowcount  # type: ignore[attr-defined, no-any-return]


def installed_teams(session: Session, client_id: str) -> list[tuple[str | None, str | None]]:
    """(team, enterprise) of every installation with a bot token; team None for an organisation's."""
    rows = session.execute(
        select(SlackBot.team_id, SlackBot.enterprise_id)
        .where(SlackBot.client_id == client_id, SlackBot.bot_token.is_not(None))
        .distinct()
    )
    return [(team, enterprise) for team, enterprise in rows]


def enterprise_of(session: Session, team_id: str) -> str | None:
    return session.scalar(select(EnterpriseWorkspace.enterprise_id).where(EnterpriseWorkspace.team_id == team_id))


def teams_of_enterprise(session: Session, enterprise_id: str) -> list[str]:
    return list(
        session.scalars(select(EnterpriseWorkspace.team_id).where(EnterpriseWorkspace.enterprise_id == enterprise_id))
    )


def remember_enterprise(session: Session, team_id: str, enterprise_id: str, now: datetime) -> None:
    """Note that a workspace is of this organisation (once; a workspace never changes organisation)."""
    insert_if_absent(
        session,
        EnterpriseWorkspace,
        {"team_id": team_id, "enterprise_id": enterprise_id, "seen_at": now},
        ["team_id"],
    )
