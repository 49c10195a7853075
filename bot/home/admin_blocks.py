"""The admins' part of the Home: every schedule and circle with its next run and *Pause*/*Resume*/
*Run now*, and the last 8 weeks at a glance, each figure with a trend drawn in text.

At most 48 blocks: 3 to open, 22 for schedules (10 of them), 14 for circles (6), 6 for questions
channels (4), 3 for the figures.
"""

from __future__ import annotations

from typing import Any

from bot.figures.sparkline import sparkline
from bot.figures.weekly import Figure, WeeklyFigures, shown
from bot.home.admin import AdminSummary, Scheduled
from bot.home.control import PAUSE_ACTION, QUESTIONS_OFF_ACTION, RESUME_ACTION, RUN_NOW_ACTION
from bot.kit import (
    Block,
    button,
    context,
    divider,
    header,
    local_time,
    mrkdwn_section,
    plain,
    user_text_excerpt,
)


def admin_blocks(admin: AdminSummary, zone: str | None, notice: tuple[str, str] | None = None) -> list[Block]:
    """The admin part; `notice` (target, text): what came of a click on that row, shown under it."""
    return [
        divider(),
        header("For admins"),
        context("Only workspace admins and owners, and Peerlearn's own admins, see this part."),
        *_listed(
            "Schedules",
            admin.schedules,
            admin.schedules_total,
            zone,
            notice,
            all_of="`/peerlearn schedules`",
            none="Nothing is scheduled yet. Start with `/peerlearn prompts #channel mon 09:00` (a weekly question) "
            "or `/peerlearn digest #channel fri 16:00` (the week's best tips).",
        ),
        *_listed(
            "Learning circles",
            admin.circles,
            admin.circles_total,
            zone,
            notice,
            all_of="`/circle list`",
            none="No circles yet. Anyone can start one with `/circle create &lt;name&gt;`.",
        ),
        *_questions_channels(admin.questions_channels, admin.questions_channels_total),
        *figures_blocks(admin.figures),
    ]


def _questions_channels(channels: list[str], total: int) -> list[Block]:
    """Questions channels are on or off, nothing scheduled: each with *Turn off* (asked first)."""
    blocks = [header("Questions channels")]
    if not channels:
        line = "No questions channel yet. `/peerlearn questions #channel on` answers every question asked there."
        return [*blocks, mrkdwn_section(line)]
    for channel_id in channels:
        turn_off = button(QUESTIONS_OFF_ACTION, "Turn off", channel_id)
        turn_off["confirm"] = {
            "title": plain("Turn it off?", 100),
            "text": {"type": "plain_text", "text": "Questions asked in this channel will no longer be answered."},
            "confirm": plain("Turn off", 30),
            "deny": plain("Cancel", 30),
        }
        section = mrkdwn_section(f"<#{channel_id}> · every question asked there gets tips, then colleagues")
        section["accessory"] = turn_off
        blocks.append(section)
    if total > len(channels):
        blocks.append(context(f"…and {total - len(channels)} more: `/peerlearn questions` lists them all."))
    return blocks


def _listed(
    title: str,
    items: list[Scheduled],
    total: int,
    zone: str | None,
    notice: tuple[str, str] | None,
    *,
    all_of: str,
    none: str,
) -> list[Block]:
    blocks = [header(title)]
    if not items:
        return [*blocks, mrkdwn_section(none)]
    for item in items:
        blocks += _scheduled(item, zone)
        if notice is not None and notice[0] == item.target:
            blocks.append(mrkdwn_section(notice[1]))
    if total > len(items):
        blocks.append(context(f"…and {total - len(items)} more: {all_of} lists them all."))
    return blocks


def _scheduled(item: Scheduled, zone: str | None) -> list[Block]:
    what = f"*{user_text_excerpt(item.what, 80)}*" if item.is_circle else f"*{item.what}*"
    line = [f"{what} in <#{item.channel_id}>"]
    if item.cadence is None:
        fix = "`/circle edit`" if item.is_circle else "set it again with `/peerlearn`"
        state = f":warning: its stored settings can't be read: {fix}"
    elif item.paused_reason is not None:
        state = f":pause_button: paused ({user_text_excerpt(item.paused_reason, 160)})"
    elif item.next_at is not None:
        state = f"next {local_time(item.next_at, zone or 'UTC', mark_yours=True)}"
    else:
        state = "not scheduled"
    line.append(state)
    if item.cadence is not None:
        line.append(item.cadence)
    buttons: list[dict[str, Any]] = []
    if item.paused_reason is not None and item.cadence is not None:
        buttons.append(button(RESUME_ACTION, "Resume", item.target, primary=True))
    elif item.paused_reason is None:
        buttons.append(button(PAUSE_ACTION, "Pause", item.target))
    buttons.append(_run_now(item))
    block_id = item.target.replace(":", "_")
    return [mrkdwn_section(" · ".join(line)), {"type": "actions", "block_id": block_id, "elements": buttons}]


def _run_now(item: Scheduled) -> dict[str, Any]:
    """Run now asks first: it posts in a channel (or DMs a whole pairing round) at once."""
    if item.is_circle:
        ask = "Open a check-in for this circle now? Its members get their DMs at once."
    else:
        ask = f"Run the {item.what.lower()} for this channel now? People see it at once."
    run = button(RUN_NOW_ACTION, "Run now", item.target)
    run["confirm"] = {
        "title": plain("Run it now?", 100),
        "text": {"type": "plain_text", "text": ask[:300]},
        "confirm": plain("Run now", 30),
        "deny": plain("Cancel", 30),
    }
    return run


def figure_line(figure: Figure) -> str:
    """`*Tips shared*  ▁▂▃▅█▆▃▂  12 this week so far · 31 last week`."""
    now, last = figure.values[-1], figure.values[-2] if len(figure.values) > 1 else None
    tail = f"{shown(now, figure.percent, figure.missing)} this week so far"
    if len(figure.values) > 1:
        tail += f" · {shown(last, figure.percent, figure.missing)} last week"
    return f"*{figure.label}*  {sparkline(figure.values)}  {tail}"


def figures_blocks(figures: WeeklyFigures) -> list[Block]:
    count = len(figures.weeks)
    lines = [figure_line(figure) for figure in figures.glance()]
    first = figures.weeks[0].label if figures.weeks else ""
    return [
        header(f"The last {count} weeks"),
        mrkdwn_section("\n".join(lines)),
        context(
            f"A bar a week, from the week of {first} to this one (so far), weeks starting on Monday in your "
            "time zone. Participation is the share of check-ins asked for that were answered; · is a week "
            "with none asked for."
        ),
    ]
