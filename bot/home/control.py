"""The admins' Home buttons: *Pause*, *Resume* and *Run now* on a schedule or a circle, and
*Turn off* on a questions channel.

A button's value names what it acts on (`schedule:12`, `circle:3`): input from the network, read
strictly here and looked up within the request's team by the use cases, which check the person's
right at the change (bot/schedules/control.py, bot/circles/control.py). Every outcome, refusals
included, comes back as one line for the person, shown at the top of their refreshed Home.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.circles import control as circles
from bot.circles.replies import said
from bot.circles.rounds import CircleRunner
from bot.circles.rules import CircleNotFound, NotAllowed
from bot.kit import local_time
from bot.questions import admin as questions_admin
from bot.schedules import control as schedules
from bot.schedules.blocks import change_message
from bot.schedules.commands import ChannelRef
from bot.schedules.kinds import PostKind, describe_kind
from bot.schedules.posting import ScheduledPoster
from bot.schedules.rules import ScheduleInputError
from bot.schedules.service import NotAdmin
from bot.services import Services
from bot.text import escape_mrkdwn

PAUSE_ACTION = "home_pause"
RESUME_ACTION = "home_resume"
RUN_NOW_ACTION = "home_run_now"
QUESTIONS_OFF_ACTION = "home_questions_off"
ADMIN_ACTIONS = (PAUSE_ACTION, RESUME_ACTION, RUN_NOW_ACTION, QUESTIONS_OFF_ACTION)
_CHANNEL = re.compile(r"C[A-Z0-9]{1,31}")  # questions channels are public
UNKNOWN_BUTTON = ":warning: That button is not one I know; nothing changed."
_TARGET = re.compile(r"(schedule|circle):([1-9][0-9]{0,9})")
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Target:
    is_circle: bool
    id: int


def parse_target(value: object) -> Target | None:
    """`schedule:12` or `circle:3`, exactly; anything else (forged, stale, huge) is None."""
    if not isinstance(value, str) or (found := _TARGET.fullmatch(value)) is None:
        return None
    number = int(found.group(2))
    return Target(found.group(1) == "circle", number) if number <= MAX_ID else None


def act(
    services: Services,
    poster: ScheduledPoster,
    runner: CircleRunner,
    *,
    team_id: str,
    user_id: str,
    action_id: str,
    value: object,
    key: str,
) -> str:
    """Do what the button says, if this person may; what came of it, in a line for them."""
    if action_id == QUESTIONS_OFF_ACTION:
        return _questions_off(services, team_id, user_id, value)
    target = parse_target(value)
    if target is None or action_id not in ADMIN_ACTIONS:
        return UNKNOWN_BUTTON
    try:
        if target.is_circle:
            return _circle(services, runner, team_id, user_id, action_id, target.id, key)
        return _schedule(services, poster, team_id, user_id, action_id, target.id, key)
    except NotAdmin as refused:
        return f":no_entry: {refused}"
    except (ScheduleInputError, CircleNotFound, NotAllowed) as problem:
        return f":warning: {problem}"


def _schedule(
    services: Services, poster: ScheduledPoster, team_id: str, user_id: str, action_id: str, schedule_id: int, key: str
) -> str:
    if action_id == RUN_NOW_ACTION:
        posted = schedules.run_now(services, poster, team_id=team_id, user_id=user_id, schedule_id=schedule_id, key=key)
        return change_message(posted)
    toggle = schedules.pause if action_id == PAUSE_ACTION else schedules.resume
    toggled = toggle(services, team_id=team_id, user_id=user_id, schedule_id=schedule_id)
    what = f"the {describe_kind(toggled.kind)}" if toggled.kind else "the schedule"
    where = f"<#{toggled.channel_id}>"
    if not toggled.changed:
        return f"{what.capitalize()} for {where} {'was paused already' if toggled.paused else 'was not paused'}."
    if toggled.paused:
        return f":pause_button: Paused {what} for {where}. *Resume* starts again; nothing missed meanwhile is posted."
    assert toggled.next_at is not None
    more = "the next round" if toggled.kind is PostKind.PAIRING else "the next post"
    return f":arrow_forward: Resumed {what} for {where}: {more} is {local_time(toggled.next_at, toggled.zone)}."


def _circle(
    services: Services, runner: CircleRunner, team_id: str, user_id: str, action_id: str, circle_id: int, key: str
) -> str:
    if action_id == RUN_NOW_ACTION:
        return said(circles.run_now(services, runner, team_id=team_id, user_id=user_id, circle_id=circle_id, key=key))
    toggle = circles.pause if action_id == PAUSE_ACTION else circles.resume
    toggled = toggle(services, team_id=team_id, user_id=user_id, circle_id=circle_id)
    name = f"“{escape_mrkdwn(toggled.circle.name)}”"
    if not toggled.changed:
        return f"{name} {'was paused already' if toggled.paused else 'was not paused'}."
    if toggled.paused:
        return f":pause_button: Paused {name}: no check-ins until it is resumed."
    when = f" Next check-in: {local_time(toggled.next_at, toggled.circle.zone)}." if toggled.next_at else ""
    return f":arrow_forward: Resumed {name}.{when}"


def _questions_off(services: Services, team_id: str, user_id: str, value: object) -> str:
    """The questions admin use case turns it off, checking the person's right at the change."""
    if not isinstance(value, str) or _CHANNEL.fullmatch(value) is None:
        return UNKNOWN_BUTTON
    try:
        return questions_admin.set_channel(
            services, team_id=team_id, user_id=user_id, ref=ChannelRef(value, None), on=False
        )
    except NotAdmin as refused:
        return f":no_entry: {refused}"
    except ScheduleInputError as problem:
        return f":warning: {problem}"
