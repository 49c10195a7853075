"""Circle use cases: settings, membership, check-in now, archive.

Each one looks the circle up within the request's team and checks the person's right at the
change (owner or admin to manage; to join, anyone who may see the circle: anyone in the team, or
only its channel's members when that channel is private), stores first and talks to Slack after,
and may run twice (a job rerun) with the same effect as once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.circles import rules
from bot.circles.blocks import SettingsTarget
from bot.circles.inputs import parse_id
from bot.circles.messages import ANNOUNCED_EVENT, announcement
from bot.circles.rounds import CircleRunner
from bot.circles.visibility import shown_to, visible_circle
from bot.services import Services
from bot.slack.conversations import ChannelReaders, why_not_post_for
from bot.slack.results import Failed, Posted
from bot.text import escape_mrkdwn
from storage import circles as queries
from storage.db import Database
from storage.models import Circle

log = logging.getLogger(__name__)
GONE = "That circle no longer exists; see `/circle list`."


@dataclass(frozen=True)
class Joined:
    circle: Circle
    new: bool  # False: was a member already


@dataclass(frozen=True)
class Left:
    circle: Circle
    was_member: bool


@dataclass(frozen=True)
class Paused:
    circle: Circle
    rounds: int | None  # None: not a member


@dataclass(frozen=True)
class CheckinOpened:
    circle: Circle
    opened: bool  # False: one is open already


@dataclass(frozen=True)
class Archived:
    circle: Circle


CommandOutcome = Joined | Left | Paused | CheckinOpened | Archived


@dataclass(frozen=True)
class Saved:
    circle: Circle
    created: bool
    next_at: datetime | None
    announce: Posted | Failed | None  # None: announced before (a rerun), or an edit


@dataclass(frozen=True)
class Refused:
    message: str


def may_manage(services: Services, circle: Circle, user_id: str) -> bool:
    # The directory answers fresh for admin checks: a demoted admin loses the right at once.
    return circle.owner_id == user_id or services.users.is_admin(user_id, circle.team_id)


def _managed(services: Services, team_id: str, user_id: str, name: str, *, archived_too: bool = False) -> Circle:
    """The live circle of that name, if this person may manage it (CircleNotFound, NotAllowed). One in
    a private channel they're not in, and don't own or belong to, is no circle to them (not even "only
    the owner may": that would name it and its owner)."""
    readers = ChannelReaders(services.slack)
    circle = visible_circle(services.db, readers, team_id, user_id, name, known_too=True, archived_too=archived_too)
    rules.require_manager(circle, user_id, may_manage(services, circle, user_id))
    return circle


# -- settings ---------------------------------------------------------------------------------


def settings_problems(
    services: Services, team_id: str, user_id: str, target: SettingsTarget, name: str
) -> dict[str, str]:
    """What the settings form must show before it closes: the name taken, the circle gone or not theirs."""
    with services.db.snapshot() as session:
        editing = rules.circle_in_team(session, team_id, target.circle_id) if target.circle_id else None
        if target.circle_id is not None and (editing is None or editing.archived_at is not None):
            return {"name": GONE}
        taken = rules.name_taken(session, team_id, name, editing) if name else None
    if editing is not None and not may_manage(services, editing, user_id):
        return {"name": f"Only the owner of “{editing.name}” or an admin can change it."}
    return {"name": taken} if taken else {}


def save_settings(
    services: Services, *, team_id: str, user_id: str, target: SettingsTarget, spec: rules.CircleSpec, key: str
) -> Saved | Refused:
    """Create a circle (announced in its channel) or change one, checked again at the change."""
    now = services.clock()
    if target.circle_id is None:
        with services.db.snapshot() as session:  # a rerun of this job: the check made then stands
            created_before = queries.circle_created_by(session, team_id, key) is not None
        if not created_before and (problem := why_not_post_for(services.slack, user_id, spec.channel_id)) is not None:
            return Refused(f"“{escape_mrkdwn(spec.name)}” wasn't created: {problem}")
        return _create(services, team_id, user_id, spec, key, now)
    with services.db.snapshot() as session:
        circle = rules.circle_in_team(session, team_id, target.circle_id)
    if circle is None or circle.archived_at is not None:
        return Refused(GONE)
    if not may_manage(services, circle, user_id):
        log.warning("circle edit refused team=%s user=%s circle=%s", team_id, user_id, circle.id)
        return Refused(f"Only the owner of “{circle.name}” (<@{circle.owner_id}>) or an admin can change it.")
    if spec.channel_id != circle.channel_id and (
        problem := why_not_post_for(services.slack, user_id, spec.channel_id)
    ):  # the form's channel is the client's word; an unchanged one was checked when it was chosen
        return Refused(f"“{escape_mrkdwn(circle.name)}” wasn't changed: {problem}")
    try:
        with services.db.transaction() as session:
            editing = rules.circle_in_team(session, team_id, circle.id)
            if editing is None or editing.archived_at is not None:
                return Refused(GONE)
            if taken := rules.name_taken(session, team_id, spec.name, editing):
                return Refused(taken)
            rules.update(editing, spec, now)
    except IntegrityError:  # renamed to a name another change took a moment ago
        return Refused(f"There is already a circle called “{spec.name}”.")
    return Saved(editing, created=False, next_at=rules.next_check_in(editing, now), announce=None)


def _create(
    services: Services, team_id: str, user_id: str, spec: rules.CircleSpec, key: str, now: datetime
) -> Saved | Refused:
    try:
        with services.db.transaction() as session:
            circle = queries.circle_created_by(session, team_id, key)
            rerun = circle is not None
            if circle is None:
                if taken := rules.name_taken(session, team_id, spec.name):
                    return Refused(taken)
                circle = rules.create(session, team_id, user_id, spec, now, key)
    except IntegrityError:
        with services.db.snapshot() as session:
            circle = queries.circle_created_by(session, team_id, key)
        if circle is None:  # not ours: someone took the name a moment ago
            return Refused(f"There is already a circle called “{spec.name}”.")
        rerun = True
    next_at = rules.next_check_in(circle, now)
    return Saved(circle, created=True, next_at=next_at, announce=_announce(services, circle, next_at, rerun))


def _announce(services: Services, circle: Circle, next_at: datetime | None, rerun: bool) -> Posted | Failed | None:
    """Post the new circle in its channel once, even when the job runs again after posting."""
    if circle.announce_ts is not None:
        return None
    if rerun:
        found = services.slack.find_by_metadata(circle.channel_id, ANNOUNCED_EVENT, "circle_id", circle.id)
        if isinstance(found, Posted):  # else none found, or Slack couldn't say: announced (as before)
            _store_announcement(services.db, circle.id, found.ts)
            return None
    text, blocks = announcement(circle, next_at)
    metadata = {"event_type": ANNOUNCED_EVENT, "event_payload": {"circle_id": circle.id}}
    posted = services.slack.post(circle.channel_id, text, blocks, metadata=metadata)
    if isinstance(posted, Posted):
        _store_announcement(services.db, circle.id, posted.ts)
    else:
        log.warning("circle announcement failed team=%s circle=%s error=%s", circle.team_id, circle.id, posted.error)
    return posted


def _store_announcement(db: Database, circle_id: int, ts: str) -> None:
    with db.transaction() as session:
        stored = session.get(Circle, circle_id)
        if stored is not None:
            stored.announce_ts = ts


def editable(services: Services, team_id: str, user_id: str, name: str) -> Circle:
    """The circle `/circle edit` opens, if this person may change it (the save checks again)."""
    return _managed(services, team_id, user_id, name)


# -- membership -------------------------------------------------------------------------------


def join(services: Services, team_id: str, user_id: str, name: str) -> Joined:
    """Join by name: only a circle the person may see (one in a private channel they're not in is
    answered as no such circle, see bot/circles/visibility.py)."""
    found = visible_circle(services.db, ChannelReaders(services.slack), team_id, user_id, name)
    return _join(services.db, team_id, user_id, found.id)


def join_by_button(services: Services, team_id: str, user_id: str, value: object) -> Joined:
    """The *Join* button under a circle's announcement or in *Browse circles*; its value is
    untrusted input (any circle's id), so the circle must be one the person may see."""
    with services.db.snapshot() as session:
        circle = rules.circle_in_team(session, team_id, parse_id(value))
    if (
        circle is None
        or circle.archived_at is not None
        or not shown_to(ChannelReaders(services.slack), user_id, circle)
    ):
        raise rules.CircleNotFound(GONE)  # hidden: the same answer as for a circle that never was
    return _join(services.db, team_id, user_id, circle.id)


def _join(db: Database, team_id: str, user_id: str, circle_id: int) -> Joined:
    with db.transaction() as session:
        circle = _live(session, team_id, circle_id)
        return Joined(circle, rules.join(session, circle, user_id))


def _live(session: Session, team_id: str, circle_id: int) -> Circle:
    """The circle looked up a moment ago (outside the transaction, asking Slack), unless archived since."""
    circle = rules.circle_in_team(session, team_id, circle_id)
    if circle is None or circle.archived_at is not None:
        raise rules.CircleNotFound(GONE)
    return circle


def leave(services: Services, team_id: str, user_id: str, name: str) -> Left:
    """Leave by name: a circle one is in (even once out of its private channel), or may see."""
    found = visible_circle(services.db, ChannelReaders(services.slack), team_id, user_id, name, known_too=True)
    with services.db.transaction() as session:
        circle = _live(session, team_id, found.id)
        return Left(circle, rules.leave(session, circle, user_id))


def pause(services: Services, team_id: str, user_id: str, name: str, rounds: int) -> Paused:
    if not 1 <= rounds <= rules.MAX_PAUSE_ROUNDS:
        raise ValueError(f"rounds out of range: {rounds}")
    found = visible_circle(services.db, ChannelReaders(services.slack), team_id, user_id, name, known_too=True)
    with services.db.transaction() as session:
        circle = _live(session, team_id, found.id)
        membership = rules.pause(session, circle, user_id, rounds)
        return Paused(circle, rounds if membership is not None else None)


# -- managing ---------------------------------------------------------------------------------


def checkin_now(
    services: Services, runner: CircleRunner, team_id: str, user_id: str, name: str, key: str
) -> CheckinOpened:
    """Open a round now (owner or admin); the request's key makes a rerun resume, not repeat, it."""
    circle = _managed(services, team_id, user_id, name)
    if problem := rules.settings_problem(circle):
        shown = escape_mrkdwn(circle.name)
        raise rules.NotAllowed(
            f"“{shown}” can't open a check-in: its settings have {problem}. `/circle edit {shown}` fixes them."
        )
    return CheckinOpened(circle, runner.open_now(circle.id, key) is not None)


def archive(services: Services, team_id: str, user_id: str, name: str) -> Archived:
    # An archived circle answers "archived" again: a rerun of this job says what the first run said.
    circle = _managed(services, team_id, user_id, name, archived_too=True)
    with services.db.transaction() as session:
        current = rules.circle_in_team(session, team_id, circle.id)
        if current is None:
            raise rules.CircleNotFound(GONE)
        rules.archive(current, services.clock())
    return Archived(circle)
