"""A workspace found with no installation (OAuth mode): the scheduler pauses its schedules and circles
(never posting there with anyone's token, nor telling its admins, whom it cannot reach), and they
resume when it is installed again (`installed`, called when an installation is saved).

This is the scheduler's own finding, for an uninstall whose event never arrived (or an installation
deleted by hand): the uninstall events themselves are bot/people/lifecycle.py's, which also purges
the workspace's data after 30 days. Only what was paused for this reason resumes here; a schedule
paused because its channel was archived stays paused until its admin sets it again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.people.lifecycle import workspace_reinstalled
from storage import installations as installation_queries
from storage import workspaces as queries
from storage.db import Database

log = logging.getLogger(__name__)

UNINSTALLED = "Peerlearn is not installed in this workspace; installing it again resumes this"


def pause_uninstalled(db: Database, team_id: str) -> None:
    """Pause every running schedule and circle of a workspace with no installation."""
    with db.transaction() as session:
        paused = queries.pause_team(session, team_id, UNINSTALLED)
    if paused:
        log.warning("team=%s is not installed: %s schedule(s) and circle(s) paused", team_id, paused)


def installed(db: Database, team_id: str | None, enterprise_id: str | None, at: datetime) -> None:
    """An installation was saved at `at`: in this workspace, or (`team_id` None) organisation-wide, in
    every workspace of it seen so far. What an uninstall (its event, or the scheduler's finding)
    paused runs again, and nothing is purged."""
    with db.snapshot() as session:
        teams = [team_id] if team_id else installation_queries.teams_of_enterprise(session, enterprise_id or "")
    for team in teams:
        workspace_reinstalled(db, team, at)
        with db.transaction() as session:
            resumed = queries.resume_team(session, team, UNINSTALLED)
        if resumed:
            log.info("team=%s installed again: %s schedule(s) and circle(s) resumed", team, resumed)
