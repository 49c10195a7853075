"""Circle use cases that need Slack or the modal's shape: settings from the form, answers to threads."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.cadence import CadenceError, parse_clock, parse_zone
from bot.circles import rules as circles
from bot.circles.blocks import answer_reply
from bot.services import Services
from bot.slack.gateway import Failed
from storage import circles as queries
from storage.models import Circle, CircleRound

log = logging.getLogger(__name__)
ACTIONS = ("create", "join", "leave", "list", "info", "pause", "checkin", "edit", "archive", "help")


@dataclass(frozen=True)
class CircleCommand:
    action: str
    name: str = ""
    rounds: int = 1
    problem: str | None = None


def parse_circle_command(text: str) -> CircleCommand:
    words = text.split()
    if not words:
        return CircleCommand("help")
    action = words[0].lower()
    if action not in ACTIONS:
        return CircleCommand("help", problem=f"I don't know `{words[0][:40]}`. Here is what I can do:")
    rest = words[1:]
    if action in ("list", "help"):
        return CircleCommand(action)
    if action == "pause" and rest and re.fullmatch(r"[0-9]{1,2}", rest[-1]):
        rounds = int(rest[-1])
        if rounds < 1:
            return CircleCommand("help", problem="Pause for at least one round, e.g. `/circle pause Rust learners 2`.")
        return CircleCommand(action, " ".join(rest[:-1]), rounds)
    if action == "checkin":
        if not rest or rest[-1].lower() != "now":
            return CircleCommand("help", problem="Say `now`: `/circle checkin Rust learners now`.")
        rest = rest[:-1]
    if not rest and action != "create":
        return CircleCommand("help", problem=f"Which circle? e.g. `/circle {action} Rust learners`.")
    return CircleCommand(action, " ".join(rest))


def spec_from_modal(values: dict[str, Any]) -> tuple[circles.CircleSpec, dict[str, str]]:
    """The form's values as a spec, and the errors found in reading them (zone, hours)."""

    def value(block: str) -> str:
        return str(values.get(block, {}).get("value", {}).get("value") or "").strip()

    def selected(block: str) -> str | None:
        option = values.get(block, {}).get("value", {}).get("selected_option")
        return option["value"] if option else None

    errors: dict[str, str] = {}
    zone = value("zone") or "UTC"
    try:
        parse_zone(zone)
    except CadenceError as error:
        errors["zone"] = str(error).replace("`", "")[:150]
        zone = "UTC"
    hours: dict[str, int] = {}
    for block in ("reminder", "window"):
        try:
            hours[block] = round(float(value(block)) * 60)
        except ValueError:
            errors[block] = "A number of hours, e.g. 4 or 1.5."
            hours[block] = 0
    clock = values.get("time", {}).get("value", {}).get("selected_time")
    weekday = selected("weekday")
    questions = tuple(q for q in (value(f"question_{i}") for i in range(circles.MAX_QUESTIONS)) if q)
    spec = circles.CircleSpec(
        name=value("name"),
        description=value("description"),
        channel_id=values.get("channel", {}).get("value", {}).get("selected_conversation"),
        cadence=selected("cadence") or "weekly",
        weekday=int(weekday) if weekday is not None else None,
        at=_time(clock),
        zone=zone,
        questions=questions,
        reminder_minutes=hours["reminder"] or 1,
        window_minutes=hours["window"] or 1,
    )
    return spec, errors


def _time(clock: str | None) -> time | None:
    try:
        return parse_clock(clock) if clock else None
    except CadenceError:
        return None


@dataclass(frozen=True)
class AnswerResult:
    ok: bool
    message: str = ""


def round_for_answer(deps: Services, round_id: int, user_id: str) -> tuple[Circle, CircleRound, list[str] | None] | str:
    """The round a member may answer now, with their previous answers; or why they can't."""
    with deps.db.snapshot() as session:
        round_ = session.get(CircleRound, round_id)
        participant = queries.participant(session, round_id, user_id)
        if round_ is None or participant is None:
            return "You're not part of that check-in."
        if round_.status != "open":
            return "That check-in has closed. See you next round!"
        circle = session.get(Circle, round_.circle_id)
        assert circle is not None
        previous = json.loads(participant.answers) if participant.answers else None
        return circle, round_, previous


def record_answers(deps: Services, round_id: int, user_id: str, answers: list[str]) -> AnswerResult:
    """Store a member's answers and show them in the round's thread (editing the earlier reply)."""
    found = round_for_answer(deps, round_id, user_id)
    if isinstance(found, str):
        return AnswerResult(False, found)
    circle, round_, _ = found
    now = deps.clock()
    with deps.db.transaction() as session:
        participant = queries.participant(session, round_id, user_id)
        assert participant is not None
        participant.answers, participant.status, participant.answered_at = json.dumps(answers), "answered", now
        reply_ts = participant.reply_ts
    text, blocks = answer_reply(circle, user_id, answers)
    if reply_ts is not None:
        error = deps.slack.update(round_.channel_id, reply_ts, text, blocks)
        if error is None:
            return AnswerResult(True)
        log.warning("could not edit check-in reply round=%s user=%s error=%s; posting anew", round_id, user_id, error)
    if round_.thread_ts is None:
        return AnswerResult(True)
    posted = deps.slack.post(round_.channel_id, text, blocks, thread_ts=round_.thread_ts)
    if isinstance(posted, Failed):
        return AnswerResult(
            True, f"Your answers are saved, but I couldn't post them in <#{round_.channel_id}> ({posted.error})."
        )
    with deps.db.transaction() as session:
        saved = queries.participant(session, round_id, user_id)
        assert saved is not None
        saved.reply_ts = posted.ts
    return AnswerResult(True)
