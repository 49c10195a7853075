"""What admins see of pairing: the next round's pairs before anything is sent, and the figures."""

from __future__ import annotations

from collections import Counter

from bot.kit import Block, context, mrkdwn_section
from bot.pairing.groups import Plan
from bot.pairing.stats import PairingStats
from bot.schedules.commands import PairingOptions
from bot.schedules.kinds import plural

MAX_GROUPS_SHOWN = 40  # a preview is a sample to judge by, kept far inside Slack's limits


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def preview_blocks(channel_id: str, options: PairingOptions, plan: Plan) -> list[Block]:
    head = (
        f"*Preview of the next pairing round in <#{channel_id}>* ({options.mode.value}, groups of {options.size}, "
        f"no repeat within {plural(options.window, 'round')}). Nothing was sent."
    )
    lines = []
    for group in plan.groups[:MAX_GROUPS_SHOWN]:
        people = " + ".join(f"<@{m}>" for m in group.members)
        extra = []
        if group.mentor:
            extra.append(f"mentor <@{group.mentor}>")
        if group.skills:
            extra.append(", ".join(group.skills[:3]))
        lines.append(f"• {people}" + (f" ({' · '.join(extra)})" if extra else ""))
    if len(plan.groups) > MAX_GROUPS_SHOWN:
        lines.append(f"… and {plural(len(plan.groups) - MAX_GROUPS_SHOWN, 'more group')}")
    blocks = [mrkdwn_section(head)]
    blocks.append(mrkdwn_section("\n".join(lines) if lines else "No groups: nobody in the pool could be paired."))
    if plan.left_out:
        reasons = Counter(reason for _, reason in plan.left_out)
        told = "; ".join(f"{plural(count, 'person', 'people')}: {reason.value}" for reason, count in reasons.items())
        blocks.append(context(f"Without a partner (each is told why): {told}"))
    return blocks


def figures_blocks(channel_id: str, stats: PairingStats) -> list[Block]:
    if not stats.rounds:
        return [mrkdwn_section(f"No pairing rounds in <#{channel_id}> yet.")]
    lines = [
        f"*Pairing in <#{channel_id}>*: {plural(stats.rounds, 'round')}, {plural(stats.groups, 'group')}",
        f"Met: {_percent(stats.met_rate)} · answered: {_percent(stats.response_rate)}",
        f"Different pairs: {stats.unique_pairs} · repeats within the no-repeat window: {stats.repeats_in_window}",
        f"Cross-team groups: {_percent(stats.cross_team_share)}",
    ]
    if stats.learners:
        lines.append(f"Learners matched to a teacher of a wanted skill: {_percent(stats.taught_share)}")
    return [mrkdwn_section("\n".join(lines))]
