"""`/peerlearn help`: every command of every capability, grouped, one example each.

Each capability keeps its own usage lines beside its parser (a mistake there is answered with its
one line); this module only gathers them. A capability that adds commands adds its group here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.circles.commands import USAGE as CIRCLE_USAGE
from bot.figures.commands import REPORT_USAGE
from bot.kit import Block, context, header, mrkdwn_section
from bot.pairing.commands import USAGE as MENTOR_USAGE
from bot.people.commands import USAGES as PEOPLE_USAGES
from bot.questions.commands import ADMIN_USAGE as QUESTIONS_ADMIN_USAGE
from bot.questions.commands import USAGE as QUESTION_USAGE
from bot.schedules.commands import HELP_LINES as PEERLEARN_USAGE
from bot.tips.commands import USAGE as TIP_USAGE


@dataclass(frozen=True)
class HelpGroup:
    title: str  # mrkdwn
    lines: tuple[str, ...]  # mrkdwn, a command and an example each


def groups() -> tuple[HelpGroup, ...]:
    return (
        HelpGroup(
            ":bulb: *Tips* — `/tip`",
            (
                *(TIP_USAGE[name] for name in ("share", "compose", "search", "top", "mine", "delete", "help")),
                "Message menu → *Save as tip* — keep any message as a tip, "
                "or react to it with the tip emoji (:bulb: unless your workspace chose another)",
                "React to a tip's post (any emoji) when it helped you: that is a helpful vote",
            ),
        ),
        HelpGroup(
            ":busts_in_silhouette: *Learning circles* — `/circle`",
            tuple(CIRCLE_USAGE.values()),
        ),
        HelpGroup(
            ":handshake: *Mentoring and pairing* — `/mentor`",
            tuple(MENTOR_USAGE.values()),
        ),
        HelpGroup(
            ":seedling: *Prompts, digests and pairing rounds* — `/peerlearn` (admins set them up)",
            tuple(PEERLEARN_USAGE.values()),
        ),
        HelpGroup(
            ":raising_hand: *Ask the workspace* — `/ask`",
            (
                *(line.removeprefix("• ") for line in QUESTION_USAGE.split("\n")[1:]),
                *(line + " (admins)" for line in QUESTIONS_ADMIN_USAGE.split(" · ")),
            ),
        ),
        HelpGroup(
            ":file_folder: *Your data* — `/peerlearn`",
            PEOPLE_USAGES,
        ),
        HelpGroup(
            ":house: *Your Home and the admins' figures*",
            (
                "Open *Peerlearn* → *Home*: your tips and the votes they got, your streaks, your circles, "
                "pairing and open questions, and buttons to share, search, browse circles, edit your profile "
                "and ask a question; admins also see every schedule, with *Pause*, *Resume* and *Run now*, "
                "the questions channels with *Turn off*, and the last 8 weeks",
                REPORT_USAGE + " (admins)",
            ),
        ),
    )


def everything(problem: str | None = None) -> list[Block]:
    """The whole help: a header, a section per group (each far under 3,000 characters), a note."""
    blocks: list[Block] = []
    if problem:
        blocks.append(mrkdwn_section(f":warning: {problem}"))
    blocks.append(header("Everything Peerlearn does"))
    for group in groups():
        blocks.append(mrkdwn_section("\n".join([group.title, *(f"• {line}" for line in group.lines)])))
    blocks.append(context("Answers to these commands are only visible to you, unless they share something."))
    return blocks
