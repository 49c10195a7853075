"""A workspace the app is no longer installed in: the scheduler pauses its schedules and circles
(never posting there with anyone's token, nor telling its admins, whom it cannot reach), and they
resume when it is installed again (`resume_after_install`, called when an installation is saved).

Only what was paused for this reason resumes; a schedule paused because its channel was archived
stays paused until its admin sets it again."""

from __future__ import annotations

import logging

from storage import installations as queries
from storage.db import Database

log = logging.getLogger(__name__)

UNINSTALLED = "Peerlearn is not installed in this workspace"


def pause_uninstalled(db: Database, team_id: str) -> None:
    """Pause every running schedule and circle of a workspace with no installation."""
    with db.transaction() as session:
        schedules, circles = queries.pause_team(session, team_id, UNINSTALLED)
    if schedules or circles:
        log.warning("team=%s is not installed: %s schedule(s) and %s circle(s) paused", team_id, schedules, circles)


def resume_after_install(db: Database, team_id: str | None, enterprise_id: str | None = None) -> None:
    """Resume what `pause_uninstalled` paused: the app was installed again in this workspace, or
    (`team_id` None) organisation-wide, in every workspace of it seen so far."""
    with db.transaction() as session:
        teams = [team_id] if team_id else queries.teams_of_enterprise(session, enterprise_id) if enterprise_id else []
        for team in teams:
            schedules, circles = queries.resume_team(session, team, UNINSTALLED)
            if schedules or circles:
                log.info("team=%s installed again: %s schedule(s) and %s circle(s) resumed", team, schedules, circles)
