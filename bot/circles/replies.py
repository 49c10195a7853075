"""What the person who acted is told: the outcome of each /circle use case, in words."""

from __future__ import annotations

from typing import assert_never

from bot.circles.messages import next_round_text, plural, schedule_text
from bot.circles.service import Archived, CheckinOpened, CommandOutcome, Joined, Left, Paused, Saved
from bot.notices import post_failure
from bot.slack.results import Failed
from bot.text import escape_mrkdwn


def said(outcome: CommandOutcome) -> str:
    name = escape_mrkdwn(outcome.circle.name)
    match outcome:
        case Joined(new=new):
            return f":wave: You joined “{name}”. Check-ins come by DM." if new else f"You're already in “{name}”."
        case Left(was_member=was_member):
            return f"You left “{name}”." if was_member else f"You're not a member of “{name}”."
        case Paused(rounds=rounds):
            if rounds is None:
                return f"You're not a member of “{name}”; `/circle join {name}` first."
            what = "round" if rounds == 1 else plural(rounds, "round")
            return f":pause_button: You'll sit out the next {what} of “{name}”; your streak waits for you."
        case CheckinOpened(opened=opened):
            return (
                f":white_check_mark: Opened a check-in for “{name}”."
                if opened
                else f"“{name}” already has an open check-in."
            )
        case Archived():
            return f":file_cabinet: Archived “{name}”. No more check-ins."
        case _:
            assert_never(outcome)


def saved_text(saved: Saved) -> str:
    circle = saved.circle
    name = escape_mrkdwn(circle.name)
    where = f"<#{circle.channel_id}>"
    head = (
        f":seedling: Circle “{name}” {'created' if saved.created else 'updated'}: {schedule_text(circle)} "
        f"in {where}, {next_round_text(circle, saved.next_at)}."
    )
    if not saved.created:
        return head
    match saved.announce:
        case Failed(error=error):
            return (
                f"{head} I couldn't announce it in {where}: {post_failure(error)} "
                f"Others join with `/circle join {name}`."
            )
        case _:
            return f"{head} I announced it in {where} with a *Join* button; others can also `/circle join {name}`."
