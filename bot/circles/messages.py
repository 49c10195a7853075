"""What circles say: channel posts, DMs, list and info, and the answers to /circle.

Times are Slack dates (`<!date^…>`): each reader sees them in their own time zone and locale; the
fallback (old clients, notifications) is the circle's own local time.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.circles.commands import USAGE
from bot.circles.rules import known_zones, questions_of, schedule_of, stuck_question
from bot.kit import (
    MAX_BUTTON_TEXT,
    Block,
    context,
    fallback_text,
    header,
    local_time,
    mrkdwn_section,
    plain,
    slack_date,
    usage_blocks,
)
from bot.text import escape_mrkdwn, truncate_escaped
from storage.models import Circle, CircleMember, CircleRound

CHECKIN_ACTION = "circle_checkin"
JOIN_ACTION = "circle_join"
CELEBRATED_STREAK = 3
ANNOUNCED_EVENT = "peerlearn_circle_announced"
ANSWERED_EVENT = "peerlearn_checkin_answered"
CLOSED_EVENT = "peerlearn_checkin_closed"  # the round's summary
CLOSED_TEXT = "Check-in closed"  # how every summary's text begins (also those posted before CLOSED_EVENT)
HELP_HEADING = "*Can you help?*"
STREAKS_HEADING = ":fire: *Streaks*: "
_QUOTE_START = re.compile(r"• <@[A-Z0-9]+>: ")  # user text is escaped: "<@" in it reads "&lt;@"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _name(circle: Circle) -> str:
    return truncate_escaped(circle.name, 80)


def schedule_text(circle: Circle) -> str:
    cadence = schedule_of(circle)
    return cadence.describe() if cadence else "settings need fixing (`/circle edit`)"


def next_round_text(circle: Circle, next_at: datetime | None) -> str:
    if circle.paused_reason:
        return f"paused ({escape_mrkdwn(circle.paused_reason)})"
    return "not scheduled" if next_at is None else f"next {local_time(next_at, circle.zone, mark_yours=True)}"


def round_header(circle: Circle, round_: CircleRound) -> tuple[str, list[Block]]:
    # A header is plain text (no <!date> token): the day written out as Slack shows dates elsewhere.
    day = round_.due_at.astimezone(ZoneInfo(circle.zone)) if circle.zone in known_zones() else round_.due_at
    title = f"{circle.name} check-in — {day.strftime('%a, %b')} {day.day}, {day.year}"
    closes = local_time(round_.closes_at, circle.zone)
    blocks = [
        header(title),
        context(f"Members got a DM with the questions; answers arrive in this thread until {closes}."),
    ]
    return fallback_text(title), blocks


def _checkin_button(round_: CircleRound, label: str, primary: bool) -> Block:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": CHECKIN_ACTION,
        "text": plain(label, MAX_BUTTON_TEXT),
        "value": str(round_.id),
    }
    if primary:
        button["style"] = "primary"
    return {"type": "actions", "block_id": "checkin", "elements": [button]}


def checkin_dm(circle: Circle, round_: CircleRound) -> tuple[str, list[Block]]:
    questions = "\n".join(f"• {truncate_escaped(q, 150)}" for q in questions_of(circle))
    until = local_time(round_.closes_at, circle.zone)
    blocks = [
        mrkdwn_section(f":wave: Time for the *{_name(circle)}* check-in (until {until}).\n{questions}"),
        _checkin_button(round_, "Check in", primary=True),
    ]
    return fallback_text(f"Time for the {circle.name} check-in"), blocks


def reminder_dm(circle: Circle, round_: CircleRound) -> tuple[str, list[Block]]:
    closes = local_time(round_.closes_at, circle.zone)
    reminder = f":alarm_clock: A gentle reminder: the *{_name(circle)}* check-in closes {closes}."
    blocks = [mrkdwn_section(reminder), _checkin_button(round_, "Check in", primary=True)]
    return fallback_text(f"Reminder: the {circle.name} check-in"), blocks


def checked_in_dm(circle: Circle, round_: CircleRound) -> tuple[str, list[Block]]:
    """The invitation once answered: clicking again edits the answers."""
    until = local_time(round_.closes_at, circle.zone)
    line = f":white_check_mark: Checked in to *{_name(circle)}* — edit your answers until {until}."
    blocks = [mrkdwn_section(line), _checkin_button(round_, "Edit answers", primary=False)]
    return fallback_text(f"✓ Checked in to {circle.name} — edit your answers"), blocks


def answer_reply(circle: Circle, user_id: str, answers: list[str]) -> tuple[str, list[Block]]:
    blocks: list[Block] = [context(f"*<@{user_id}>* checked in")]
    for question, answer in zip(questions_of(circle), answers, strict=False):
        if answer:
            section = mrkdwn_section(f"*{truncate_escaped(question, 150)}*\n{truncate_escaped(answer, 2700)}")
            section["text"]["verbatim"] = True
            blocks.append(section)
    return fallback_text(f"Check-in from a circle member: {' / '.join(a for a in answers if a)}"), blocks


def round_summary(
    circle: Circle, invited: list[str], answers: dict[str, list[str]], streaks: dict[str, int], quotable: set[str]
) -> tuple[str, list[Block]]:
    """The summary posted in the round's thread; what someone is stuck on is quoted only for the
    `quotable` answerers (those who can read the channel: the others' answers are counted only)."""
    if not answers:
        line = f"{CLOSED_TEXT}: nobody checked in this time ({len(invited)} invited). See you next round!"
        return line, [mrkdwn_section(line)]
    blocks: list[Block] = [
        mrkdwn_section(f":white_check_mark: {CLOSED_TEXT}: *{len(answers)} of {len(invited)}* checked in.")
    ]
    stuck_index = stuck_question(questions_of(circle))
    if stuck_index is not None:
        asks = [
            f"• <@{user}>: {truncate_escaped(given[stuck_index], 300)}"
            for user, given in answers.items()
            if user in quotable and stuck_index < len(given) and given[stuck_index]
        ]
        if asks:
            blocks.append(mrkdwn_section(f"{HELP_HEADING}\n" + "\n".join(asks[:8])))
    celebrated = [f"<@{user}> {streak} in a row" for user, streak in streaks.items() if streak >= CELEBRATED_STREAK]
    if celebrated:
        blocks.append(mrkdwn_section(STREAKS_HEADING + ", ".join(celebrated[:20])))
    return fallback_text(f"{CLOSED_TEXT}: {len(answers)} of {len(invited)} checked in"), blocks


def summary_without(blocks: list[Block], user_id: str) -> list[Block] | None:
    """A posted round summary's blocks without `user_id` (forget-me): their quoted answer and their
    streak taken out, a section left empty dropped; None when it does not name them.

    The posted summary is edited rather than drawn anew with `round_summary`: it says what was true at
    the close (the streaks then, who could read the channel then), which the tables no longer hold
    once later rounds have run. Its counts ("3 of 5 checked in") name nobody and stay: an edit that
    lowered them would lower them again on every rerun of the erasure, which must be idempotent."""
    mention = f"<@{user_id}>"
    kept: list[Block] = []
    for block in blocks:
        text = (block.get("text") or {}).get("text") if block.get("type") == "section" else None
        if not isinstance(text, str) or mention not in text:
            kept.append(block)
            continue
        if text.startswith(HELP_HEADING + "\n"):
            quotes = [
                quote for quote in _quotes(text[len(HELP_HEADING) + 1 :]) if not quote.startswith(f"• {mention}:")
            ]
            left = f"{HELP_HEADING}\n" + "\n".join(quotes) if quotes else None
        elif text.startswith(STREAKS_HEADING):
            streaks = [s for s in text[len(STREAKS_HEADING) :].split(", ") if not s.startswith(f"{mention} ")]
            left = STREAKS_HEADING + ", ".join(streaks) if streaks else None
        else:
            left = None  # naming them in a way this code did not write: the whole section goes
        if left is not None:
            kept.append({**block, "text": {**block["text"], "text": left}})
    return None if kept == blocks else kept


def _quotes(lines: str) -> list[str]:
    """The "• <@someone>: their answer" entries of *Can you help?*, an answer's own line breaks kept."""
    quotes: list[str] = []
    for line in lines.split("\n"):
        if _QUOTE_START.match(line) or not quotes:
            quotes.append(line)
        else:
            quotes[-1] += "\n" + line
    return quotes


def announcement(circle: Circle, next_at: datetime | None) -> tuple[str, list[Block]]:
    """The new circle, shown in its channel with a button to join."""
    about = f"\n{truncate_escaped(circle.description, 500)}" if circle.description else ""
    line = (
        f":seedling: <@{circle.owner_id}> started the learning circle *{_name(circle)}*: check-ins "
        f"{schedule_text(circle)}, {next_round_text(circle, next_at)}.{about}"
    )
    section = mrkdwn_section(line)
    section["text"]["verbatim"] = True
    button = {
        "type": "button",
        "action_id": JOIN_ACTION,
        "text": plain("Join", MAX_BUTTON_TEXT),
        "style": "primary",
        "value": str(circle.id),
    }
    blocks = [section, {"type": "actions", "block_id": "join", "elements": [button]}]
    return fallback_text(f"New learning circle: {circle.name}"), blocks


def circle_list(rows: list[tuple[Circle, int, str]]) -> list[Block]:
    if not rows:
        return [mrkdwn_section("No learning circles yet. Start one: `/circle create &lt;name&gt;`.")]
    lines = [
        f"*{_name(c)}* — {plural(count, 'member')} · <#{c.channel_id}> · {schedule_text(c)} · {next_round}"
        for c, count, next_round in rows
    ]
    blocks: list[Block] = [header("Learning circles")]
    for start in range(0, min(len(lines), 45 * 15), 15):
        blocks.append(mrkdwn_section("\n".join(lines[start : start + 15])))
    return blocks


def circle_info(
    circle: Circle, members: list[CircleMember], last: dict[str, datetime], next_round: str, open_until: str | None
) -> list[Block]:
    about = f"\n{truncate_escaped(circle.description, 500)}" if circle.description else ""
    now_open = f" · check-in open until {open_until}" if open_until else ""
    facts = f"<#{circle.channel_id}> · {schedule_text(circle)} · owner <@{circle.owner_id}> · {next_round}{now_open}"
    lines = []
    for membership in members:
        answered = last.get(membership.user_id)
        shown = f"last answer {slack_date(answered, '{date_short_pretty}')}" if answered else "no answer yet"
        paused = f" · sitting out {plural(membership.skip_rounds, 'round')}" if membership.skip_rounds else ""
        lines.append(f"<@{membership.user_id}> — streak {membership.streak} · {shown}{paused}")
    top = mrkdwn_section(f"{facts}{about}")
    top["text"]["verbatim"] = True
    blocks: list[Block] = [header(circle.name), top]
    for start in range(0, min(len(lines), 40 * 25), 25):
        blocks.append(mrkdwn_section("\n".join(lines[start : start + 25])))
    return blocks


def circle_help(problem: str | None = None, usage: str | None = None) -> list[Block]:
    """The whole help, or with `usage` only the problem and the one usage line that fixes it."""
    if usage is not None:
        return usage_blocks(f"Usage: {usage}", problem)
    lines = [f"• {line}" for line in USAGE.values()]
    lines.insert(0, "*Learning circles* — small groups that check in on a schedule.")
    return usage_blocks("\n".join(lines), problem)
