"""The circle settings form: its builder and, beside it, the typed reader of what Slack sends back
(the check-in answers form is bot/circles/answer_form.py).

A submission is input from the network, forged or not: readers take nothing on trust (options only
from the offered set, numbers finite and within bounds, text without control characters and
within lengths, ids in Slack's shapes) and return a value or the field errors to show.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.cadence import DAY_NAMES, CadenceError, parse_clock
from bot.circles.inputs import (
    HOURS_TEXT,
    FieldErrors,
    choice,
    hours_value,
    parse_id,
    parse_metadata,
    state,
    text_value,
)
from bot.circles.rules import (
    CADENCES,
    DEFAULT_QUESTIONS,
    DEFAULT_REMINDER_MINUTES,
    DEFAULT_WINDOW_MINUTES,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_QUESTION_LENGTH,
    MAX_QUESTIONS,
    MAX_ZONE,
    ON_A_WEEKDAY,
    REMINDER_HOURS,
    WINDOW_HOURS,
    CircleSpec,
    clean_line,
    known_zones,
    questions_of,
)
from bot.kit import MAX_MODAL_TITLE, MAX_OPTION_TEXT, Block, plain
from bot.text import without_control_characters
from storage.models import Circle

CIRCLE_MODAL = "circle_settings"
_CADENCE_LABELS = {
    "weekly": "Every week",
    "biweekly": "Every other week",
    "weekdays": "Every weekday",
    "daily": "Every day",
}
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{1,31}")


@dataclass(frozen=True)
class SettingsTarget:
    """What the settings form is about: a new circle (None) or one to edit; where it was opened."""

    circle_id: int | None
    origin_channel_id: str | None = None


def circle_modal(
    *, channel_id: str | None, zone: str, circle: Circle | None = None, name: str = "", origin: str | None = None
) -> dict[str, Any]:
    questions = questions_of(circle) if circle else list(DEFAULT_QUESTIONS)
    cadence = circle.cadence if circle and circle.cadence in CADENCES else "weekly"
    weekday = circle.weekday if circle and circle.weekday is not None and 0 <= circle.weekday < 7 else 0
    options = [{"text": plain(_CADENCE_LABELS[value], MAX_OPTION_TEXT), "value": value} for value in CADENCES]
    days = [{"text": plain(day, MAX_OPTION_TEXT), "value": str(index)} for index, day in enumerate(DAY_NAMES)]

    def text_input(
        block_id: str, label: str, value: str, limit: int, *, optional: bool = False, hint: str = ""
    ) -> Block:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": limit}
        if value:
            element["initial_value"] = value[:limit]
        block: Block = {
            "type": "input",
            "block_id": block_id,
            "optional": optional,
            "label": plain(label, 2000),
            "element": element,
        }
        if hint:
            block["hint"] = plain(hint, 2000)
        return block

    channel_select: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "value",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if circle or channel_id:
        channel_select["initial_conversation"] = circle.channel_id if circle else channel_id
    blocks: list[Block] = [
        text_input("name", "Name", circle.name if circle else name, MAX_NAME),
        text_input(
            "description",
            "What the circle is about",
            circle.description if circle else "",
            MAX_DESCRIPTION,
            optional=True,
        ),
        {"type": "input", "block_id": "channel", "label": plain("Share check-ins in", 2000), "element": channel_select},
        {
            "type": "input",
            "block_id": "cadence",
            "label": plain("How often", 2000),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": options,
                "initial_option": next(o for o in options if o["value"] == cadence),
            },
        },
        {
            "type": "input",
            "block_id": "weekday",
            "optional": True,
            "label": plain("On (weekly and every other week)", 2000),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": days,
                "initial_option": days[weekday],
            },
        },
        {
            "type": "input",
            "block_id": "time",
            "label": plain("At", 2000),
            "element": {
                "type": "timepicker",
                "action_id": "value",
                "initial_time": circle.at_time if circle else "09:00",
            },
        },
        text_input(
            "zone", "Time zone", circle.zone if circle else zone, MAX_ZONE, hint="An Area/City name, e.g. Europe/Berlin"
        ),
    ]
    for index in range(MAX_QUESTIONS):
        value = questions[index] if index < len(questions) else ""
        blocks.append(
            text_input(f"question_{index}", f"Question {index + 1}", value, MAX_QUESTION_LENGTH, optional=True)
        )
    reminder = (circle.reminder_minutes if circle else DEFAULT_REMINDER_MINUTES) / 60
    window = (circle.window_minutes if circle else DEFAULT_WINDOW_MINUTES) / 60
    low, high = REMINDER_HOURS
    blocks.append(text_input("reminder", "Remind after (hours)", f"{reminder:g}", HOURS_TEXT, hint=f"{low:g}–{high:g}"))
    low, high = WINDOW_HOURS
    blocks.append(
        text_input("window", "Answers close after (hours)", f"{window:g}", HOURS_TEXT, hint=f"{low:g}–{high:g}")
    )
    return {
        "type": "modal",
        "callback_id": CIRCLE_MODAL,
        "title": plain("Edit circle" if circle else "New learning circle", MAX_MODAL_TITLE),
        "submit": plain("Save" if circle else "Create", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"circle_id": circle.id if circle else None, "origin": origin}),
        "blocks": blocks,
    }


def read_circle_name(values: object) -> str:
    return clean_line(text_value(values, "name"))


def read_circle_form(values: object) -> CircleSpec | FieldErrors:
    """The settings form as a spec within every bound, or the errors to show in its fields."""
    errors: dict[str, str] = {}
    name = read_circle_name(values)
    if not name:
        errors["name"] = "Give the circle a name."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    description = without_control_characters(text_value(values, "description")).strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description under {MAX_DESCRIPTION} characters."
    channel_id = state(values, "channel").get("selected_conversation")
    if not isinstance(channel_id, str) or not _CHANNEL_ID.fullmatch(channel_id):
        errors["channel"] = "Pick the channel where check-ins are shared."
        channel_id = ""
    cadence, offered = choice(values, "cadence", CADENCES)
    if cadence is None:
        errors["cadence"] = "Pick how often the circle meets." if offered else "Pick one of the offered cadences."
    weekday, offered = choice(values, "weekday", tuple(str(day) for day in range(7)))
    if not offered:
        errors["weekday"] = "Pick one of the days offered."
    elif weekday is None and cadence in ON_A_WEEKDAY:
        errors["weekday"] = "Pick the day of the week."
    clock = state(values, "time").get("selected_time")
    try:
        at = parse_clock(clock) if isinstance(clock, str) and len(clock) <= 5 else None
    except CadenceError:
        at = None
    if at is None:
        errors["time"] = "Pick the time of the check-in."
    zone = clean_line(text_value(values, "zone")) or "UTC"
    if zone not in known_zones():
        shown = zone[:MAX_ZONE].replace("`", "")
        errors["zone"] = f"{shown} is not a time zone I know; use an Area/City name, e.g. Europe/Berlin."[:150]
    questions: list[str] = []
    for index in range(MAX_QUESTIONS):
        question = clean_line(text_value(values, f"question_{index}"))
        if len(question) > MAX_QUESTION_LENGTH:
            errors[f"question_{index}"] = f"Keep questions under {MAX_QUESTION_LENGTH} characters."
        elif question:
            questions.append(question)
    if not questions:
        errors.setdefault("question_0", "Ask at least one question.")
    reminder = hours_value(text_value(values, "reminder"), REMINDER_HOURS)
    window = hours_value(text_value(values, "window"), WINDOW_HOURS)
    if isinstance(window, str):
        errors["window"] = window
    if isinstance(reminder, str):
        errors["reminder"] = reminder
    elif isinstance(window, float) and reminder >= window:
        errors["reminder"] = "The reminder must come after the start and before the answer window closes."
    if errors or cadence is None or at is None or isinstance(reminder, str) or isinstance(window, str):
        return FieldErrors(errors)
    return CircleSpec(
        name=name,
        description=description,
        channel_id=channel_id,
        cadence=next(c for c in CADENCES if c == cadence),
        weekday=int(weekday) if weekday is not None and cadence in ON_A_WEEKDAY else None,
        at=at,
        zone=zone,
        questions=tuple(questions),
        reminder_minutes=round(reminder * 60),
        window_minutes=round(window * 60),
    )


def read_settings_target(raw: object) -> SettingsTarget | None:
    """The form's private_metadata, or None when it is not what this app wrote."""
    metadata = parse_metadata(raw)
    if metadata is None:
        return None
    circle_id, origin = metadata.get("circle_id"), metadata.get("origin")
    parsed = parse_id(circle_id) if circle_id is not None else None
    if circle_id is not None and parsed is None:
        return None
    channel = origin if isinstance(origin, str) and re.fullmatch(r"[CDG][A-Z0-9]{1,31}", origin) else None
    return SettingsTarget(parsed, channel)
