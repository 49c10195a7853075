"""Learning circles: membership, settings and their bounds, and the rules of rounds and streaks.
No Slack in here."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Literal, assert_never, get_args
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from bot.cadence import Cadence, CadenceError, parse_clock
from bot.text import escape_mrkdwn, without_control_characters
from storage import circles as queries
from storage.models import Circle, CircleMember, ParticipantStatus

DEFAULT_QUESTIONS = (
    "What did you learn or try since the last check-in?",
    "What are you stuck on, or want help with?",
    "What could you teach or share with the circle?",
)
STUCK_QUESTION = 1  # the default question whose answers become "Can you help?" items
MAX_QUESTIONS = 5
MAX_NAME = 80
MAX_DESCRIPTION = 1000
MAX_QUESTION_LENGTH = 150
MAX_ANSWER_LENGTH = 2000
MAX_ZONE = 64
DEFAULT_REMINDER_MINUTES = 4 * 60
DEFAULT_WINDOW_MINUTES = 24 * 60
# Hours, as the form asks: a reminder within three days, answers open for at most a week.
REMINDER_HOURS = (0.5, 72.0)
WINDOW_HOURS = (1.0, 168.0)
MAX_PAUSE_ROUNDS = 12
MAX_STORED_WINDOW_MINUTES = 31 * 24 * 60

CircleCadence = Literal["weekly", "biweekly", "weekdays", "daily"]
CADENCES: tuple[CircleCadence, ...] = get_args(CircleCadence)
ON_A_WEEKDAY: tuple[CircleCadence, ...] = ("weekly", "biweekly")

# C0 and C1 controls (NUL among them: PostgreSQL refuses it, SQLite stores it) and lone surrogates
# (PostgreSQL refuses them too). Newlines and tabs are kept where text may span lines.
_LINE_BREAKS = re.compile(r"[\t\n\r]+")


def clean_line(text: str) -> str:
    """A one-line value as stored (a name, a zone): line breaks become spaces, no control
    characters, no outer blanks."""
    return without_control_characters(_LINE_BREAKS.sub(" ", text)).strip()


class CircleNotFound(LookupError):
    """No such circle; the message names the closest ones."""


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True)
class CircleSpec:
    """A circle's settings, every value within its bounds (the form's reader makes them)."""

    name: str
    description: str
    channel_id: str
    cadence: CircleCadence
    weekday: int | None  # 0 = Monday; weekly and biweekly only
    at: time
    zone: str
    questions: tuple[str, ...]
    reminder_minutes: int
    window_minutes: int


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def name_taken(session: Session, team_id: str, name: str, editing: Circle | None = None) -> str | None:
    """Why this name can't be used by a new circle (or by `editing`), or None."""
    existing = queries.circle_named(session, team_id, name)
    if existing is not None and (editing is None or existing.id != editing.id):
        return f"There is already a circle called “{existing.name}”."
    return None


def _settings(spec: CircleSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "name_key": spec.name.lower(),
        "description": spec.description,
        "channel_id": spec.channel_id,
        "cadence": spec.cadence,
        "weekday": spec.weekday if spec.cadence in ON_A_WEEKDAY else None,
        "at_time": spec.at.strftime("%H:%M"),
        "zone": spec.zone,
        "questions": json.dumps(list(spec.questions)),
        "reminder_minutes": spec.reminder_minutes,
        "window_minutes": spec.window_minutes,
    }


def _anchor(spec: CircleSpec, now: datetime) -> date | None:
    if spec.cadence != "biweekly":
        return None
    weekly = Cadence("weekly", spec.at, spec.zone, weekday=spec.weekday)
    return weekly.next_after(now).astimezone(weekly.tz).date()


def create(session: Session, team_id: str, owner_id: str, spec: CircleSpec, now: datetime, key: str) -> Circle:
    circle = queries.add_circle(
        session,
        team_id=team_id,
        owner_id=owner_id,
        anchor=_anchor(spec, now),
        created_at=now,
        updated_at=now,
        created_key=key,
        **_settings(spec),
    )
    queries.add_member(session, circle, owner_id)
    return circle


def update(circle: Circle, spec: CircleSpec, now: datetime) -> None:
    """Apply new settings to a circle of the session; saving them also resumes a paused circle."""
    for key, value in _settings(spec).items():
        setattr(circle, key, value)
    circle.anchor = _anchor(spec, now)
    circle.paused_reason = None
    circle.updated_at = now


def find(session: Session, team_id: str, name: str) -> Circle:
    circle = live_named(session, team_id, name)
    if circle is not None:
        return circle
    names = queries.circle_names(session, team_id)
    raise not_found(name, closest_names(name, names), any_circles=bool(names))


def live_named(session: Session, team_id: str, name: str) -> Circle | None:
    circle = queries.circle_named(session, team_id, name)
    return circle if circle is not None and circle.archived_at is None else None


