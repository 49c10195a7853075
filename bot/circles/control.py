"""Pause, resume and open a check-in now for one circle by its id: the admins' Home buttons.

The id comes from a button's value, looked up within the request's team; the right (the circle's
owner, or an admin asked of Slack now) is checked at the change, as for `/circle edit`. A paused
circle opens no rounds; resuming owes no round missed meanwhile (its `updated_at` moves on).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.circles import rules
from bot.circles.rounds import CircleRunner
from bot.circles.service import GONE, CheckinOpened, checkin_now
from bot.circles.visibility import known_to, shown_to
from bot.services import Services
from bot.slack.conversations import ChannelReaders
from bot.text import escape_mrkdwn
from storage.models import Circle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CircleToggled:
    circle: Circle
    paused: bool  # how it is now
    changed: bool  # False: it was so already
    next_at: datetime | None = None  # resumed: its next check-in


def _live(services: Services, team_id: str, circle_id: int) -> Circle:
    with services.db.snapshot() as session:
        circle = rules.circle_in_team(session, team_id, circle_id)
    if circle is None or circle.archived_at is not None:
        raise rules.CircleNotFound(GONE)
    return circle


def _manageable(services: Services, team_id: str, user_id: str, circle_id: int) -> tuple[Circle, bool]:
    """The live circle, if this person may manage it; and whether they are an admin. A circle in a
    private channel they are not in is no circle to them (bot/circles/visibility.py), admins too,
    unless they own it or belong to it."""
    circle = _live(services, team_id, circle_id)
    if not known_to(services.db, circle, user_id) and not shown_to(ChannelReaders(services.slack), user_id, circle):
        log.info("circle hidden team=%s user=%s circle=%s: private channel", team_id, user_id, circle.id)
        raise rules.CircleNotFound(GONE)
    is_admin = services.users.is_admin(user_id, team_id)
    rules.require_manager(circle, user_id, is_admin)
    return circle, is_admin


def pause(services: Services, *, team_id: str, user_id: str, circle_id: int) -> CircleToggled:
    circle, is_admin = _manageable(services, team_id, user_id, circle_id)
    with services.db.transaction() as session:
        current = rules.circle_in_team(session, team_id, circle.id)
        if current is None or current.archived_at is not None:
            raise rules.CircleNotFound(GONE)
        changed = current.paused_reason is None
        if changed:
            current.paused_reason = "by an admin" if is_admin else "by its owner"
    log.info("circle paused team=%s user=%s circle=%s changed=%s", team_id, user_id, circle_id, changed)
    return CircleToggled(current, paused=True, changed=changed)


def resume(services: Services, *, team_id: str, user_id: str, circle_id: int) -> CircleToggled:
    circle, _ = _manageable(services, team_id, user_id, circle_id)
    if problem := rules.settings_problem(circle):
        shown = escape_mrkdwn(circle.name)
        raise rules.NotAllowed(f"“{shown}” can't run: its settings have {problem}. `/circle edit {shown}` fixes them.")
    now = services.clock()
    with services.db.transaction() as session:
        current = rules.circle_in_team(session, team_id, circle.id)
        if current is None or current.archived_at is not None:
            raise rules.CircleNotFound(GONE)
        changed = current.paused_reason is not None
        if changed:
            current.paused_reason = None
            current.updated_at = now  # no round missed while it was paused is owed
    log.info("circle resumed team=%s user=%s circle=%s changed=%s", team_id, user_id, circle_id, changed)
    return CircleToggled(current, paused=False, changed=changed, next_at=rules.next_check_in(current, now))


def run_now(
    services: Services, runner: CircleRunner, *, team_id: str, user_id: str, circle_id: int, key: str
) -> CheckinOpened:
    """Open a check-in right away: `/circle checkin <name> now`'s use case, which checks the right."""
    circle = _live(services, team_id, circle_id)
    return checkin_now(services, runner, team_id, user_id, circle.name, key)
