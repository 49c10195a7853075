"""Where the app stops being installed, and is installed again (OAuth mode).

- `uninstalled`: Slack's app_uninstalled or tokens_revoked event (handlers/workspace_lifecycle.py).
  From one workspace, or from an Enterprise Grid organisation (an organisation-wide install): then
  every workspace of the organisation seen so far stops at once, as the one installation that
  served them all is deleted. Each workspace's stop and purge are bot/people/lifecycle.py's.
- `pause_uninstalled`: the scheduler found a workspace it cannot serve. With no installation at all
  (an uninstall whose event never arrived, or an installation deleted by hand) its schedules and
  circles pause (never posting there with anyone's token, nor telling its admins, whom it cannot
  reach). With an installation whose token can't be had for now (a refresh failed at Slack:
  network, 5xx, 429) nothing pauses: its posts wait for a later tick.
- `refresh_refused`: Slack refused for good to refresh an expired token (the refresh token is
  revoked or spent, the installation gone): the same pause as above.
- `installed` (an installation was saved) and `refreshed` (a refresh worked, so a refusal has
  cleared): what the above paused runs again. `follow` wires these to the installation cache.

Only what was paused for these reasons resumes; a schedule paused because its channel was archived
stays paused until its admin sets it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.people.lifecycle import workspace_reinstalled, workspace_uninstalled
from bot.slack.installations import Installations
from storage import installations as installation_queries
from storage import workspaces as queries
from storage.db import Database

log = logging.getLogger(__name__)

UNINSTALLED = "Peerlearn is not installed in this workspace; installing it again resumes this"


def uninstalled(
    db: Database,
    installations: Installations | None,
    team_id: str | None,
    enterprise_id: str | None,
    *,
    organisation_wide: bool,
    at: datetime,
    reason: str,
) -> list[str]:
    """Slack says the app was uninstalled (or the bot's tokens revoked) at `at`, from the workspace
    `team_id` or, `organisation_wide`, from the organisation `enterprise_id` (whose envelope may name
    no workspace): stop each workspace concerned and, in OAuth mode, delete the installation (one
    made after `at`, a reinstall, stays; and a workspace installed since `at` does not stop). The
    workspaces stopped (or found installed since)."""
    teams = _served_by(db, team_id, enterprise_id if organisation_wide else None)
    for team in teams:
        workspace_uninstalled(db, team, at, reason)
    if installations is not None and (team_id is not None or organisation_wide):
        installations.delete(None if organisation_wide else team_id, enterprise_id, installed_before=at)
    if not teams:
        log.warning("%s for team=%s enterprise=%s: no workspace known to stop", reason, team_id, enterprise_id)
    return teams


def _served_by(db: Database, team_id: str | None, enterprise_id: str | None) -> list[str]:
    """The workspace itself, or (`enterprise_id` given) every workspace of the organisation seen so far."""
    teams = [team_id] if team_id else []
    if enterprise_id:
        with db.snapshot() as session:
            members = installation_queries.teams_of_enterprise(session, enterprise_id)
        teams += [team for team in members if team != team_id]
    return teams


def pause_uninstalled(db: Database, team_id: str) -> None:
    """Pause every running schedule and circle of a workspace the scheduler cannot serve, unless an
    installation is stored for it: then only its token can't be had for now, and nothing pauses."""
    with db.transaction() as session:
        if installation_queries.has_installation(session, team_id):
            log.info("team=%s is installed but its token can't be had now: its posts wait", team_id)
            return
        paused = queries.pause_team(session, team_id, UNINSTALLED)
    if paused:
        log.warning("team=%s is not installed: %s schedule(s) and circle(s) paused", team_id, paused)


def refresh_refused(db: Database, team_id: str | None, enterprise_id: str | None) -> None:
    """Slack refused for good to refresh the expired token of this installation (team None: an
    organisation's): pause every workspace it served until it is installed again (or a refresh works)."""
    for team in _served_by(db, team_id, None if team_id else enterprise_id):
        with db.transaction() as session:
            paused = queries.pause_team(session, team, UNINSTALLED)
        if paused:
            log.warning("team=%s: Slack refuses its token: %s schedule(s) and circle(s) paused", team, paused)


def refreshed(db: Database, team_id: str | None, enterprise_id: str | None) -> None:
    """A refresh of this installation's token worked: what a refusal (or a missing installation)
    paused runs again."""
    for team in _served_by(db, team_id, None if team_id else enterprise_id):
        with db.transaction() as session:
            resumed = queries.resume_team(session, team, UNINSTALLED)
        if resumed:
            log.info("team=%s: its token works again: %s schedule(s) and circle(s) resumed", team, resumed)


def follow(installations: Installations, db: Database, now: Callable[[], datetime]) -> None:
    """Keep the workspaces' schedules and circles in step with their installations (`now`: Slack's
    time, as uninstall events are dated, not a schedule's clock)."""
    installations.on_saved.append(lambda team_id, enterprise_id: installed(db, team_id, enterprise_id, now()))
    installations.on_refused.append(lambda team_id, enterprise_id: refresh_refused(db, team_id, enterprise_id))
    installations.on_refreshed.append(lambda team_id, enterprise_id: refreshed(db, team_id, enterprise_id))


def installed(db: Database, team_id: str | None, enterprise_id: str | None, at: datetime) -> None:
    """An installation was saved at `at`: in this workspace, or (`team_id` None) organisation-wide, in
    every workspace of it seen so far. What an uninstall (its event, or the scheduler's finding)
    paused runs again, and nothing is purged."""
    for team in _served_by(db, team_id, None if team_id else enterprise_id or ""):
        workspace_reinstalled(db, team, at)
        with db.transaction() as session:
            resumed = queries.resume_team(session, team, UNINSTALLED)
        if resumed:
            log.info("team=%s installed again: %s schedule(s) and circle(s) resumed", team, resumed)