def closest_names(name: str, names: list[str]) -> list[str]:
    """Up to three of `names` that look like `name` (a typo, another case, or a part of it: "Rust"
    for "Rust beginners")."""
    typed = name.strip().lower()
    close = [n for n in names if len(typed) >= 3 and typed in n.lower()]
    close += difflib.get_close_matches(name.strip(), names, n=3, cutoff=0.5)
    lowered = {n.lower(): n for n in names}
    close += [lowered[n] for n in difflib.get_close_matches(name.strip().lower(), list(lowered), n=3, cutoff=0.5)]
    return list(dict.fromkeys(close))[:3]


def not_found(name: str, suggestions: list[str], *, any_circles: bool) -> CircleNotFound:
    hint = f" Did you mean {', '.join(f'“{escape_mrkdwn(n)}”' for n in suggestions)}?" if suggestions else ""
    listing = " See `/circle list`." if any_circles else " Start one with `/circle create &lt;name&gt;`."
    return CircleNotFound(f"There is no circle called “{escape_mrkdwn(name.strip())}”.{hint}{listing}")


def require_manager(circle: Circle, user_id: str, is_admin: bool) -> None:
    if circle.owner_id != user_id and not is_admin:
        shown = escape_mrkdwn(circle.name)
        raise NotAllowed(f"Only the owner of “{shown}” (<@{circle.owner_id}>) or an admin can do that.")


def questions_of(circle: Circle) -> list[str]:
    return list(json.loads(circle.questions))


def stored_answers(raw: str | None) -> list[str] | None:
    """A participant's stored answers; None when none, or unreadable (left out, not fatal)."""
    try:
        answers = json.loads(raw) if raw else None
    except ValueError:
        return None
    return [str(a) for a in answers] if isinstance(answers, list) and answers else None


def cadence_of(circle: Circle) -> Cadence:
    hours, minutes = circle.at_time.split(":")
    return Cadence(circle.cadence, time(int(hours), int(minutes)), circle.zone, circle.weekday, circle.anchor)


def settings_problem(circle: Circle) -> str | None:
    """What is wrong with a stored circle's settings (a row written before the bounds, or by hand)."""
    if circle.cadence not in CADENCES:
        return f"an unknown cadence `{circle.cadence[:20]}`"
    if circle.cadence in ON_A_WEEKDAY and circle.weekday not in range(7):
        return "no valid weekday"
    try:
        parse_clock(circle.at_time)
    except CadenceError:
        return "no valid time of day"
    if circle.zone not in known_zones():
        return f"an unknown time zone `{circle.zone[:MAX_ZONE]}`"
    # Looser than the form's bounds: circles saved under earlier bounds keep running.
    if not 0 < circle.window_minutes <= MAX_STORED_WINDOW_MINUTES:
        return "an answer window out of range"
    if not 0 < circle.reminder_minutes < circle.window_minutes:
        return "a reminder that doesn't fall within the answer window"
    try:
        questions = json.loads(circle.questions)
    except ValueError:
        return "unreadable questions"
    if not isinstance(questions, list) or not questions or not all(isinstance(q, str) for q in questions):
        return "unreadable questions"
    return None


def schedule_of(circle: Circle) -> Cadence | None:
    """The circle's cadence, or None when its stored settings can't make one."""
    return None if settings_problem(circle) else cadence_of(circle)


def next_check_in(circle: Circle, now: datetime) -> datetime | None:
    """When the circle next meets (never in the past); None while paused or when its settings can't say."""
    cadence = None if circle.paused_reason else schedule_of(circle)
    return cadence.next_after(max(now, circle.updated_at)) if cadence else None


def join(session: Session, circle: Circle, user_id: str) -> bool:
    return queries.add_member(session, circle, user_id)


def leave(session: Session, circle: Circle, user_id: str) -> bool:
    return queries.remove_member(session, circle.id, user_id)


def pause(session: Session, circle: Circle, user_id: str, rounds: int) -> CircleMember | None:
    membership = queries.member(session, circle.id, user_id)
    if membership is not None:
        membership.skip_rounds = rounds
    return membership


def archive(circle: Circle, now: datetime) -> None:
    if circle.archived_at is None:
        circle.archived_at = now


def stuck_question(questions: list[str]) -> int | None:
    """Which question asks what someone is stuck on: its answers become "Can you help?" items."""
    if len(questions) > STUCK_QUESTION and questions[STUCK_QUESTION] == DEFAULT_QUESTIONS[STUCK_QUESTION]:
        return STUCK_QUESTION
    return next((i for i, q in enumerate(questions) if "stuck" in q.lower() or "help" in q.lower()), None)


def next_streak(current: int, outcome: ParticipantStatus) -> int:
    """Streak after a round: answered extends it, a paused round leaves it, a missed one breaks it."""
    match outcome:
        case ParticipantStatus.ANSWERED:
            return current + 1
        case ParticipantStatus.PAUSED | ParticipantStatus.UNREACHABLE:
            return current
        case ParticipantStatus.INVITED:
            return 0
        case _:
            assert_never(outcome)


def circle_in_team(session: Session, team_id: str, circle_id: object) -> Circle | None:
    """The circle a form or button names, only if it is the request's team's (ids are untrusted)."""
    if not isinstance(circle_id, int) or isinstance(circle_id, bool) or not 0 < circle_id < 2**31:
        return None
    return queries.circle_in_team(session, team_id, circle_id)
