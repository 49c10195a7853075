"""What people's-data commands say: forget-me's confirmation and its buttons (and the strict reader of
their value), the counts of what was forgotten, and the answers to export and my-data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.kit import Block, context, mrkdwn, mrkdwn_section, plain
from bot.people.commands import USAGES
from bot.people.erasure import Forgotten, TipsChoice

FORGET_DELETE = "forget_me_delete"
FORGET_ANONYMISE = "forget_me_anonymise"
FORGET_CANCEL = "forget_me_cancel"
CHOICE_OF_ACTION = {FORGET_DELETE: TipsChoice.DELETE, FORGET_ANONYMISE: TipsChoice.ANONYMISE}
NOT_YOURS = ":no_entry: That button isn't yours to press, so nothing was deleted. `/peerlearn forget-me` is yours."
CONFIRMATION_LIFETIME = 3600  # seconds a confirmation can be answered in
_VALUE = re.compile(r"([A-Z][A-Z0-9]{1,31}):([UW][A-Z0-9]{1,31}):([0-9]{1,12})")


@dataclass(frozen=True)
class Confirmation:
    """Whose data a forget-me button names, and when it was drawn (its value, read strictly)."""

    team_id: str
    user_id: str
    issued: int  # epoch seconds


def confirmation_value(team_id: str, user_id: str, now: datetime) -> str:
    return f"{team_id}:{user_id}:{int(now.timestamp())}"


def read_confirmation(value: object) -> Confirmation | None:
    """A button's value as `confirmation_value` wrote it; None for anything else."""
    match = _VALUE.fullmatch(value) if isinstance(value, str) else None
    return None if match is None else Confirmation(match[1], match[2], int(match[3]))


def refusal(confirmation: Confirmation | None, team_id: str, user_id: str, now: datetime) -> str | None:
    """Why this click may not erase anything (None: it may): the button must be the clicker's own,
    drawn for them in this workspace, and recent."""
    if confirmation is None or confirmation.team_id != team_id or confirmation.user_id != user_id:
        return NOT_YOURS
    age = now.timestamp() - confirmation.issued
    if not -60 <= age <= CONFIRMATION_LIFETIME:
        return "That confirmation has expired, so nothing was deleted. Run `/peerlearn forget-me` again."
    return None


def forget_me_confirmation(team_id: str, user_id: str, now: datetime) -> list[Block]:
    value = confirmation_value(team_id, user_id, now)
    return [
        mrkdwn_section(
            ":warning: *Forget me.* This deletes what Peerlearn holds about you in this workspace: your "
            "mentoring profile, the helpful votes you gave, your check-in answers (with the app's posts of "
            "them), your circle memberships, your pairing history and your questions (with their posts and "
            "the DMs that asked colleagues) and replies. It can't be undone; "
            "`/peerlearn my-data` first gives you a copy."
        ),
        mrkdwn_section(
            "*Your tips:* delete them, with their posts, or keep them for your colleagues without your name."
        ),
        {
            "type": "actions",
            "block_id": "forget_me",
            "elements": [
                _button(FORGET_DELETE, "Delete everything, tips too", value, "danger", "Delete your tips too?"),
                _button(FORGET_ANONYMISE, "Keep my tips, anonymised", value, "primary", "Keep your tips, anonymised?"),
                _button(FORGET_CANCEL, "Cancel", value),
            ],
        },
        context(
            "Stays: schedules, prompts and circles you set up (they belong to the workspace; an admin can "
            "change them), and messages in Slack itself."
        ),
    ]


def _button(action_id: str, text: str, value: str, style: str | None = None, asks: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(text, 75), "value": value}
    if style:
        button["style"] = style
    if asks:
        button["confirm"] = {
            "title": plain(asks, 100),
            "text": mrkdwn("Peerlearn deletes your data at once; this can't be undone."),
            "confirm": plain("Yes, forget me", 30),
            "deny": plain("Not now", 30),
            **({"style": "danger"} if style == "danger" else {}),
        }
    return button


def forgotten_text(done: Forgotten) -> str:
    lines = [f"• {what[:1].upper()}{what[1:]}: {count}" for what, count in done.counts]
    text = ":white_check_mark: Done: Peerlearn has forgotten you.\n" + "\n".join(lines)
    if done.slack_left:
        text += (
            f"\n:warning: Slack didn't let me take away or change {done.slack_left} post(s); "
            "an admin can delete them in Slack."
        )
    return text


CANCELLED = "Nothing was deleted. `/peerlearn forget-me` asks again whenever you like."
# Admins only, and whether the person is one is asked of Slack after the ack: the first answer
# must not promise a file that a refusal then takes back.
EXPORT_STARTED = (
    "Checking that you're an admin, then exporting the workspace's tips: "
    "the CSV file comes to our DM (*Peerlearn → Messages*)."
)
REPORT_STARTED = (
    "Checking that you're an admin, then drawing the weekly figures: "
    "the CSV file and the chart come to our DM (*Peerlearn → Messages*)."
)
MY_DATA_STARTED = "Gathering everything Peerlearn holds about you… I'll send it to our DM (*Peerlearn → Messages*)."


def sent_text(what: str, again: bool) -> str:
    where = "It's in our DM (*Peerlearn → Messages*)."
    return f":white_check_mark: {what} {'was sent already' if again else 'is ready'}. {where}"


def usage_text(problem: str, usage: str) -> str:
    return f":warning: {problem}\nUsage: {usage}"


def help_lines() -> list[str]:
    return list(USAGES)
