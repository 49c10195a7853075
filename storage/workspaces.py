"""Whether the app is installed in a workspace, its schedules stopped and started with that, and the
purge of an uninstalled workspace's data. Plain values in, rows out; no Slack here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Base, Circle, Job, Schedule, WorkspaceLifecycle
from storage.upsert import insert_if_absent

# Kept when a workspace is purged: its row says when it went and when it was purged.
_KEPT = frozenset({WorkspaceLifecycle.__tablename__})


def lifecycle(session: Session, team_id: str) -> WorkspaceLifecycle:
    """The workspace's row, made (empty: installed, as far as anyone knows) if it has none, and locked
    for the rest of the transaction on PostgreSQL (an uninstall and a reinstall take turns)."""
    insert_if_absent(session, WorkspaceLifecycle, {"team_id": team_id}, ["team_id"])
    return session.scalars(
        select(WorkspaceLifecycle).where(WorkspaceLifecycle.team_id == team_id).with_for_update()
    ).one()


def is_uninstalled(row: WorkspaceLifecycle) -> bool:
    return row.uninstalled_at is not None and (row.reinstalled_at is None or row.reinstalled_at < row.uninstalled_at)


def uninstalled_teams(session: Session) -> dict[str, datetime]:
    """Workspaces the app is uninstalled from now, with when (a few rows at most)."""
    query = select(WorkspaceLifecycle.team_id, WorkspaceLifecycle.uninstalled_at, WorkspaceLifecycle.reinstalled_at)
    query = query.where(WorkspaceLifecycle.uninstalled_at.is_not(None))
    return {
        team_id: uninstalled_at
        for team_id, uninstalled_at, reinstalled_at in session.execute(query)
        if uninstalled_at is not None and (reinstalled_at is None or reinstalled_at < uninstalled_at)
    }


def pause_team(session: Session, team_id: str, reason: str) -> int:
    """Pause every running schedule and circle of the workspace with `reason`; how many were paused.
    Those paused already for another reason keep it."""
    paused = 0
    for model in (Schedule, Circle):
        result = session.execute(
            update(model)
            .where(model.team_id == team_id, model.paused_reason.is_(None))
            .values(paused_reason=reason)
            .execution_options(synchronize_session=False)
        )
        paused += int(result.rowcount)  # type: ignore[attr-defined]
    return paused


def resume_team(session: Session, team_id: str, reason: str) -> int:
    """Resume the workspace's schedules and circles paused with `reason` (no others); how many."""
    resumed = 0
    for model in (Schedule, Circle):
        result = session.execute(
            update(model)
            .where(model.team_id == team_id, model.paused_reason == reason)
            .values(paused_reason=None)
            .execution_options(synchronize_session=False)
        )
        resumed += int(result.rowcount)  # type: ignore[attr-defined]
    return resumed


def due_purges(session: Session, now: datetime) -> list[str]:
    """Workspaces still uninstalled whose data is due to go."""
    query = select(WorkspaceLifecycle).where(
        WorkspaceLifecycle.purge_after <= now,
        WorkspaceLifecycle.purged_at.is_(None),
        or_(
            WorkspaceLifecycle.reinstalled_at.is_(None),
            WorkspaceLifecycle.reinstalled_at < WorkspaceLifecycle.uninstalled_at,
        ),
    )
    return [row.team_id for row in session.scalars(query.order_by(WorkspaceLifecycle.purge_after))]


def purge_tables() -> list[str]:
    """Every table holding workspace data (every one with a team_id), children before parents."""
    return [
        table.name
        for table in reversed(Base.metadata.sorted_tables)
        if "team_id" in table.c and table.name not in _KEPT and table.name != Job.__tablename__
    ]


def purge_table(session: Session, table_name: str, team_id: str) -> int:
    """Delete the workspace's rows of one table."""
    table = Base.metadata.tables[table_name]
    return int(session.execute(delete(table).where(table.c.team_id == team_id)).rowcount)  # type: ignore[attr-defined]


def purge_jobs(session: Session, team_id: str) -> int:
    """The workspace's queued and failed jobs (in the queue's own database on SQLite)."""
    return int(session.execute(delete(Job).where(Job.team_id == team_id)).rowcount)  # type: ignore[attr-defined]
