"""Messages and views of learning circles."""

from __future__ import annotations

import json
from typing import Any

from bot.cadence import DAY_NAMES, format_local
from bot.circles.rules import (
    DEFAULT_QUESTIONS,
    DEFAULT_REMINDER_MINUTES,
    DEFAULT_WINDOW_MINUTES,
    MAX_ANSWER_LENGTH,
    MAX_QUESTIONS,
    cadence_of,
    questions_of,
    stuck_question,
)
from bot.kit import (
    MAX_BUTTON_TEXT,
    MAX_MODAL_TITLE,
    MAX_OPTION_TEXT,
    Block,
    context,
    fallback_text,
    header,
    mrkdwn_section,
    plain,
    usage_blocks,
    user_text_excerpt,
)
from storage.models import Circle, CircleMember, CircleRound

CIRCLE_MODAL = "circle_settings"
ANSWER_MODAL = "circle_answers"
CHECKIN_ACTION = "circle_checkin"
CELEBRATED_STREAK = 3
_CADENCES = [
    ("weekly", "Every week"),
    ("biweekly", "Every other week"),
    ("weekdays", "Every weekday"),
    ("daily", "Every day"),
]


def _name(circle: Circle) -> str:
    return user_text_excerpt(circle.name, 80)


def round_header(circle: Circle, round_: CircleRound) -> tuple[str, list[Block]]:
    day = format_local(round_.due_at, circle.zone)[:10]
    title = f"{circle.name} check-in — {day}"
    blocks = [
        header(title),
        context(f"Members got a DM with the questions; answers arrive in this thread until {_closes(circle, round_)}."),
    ]
    return fallback_text(title), blocks


def _closes(circle: Circle, round_: CircleRound) -> str:
    return format_local(round_.closes_at, circle.zone)


def checkin_dm(circle: Circle, round_: CircleRound) -> tuple[str, list[Block]]:
    questions = "\n".join(f"• {user_text_excerpt(q, 150)}" for q in questions_of(circle))
    blocks: list[Block] = [
        mrkdwn_section(
            f":wave: Time for the *{_name(circle)}* check-in (until {_closes(circle, round_)}).\n{questions}"
        ),
        {
            "type": "actions",
            "block_id": "checkin",
            "elements": [
                {
                    "type": "button",
                    "action_id": CHECKIN_ACTION,
                    "text": plain("Check in", MAX_BUTTON_TEXT),
                    "style": "primary",
                    "value": str(round_.id),
                }
            ],
        },
    ]
    return fallback_text(f"Time for the {circle.name} check-in"), blocks


def reminder_dm(circle: Circle, round_: CircleRound) -> tuple[str, list[Block]]:
    _, blocks = checkin_dm(circle, round_)
    reminder = f":alarm_clock: A gentle reminder: the *{_name(circle)}* check-in closes {_closes(circle, round_)}."
    return fallback_text(f"Reminder: the {circle.name} check-in"), [mrkdwn_section(reminder), blocks[1]]


def answer_modal(circle: Circle, round_: CircleRound, previous: list[str] | None) -> dict[str, Any]:
    blocks: list[Block] = []
    for index, question in enumerate(questions_of(circle)):
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "answer",
            "multiline": True,
            "max_length": MAX_ANSWER_LENGTH,
        }
        if previous and index < len(previous) and previous[index]:
            element["initial_value"] = previous[index]
        blocks.append(
            {
                "type": "input",
                "block_id": f"answer_{index}",
                "optional": True,
                "label": plain(question, 2000),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "title": plain(f"{circle.name} check-in", MAX_MODAL_TITLE),
        "submit": plain("Share", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"round_id": round_.id}),
        "blocks": [context("Answer what you like — at least one question."), *blocks],
    }


def answer_reply(circle: Circle, user_id: str, answers: list[str]) -> tuple[str, list[Block]]:
    blocks: list[Block] = [context(f"*<@{user_id}>* checked in")]
    for question, answer in zip(questions_of(circle), answers, strict=False):
        if answer:
            blocks.append(mrkdwn_section(f"*{user_text_excerpt(question, 150)}*\n{user_text_excerpt(answer, 2700)}"))
    return fallback_text(f"Check-in from a circle member: {' / '.join(a for a in answers if a)}"), blocks


