"""The app uninstalled from a workspace (or its tokens revoked), and installed again.

Uninstalled: every schedule and circle of the workspace is paused at once (with UNINSTALLED as the
reason, so a reinstall resumes exactly those), and its data is purged PURGE_AFTER later unless a
sign of installation comes first: the app starting with a token for that workspace (auth.test),
a request from it, or (with OAuth) an installation saved. All of them call `workspace_reinstalled`.
An uninstall event older than the latest such sign (Slack delivered it late, or again) changes
nothing. The purge (`purge_uninstalled`) runs in the daily upkeep, once per workspace, and may run
again after a crash: whatever is left is deleted, the workspace is then marked purged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage import workspaces as queries
from storage.db import Database

log = logging.getLogger(__name__)

PURGE_AFTER = timedelta(days=30)
UNINSTALLED = "Peerlearn was uninstalled from this workspace; installing it again resumes this"


@dataclass(frozen=True)
class Uninstalled:
    paused: int  # schedules and circles stopped now
    purge_after: datetime


def event_time(value: object) -> datetime | None:
    """An Events API envelope's `event_time` (epoch seconds) as a moment; None when it is not one."""
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) and 0 < value < 2**33 else None


def workspace_uninstalled(db: Database, team_id: str, at: datetime, reason: str) -> Uninstalled | None:
    """The app was uninstalled (or its tokens revoked) at `at`: stop the workspace's schedules now and
    set its data to go after PURGE_AFTER. None when a sign of installation came after `at`."""
    with db.transaction() as session:
        row = queries.lifecycle(session, team_id)
        if row.reinstalled_at is not None and at <= row.reinstalled_at:
            log.info(
                "team=%s %s at %s predates the latest install (%s): nothing stops",
                team_id,
                reason,
                at,
                row.reinstalled_at,
            )
            return None
        if row.uninstalled_at is None or at > row.uninstalled_at:
            row.uninstalled_at, row.reason, row.purge_after = at, reason, at + PURGE_AFTER
        purge_after = row.purge_after
        assert purge_after is not None
        paused = queries.pause_team(session, team_id, UNINSTALLED)
    log.warning(
        "team=%s %s: %s schedules and circles stopped; data purged after %s", team_id, reason, paused, purge_after
    )
    return Uninstalled(paused, purge_after)


def workspace_reinstalled(db: Database, team_id: str, at: datetime) -> bool:
    """A sign at `at` that the app is installed in the workspace. True when it had been uninstalled
    before `at`: its schedules and circles stopped by the uninstall run again, and nothing is purged."""
    with db.transaction() as session:
        row = queries.lifecycle(session, team_id)
        uninstalled_at = row.uninstalled_at if queries.is_uninstalled(row) else None
        if row.reinstalled_at is None or at > row.reinstalled_at:
            row.reinstalled_at = at
        if uninstalled_at is None or at <= uninstalled_at:
            return False
        row.purge_after = None
        resumed = queries.resume_team(session, team_id, UNINSTALLED)
    log.warning("team=%s installed again: %s schedules and circles resumed, nothing purged", team_id, resumed)
    return True


def uninstalled_teams(db: Database) -> dict[str, datetime]:
    """Workspaces the app is uninstalled from now, and since when."""
    with db.snapshot() as session:
        return queries.uninstalled_teams(session)


def purge_uninstalled(db: Database, now: datetime) -> dict[str, int]:
    """Delete the data of every workspace uninstalled for PURGE_AFTER; rows deleted per workspace.
    Each workspace in its own transaction (one failing never stops the others)."""
    with db.snapshot() as session:
        due = queries.due_purges(session, now)
    purged: dict[str, int] = {}
    for team_id in due:
        try:
            deleted = _purge(db, team_id, now)
        except Exception:
            log.exception("purge of team=%s failed; the next upkeep tries again", team_id)
            continue
        if deleted is not None:
            purged[team_id] = deleted
    return purged


def _purge(db: Database, team_id: str, now: datetime) -> int | None:
    with db.transaction() as session:
        row = queries.lifecycle(session, team_id)  # locked: a reinstall waits, or wins before this
        if not queries.is_uninstalled(row) or row.purged_at is not None or not row.purge_after or row.purge_after > now:
            return None
        deleted = {table: queries.purge_table(session, table, team_id) for table in queries.purge_tables()}
        row.purged_at = now
    with db.queue.transaction() as session:
        deleted["jobs"] = queries.purge_jobs(session, team_id)
    total = sum(deleted.values())
    log.warning("team=%s purged %s days after the app was uninstalled: %s rows (%s)", team_id,
                PURGE_AFTER.days, total, {table: n for table, n in deleted.items() if n})  # fmt: skip
    return total
