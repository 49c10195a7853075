"""Learning circles: membership, settings, and the rules of rounds and streaks. No Slack in here."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.orm import Session

from bot.cadence import Cadence
from storage import circles as queries
from storage.models import Circle, CircleMember

DEFAULT_QUESTIONS = (
    "What did you learn or try since the last check-in?",
    "What are you stuck on, or want help with?",
    "What could you teach or share with the circle?",
)
STUCK_QUESTION = 1  # the default question whose answers become "Can you help?" items
MAX_QUESTIONS = 5
MAX_NAME = 80
MAX_QUESTION_LENGTH = 150
MAX_ANSWER_LENGTH = 2000
DEFAULT_REMINDER_MINUTES = 4 * 60
DEFAULT_WINDOW_MINUTES = 24 * 60


class CircleNotFound(LookupError):
    """No such circle; the message names the closest ones."""


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True)
class CircleSpec:
    name: str
    description: str
    channel_id: str | None
    cadence: str
    weekday: int | None
    at: time | None
    zone: str
    questions: tuple[str, ...]
    reminder_minutes: int
    window_minutes: int


def validate(session: Session, team_id: str, spec: CircleSpec, editing: Circle | None = None) -> dict[str, str]:
    """Field errors by the modal's block ids; empty when the spec is good."""
    errors: dict[str, str] = {}
    name = spec.name.strip()
    if not name:
        errors["name"] = "Give the circle a name."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    else:
        existing = queries.circle_named(session, team_id, name)
        if existing is not None and (editing is None or existing.id != editing.id):
            errors["name"] = f"There is already a circle called “{existing.name}”."
    if spec.channel_id is None:
        errors["channel"] = "Pick the channel where check-ins are shared."
    if spec.cadence in ("weekly", "biweekly") and spec.weekday is None:
        errors["weekday"] = "Pick the day of the week."
    if spec.at is None:
        errors["time"] = "Pick the time of the check-in."
    if not spec.questions:
        errors["question_0"] = "Ask at least one question."
    for index, question in enumerate(spec.questions):
        if len(question) > MAX_QUESTION_LENGTH:
            errors[f"question_{index}"] = f"Keep questions under {MAX_QUESTION_LENGTH} characters."
    if spec.window_minutes < 30:
        errors["window"] = "Leave at least half an hour to answer."
    if spec.reminder_minutes <= 0 or spec.reminder_minutes >= spec.window_minutes:
        errors["reminder"] = "The reminder must come after the start and before the answer window closes."
    return errors


def _settings(spec: CircleSpec) -> dict[str, object]:
    assert spec.at is not None, "validated first"
    assert spec.channel_id is not None, "validated first"
    return {
        "name": spec.name.strip(),
        "name_key": spec.name.strip().lower(),
        "description": spec.description.strip(),
        "channel_id": spec.channel_id,
        "cadence": spec.cadence,
        "weekday": spec.weekday if spec.cadence in ("weekly", "biweekly") else None,
        "at_time": spec.at.strftime("%H:%M"),
        "zone": spec.zone,
        "questions": json.dumps(list(spec.questions)),
        "reminder_minutes": spec.reminder_minutes,
        "window_minutes": spec.window_minutes,
    }


def _anchor(spec: CircleSpec, now: datetime) -> object:
    if spec.cadence != "biweekly" or spec.at is None:
        return None
    weekly = Cadence("weekly", spec.at, spec.zone, weekday=spec.weekday)
    return weekly.next_after(now).astimezone(weekly.tz).date()


def create(session: Session, team_id: str, owner_id: str, spec: CircleSpec, now: datetime) -> Circle:
    circle = queries.add_circle(
        session,
        team_id=team_id,
        owner_id=owner_id,
        anchor=_anchor(spec, now),
        created_at=now,
        updated_at=now,
        **_settings(spec),
    )
    queries.add_member(session, circle, owner_id)
    return circle


def update(session: Session, circle: Circle, spec: CircleSpec, now: datetime) -> Circle:
    circle = session.merge(circle)
    for key, value in _settings(spec).items():
        setattr(circle, key, value)
    circle.anchor = _anchor(spec, now)  # type: ignore[assignment]
    circle.paused_reason = None
    circle.updated_at = now
    return circle


def find(session: Session, team_id: str, name: str) -> Circle:
    circle = queries.circle_named(session, team_id, name)
    if circle is not None and circle.archived_at is None:
        return circle
    names = queries.circle_names(session, team_id)
    close = difflib.get_close_matches(name.strip(), names, n=3, cutoff=0.5)
    lowered = {n.lower(): n for n in names}
    close += [lowered[n] for n in difflib.get_close_matches(name.strip().lower(), list(lowered), n=3, cutoff=0.5)]
    suggestions = list(dict.fromkeys(close))[:3]
    hint = f" Did you mean {', '.join(f'“{n}”' for n in suggestions)}?" if suggestions else ""
    listing = " See `/circle list`." if names else " Start one with `/circle create <name>`."
    raise CircleNotFound(f"There is no circle called “{name.strip()}”.{hint}{listing}")


def require_manager(circle: Circle, user_id: str, is_admin: bool) -> None:
    if circle.owner_id != user_id and not is_admin:
        raise NotAllowed(f"Only the owner of “{circle.name}” (<@{circle.owner_id}>) or an admin can do that.")


def questions_of(circle: Circle) -> list[str]:
    return list(json.loads(circle.questions))


def cadence_of(circle: Circle) -> Cadence:
    hours, minutes = circle.at_time.split(":")
    return Cadence(circle.cadence, time(int(hours), int(minutes)), circle.zone, circle.weekday, circle.anchor)


def join(session: Session, circle: Circle, user_id: str) -> bool:
    return queries.add_member(session, circle, user_id)


def leave(session: Session, circle: Circle, user_id: str) -> bool:
    return queries.remove_member(session, circle.id, user_id)


def pause(session: Session, circle: Circle, user_id: str, rounds: int) -> CircleMember | None:
    membership = queries.member(session, circle.id, user_id)
    if membership is not None:
        membership.skip_rounds = rounds
    return membership


def archive(session: Session, circle: Circle, now: datetime) -> None:
    session.merge(circle).archived_at = now


def stuck_question(questions: list[str]) -> int | None:
    """Which question asks what someone is stuck on: its answers become "Can you help?" items."""
    if len(questions) > STUCK_QUESTION and questions[STUCK_QUESTION] == DEFAULT_QUESTIONS[STUCK_QUESTION]:
        return STUCK_QUESTION
    return next((i for i, q in enumerate(questions) if "stuck" in q.lower() or "help" in q.lower()), None)


def next_streak(current: int, outcome: str) -> int:
    """Streak after a round: answered extends it, a paused round leaves it, a missed one breaks it."""
    if outcome == "answered":
        return current + 1
    if outcome in ("paused", "unreachable"):
        return current
    return 0


def circle_in_team(session: Session, team_id: str, circle_id: object) -> Circle | None:
    """The circle a form or button names, only if it is the request's team's (ids are untrusted)."""
    if not isinstance(circle_id, int) or isinstance(circle_id, bool):
        return None
    circle = session.get(Circle, circle_id)
    return circle if circle is not None and circle.team_id == team_id else None