def round_summary(
    circle: Circle, invited: list[str], answers: dict[str, list[str]], streaks: dict[str, int]
) -> tuple[str, list[Block]]:
    if not answers:
        line = f"Check-in closed: nobody checked in this time ({len(invited)} invited). See you next round!"
        return line, [mrkdwn_section(line)]
    blocks: list[Block] = [
        mrkdwn_section(f":white_check_mark: Check-in closed: *{len(answers)} of {len(invited)}* checked in.")
    ]
    stuck_index = stuck_question(questions_of(circle))
    if stuck_index is not None:
        asks = [
            f"• <@{user}>: {user_text_excerpt(given[stuck_index], 300)}"
            for user, given in answers.items()
            if stuck_index < len(given) and given[stuck_index]
        ]
        if asks:
            blocks.append(mrkdwn_section("*Can you help?*\n" + "\n".join(asks[:8])))
    celebrated = [f"<@{user}> {streak} in a row" for user, streak in streaks.items() if streak >= CELEBRATED_STREAK]
    if celebrated:
        blocks.append(mrkdwn_section(":fire: *Streaks*: " + ", ".join(celebrated[:20])))
    return fallback_text(f"Check-in closed: {len(answers)} of {len(invited)} checked in"), blocks


def circle_modal(*, channel_id: str | None, zone: str, circle: Circle | None = None, name: str = "") -> dict[str, Any]:
    questions = questions_of(circle) if circle else list(DEFAULT_QUESTIONS)
    cadence = circle.cadence if circle else "weekly"
    weekday = circle.weekday if circle and circle.weekday is not None else 0
    options = [{"text": plain(label, MAX_OPTION_TEXT), "value": value} for value, label in _CADENCES]
    days = [{"text": plain(day, MAX_OPTION_TEXT), "value": str(index)} for index, day in enumerate(DAY_NAMES)]

    def text_input(block_id: str, label: str, value: str, *, optional: bool = False, hint: str = "") -> Block:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value"}
        if value:
            element["initial_value"] = value
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
        text_input("name", "Name", circle.name if circle else name),
        text_input("description", "What the circle is about", circle.description if circle else "", optional=True),
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
        text_input("zone", "Time zone", circle.zone if circle else zone, hint="An Area/City name, e.g. Europe/Berlin"),
    ]
    for index in range(MAX_QUESTIONS):
        value = questions[index] if index < len(questions) else ""
        blocks.append(text_input(f"question_{index}", f"Question {index + 1}", value, optional=True))
    reminder = (circle.reminder_minutes if circle else DEFAULT_REMINDER_MINUTES) / 60
    window = (circle.window_minutes if circle else DEFAULT_WINDOW_MINUTES) / 60
    blocks.append(text_input("reminder", "Remind after (hours)", f"{reminder:g}"))
    blocks.append(text_input("window", "Answers close after (hours)", f"{window:g}"))
    return {
        "type": "modal",
        "callback_id": CIRCLE_MODAL,
        "title": plain("Edit circle" if circle else "New learning circle", MAX_MODAL_TITLE),
        "submit": plain("Save" if circle else "Create", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"circle_id": circle.id if circle else None}),
        "blocks": blocks,
    }


def circle_list(rows: list[tuple[Circle, int, str]]) -> list[Block]:
    if not rows:
        return [mrkdwn_section("No learning circles yet. Start one: `/circle create &lt;name&gt;`.")]
    lines = [
        f"*{_name(c)}* — {count} member{'s' if count != 1 else ''} · <#{c.channel_id}> · "
        f"{cadence_of(c).describe()} · {when}"
        for c, count, when in rows
    ]
    blocks: list[Block] = [header("Learning circles")]
    for start in range(0, min(len(lines), 45 * 15), 15):
        blocks.append(mrkdwn_section("\n".join(lines[start : start + 15])))
    return blocks


def circle_info(circle: Circle, members: list[CircleMember], last: dict[str, Any], next_round: str) -> list[Block]:
    about = f"\n{user_text_excerpt(circle.description, 500)}" if circle.description else ""
    facts = f"<#{circle.channel_id}> · {cadence_of(circle).describe()} · owner <@{circle.owner_id}> · {next_round}"
    lines = []
    for membership in members:
        answered = last.get(membership.user_id)
        when = answered.strftime("%Y-%m-%d") if answered else "not yet"
        paused = f" · sitting out {membership.skip_rounds} round(s)" if membership.skip_rounds else ""
        lines.append(f"<@{membership.user_id}> — streak {membership.streak} · last answer {when}{paused}")
    blocks: list[Block] = [header(circle.name), mrkdwn_section(f"{facts}{about}")]
    for start in range(0, min(len(lines), 40 * 25), 25):
        blocks.append(mrkdwn_section("\n".join(lines[start : start + 25])))
    return blocks


def circle_help(problem: str | None = None) -> list[Block]:
    usage = "\n".join(
        [
            "*Learning circles* — small groups that check in on a schedule.",
            "• `/circle create Rust learners` — set one up (a form opens)",
            "• `/circle join Rust learners` · `/circle leave Rust learners`",
            "• `/circle list` · `/circle info Rust learners`",
            "• `/circle pause Rust learners 2` — sit out the next 2 rounds (default 1)",
            "• Owner or admin: `/circle checkin Rust learners now` · `/circle edit Rust learners` · "
            "`/circle archive Rust learners`",
        ]
    )
    return usage_blocks(usage, problem)
