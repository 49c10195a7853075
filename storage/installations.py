"""Where the app is installed: the bot token a workspace's calls are made with, its rotation (a short
refresh lease per bot row, then a compare-and-set store: no lock is held while Slack is asked),
deletion on uninstall, and which Enterprise Grid organisation a workspace is of.

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
from storage.schedules import acquire_lease, release_lease
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


def bot_by_id(session: Session, row_id: int) -> Bot | None:
    """The bot row as stored now (None when it is gone, or holds no token)."""
    row = session.get(SlackBot, row_id, populate_existing=True)
    return None if row is None or row.bot_token is None else _as_bot(row)


def _refresh_lease(row_id: int) -> str:
    return f"token-refresh:{row_id}"  # a named lease (scheduler_leases), beside the scheduler's own


def take_refresh_lease(session: Session, row_id: int, holder: str, now: datetime, until: datetime) -> bool:
    """Take the right to refresh this bot row's token until `until` (free, run out, or ours already):
    whoever holds it is the one process asking Slack; True when that is `holder`."""
    return acquire_lease(session, _refresh_lease(row_id), holder, now, until)


def release_refresh_lease(session: Session, row_id: int, holder: str) -> None:
    release_lease(session, _refresh_lease(row_id), holder)


def store_rotated(session: Session, bot: Bot, *, token: str, refresh_token: str, expires_at: datetime) -> bool:
    """A refreshed token, on the bot row and on its installation's rows (slack_sdk reads both), if
    the row still holds the refresh token `bot` was refreshed with (compare-and-set): False when
    another refresh (or a reinstall) changed it meanwhile, and nothing is stored."""
    values = {
        "bot_token": token,
        "bot_refresh_token": refresh_token,
        "bot_token_expires_at": naive(expires_at),
    }
    changed = session.execute(
        update(SlackBot)
        .where(SlackBot.id == bot.row_id, SlackBot.bot_refresh_token == bot.refresh_token)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        return False
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
    return True


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


def has_installation(session: Session, team_id: str) -> bool:
    """Whether an installation with a bot token serves the workspace (its own, or its organisation's),
    whatever that token's state: a workspace whose token can't be had for now is still installed."""
    own = select(SlackBot.id).where(SlackBot.team_id == team_id, SlackBot.bot_token.is_not(None)).limit(1)
    if session.scalar(own) is not None:
        return True
    organisation = enterprise_of(session, team_id)
    if organisation is None:
        return False
    organisations = select(SlackBot.id).where(
        SlackBot.enterprise_id == organisation,
        SlackBot.team_id.is_(None),
        SlackBot.is_enterprise_install.is_(True),
        SlackBot.bot_token.is_not(None),
    )
    return session.scalar(organisations.limit(1)) is not None


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
