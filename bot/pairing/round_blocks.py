"""What a pairing round says: the group DM with its buttons, the follow-up, the answers, the summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.kit import MAX_BUTTON_TEXT, Block, context, fallback_text, mrkdwn_section, plain
from bot.pairing.blocks import LEVEL_LABELS
from bot.pairing.people import Level
from bot.schedules.kinds import plural
from bot.text import escape_mrkdwn
from storage.pairing_rounds import RoundCounts

MET_ACTION = "pairing_met"
NOT_YET_ACTION = "pairing_not_yet"
SKIP_ACTION = "pairing_skip"
OUTCOME_OF_ACTION = {MET_ACTION: "met", NOT_YET_ACTION: "not_yet", SKIP_ACTION: "skipped"}

STARTERS = (
    "What is something you learned at work this month that surprised you?",
    "What does a good week look like in your team?",
    "Which tool or habit would you recommend to anyone who joins your team?",
    "What are you trying to get better at this quarter?",
    "What problem would you love a second pair of eyes on?",
    "What did you work on before this role, and what did it teach you?",
)


@dataclass(frozen=True)
class Member:
    user_id: str
    team: str | None
    level: Level | None
    teaches: tuple[str, ...]
    learns: tuple[str, ...]


def _member_line(member: Member, skills: tuple[str, ...]) -> str:
    facts = []
    if member.team:
        facts.append(escape_mrkdwn(member.team))
    if member.level:
        facts.append(LEVEL_LABELS[member.level].lower())
    teaches = [s for s in member.teaches if s in skills] or list(member.teaches[:3])
    if teaches:
        facts.append("teaches " + ", ".join(escape_mrkdwn(s) for s in teaches))
    learns = [s for s in member.learns if s in skills]
    if learns:
        facts.append("learning " + ", ".join(escape_mrkdwn(s) for s in learns))
    return f"• <@{member.user_id}>" + (" — " + " · ".join(facts) if facts else "")


def first_topic(group_id: int, members: list[Member], mentor: str | None, skills: tuple[str, ...]) -> str:
    if mentor and skills:
        learners = " and ".join(f"<@{m.user_id}>" for m in members if m.user_id != mentor)
        return f"{learners}: ask <@{mentor}> how they would get started with *{escape_mrkdwn(skills[0])}*."
    if skills:
        return f"You have *{escape_mrkdwn(skills[0])}* in common: swap one thing each of you learned about it."
    return STARTERS[group_id % len(STARTERS)]


def answer_buttons(group_id: int) -> Block:
    """We met / Not yet / Skip this round (in the group DM, its follow-up, and on the Home tab)."""

    def button(action_id: str, label: str, style: str | None = None) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": plain(label, MAX_BUTTON_TEXT),
            "value": str(group_id),
        }
        if style:
            element["style"] = style
        return element

    return {
        "type": "actions",
        "block_id": f"pairing_{group_id}",
        "elements": [
            button(MET_ACTION, "We met", "primary"),
            button(NOT_YET_ACTION, "Not yet"),
            button(SKIP_ACTION, "Skip this round"),
        ],
    }


def group_message(
    group_id: int, channel_id: str, members: list[Member], mentor: str | None, skills: tuple[str, ...]
) -> tuple[str, list[Block]]:
    starter = members[0].user_id
    size = "pair" if len(members) == 2 else f"group of {len(members)}"
    kind = "mentoring " if mentor else ""
    intro = f":wave: You're a {kind}{size} in this round of <#{channel_id}>'s pairing."
    lines = [_member_line(m, skills) for m in members]
    blocks: list[Block] = [
        mrkdwn_section(intro),
        mrkdwn_section("\n".join(lines)),
        mrkdwn_section(f"*A first topic:* {first_topic(group_id, members, mentor, skills)}"),
        mrkdwn_section(f"<@{starter}>, will you start? Suggest a time for a call or a coffee."),
        answer_buttons(group_id),
        context("Tell me how it went with the buttons; pairs that meet won't be paired again soon."),
    ]
    return fallback_text(f"You're paired this round: {', '.join(m.user_id for m in members)}"), blocks


def follow_up(group_id: int) -> tuple[str, list[Block]]:
    text = "Halfway through the round: did you get to meet?"
    return text, [mrkdwn_section(f":hourglass_flowing_sand: {text}"), answer_buttons(group_id)]


ANSWERS = {
    "met": ":white_check_mark: <@{user}> says you met. Thanks, and enjoy what you learned!",
    "not_yet": ":calendar: <@{user}> says not yet. There's still time this round; I'll check in once more.",
    "skipped": ":fast_forward: <@{user}> is skipping this round. You'll be paired again next time.",
}


def answered(outcome: str, user_id: str) -> tuple[str, list[Block]]:
    text = ANSWERS[outcome].format(user=user_id)
    return fallback_text(text), [mrkdwn_section(text)]


def left_out_text(channel_id: str, reason: str) -> str:
    return f"No partner for you in this round of <#{channel_id}>'s pairing: {reason}. You're in the next one."


def summary_text(channel_id: str, groups: int, trios: int, left_out: int, unreachable: int) -> str:
    pairs = groups - trios
    parts = [f"{pairs} pair{'s' if pairs != 1 else ''}"]
    if trios:
        parts.append(f"{trios} group{'s' if trios != 1 else ''} of three")
    text = f":handshake: Pairing round in <#{channel_id}>: " + " and ".join(parts) + "."
    if left_out == 1:
        text += " 1 person had no partner and was told why."
    elif left_out:
        text += f" {left_out} people had no partner and were told why."
    if unreachable:
        dms = "1 group DM" if unreachable == 1 else f"{unreachable} group DMs"
        text += f" {dms} could not be opened; those groups were skipped."
    return text


def pairing_post(counts: RoundCounts) -> tuple[str, list[Block]]:
    """The channel's line about a pairing round: the DMs carry the rest."""
    if not counts.groups:
        text = ":handshake: No pairs this round: not enough people could be paired. More next time!"
    else:
        pairs = counts.groups - counts.trios
        parts = [plural(pairs, "pair")] if pairs else []
        if counts.trios:
            parts.append(plural(counts.trios, "group") + " of three")
        people = plural(counts.people, "person", "people")
        text = (
            f":handshake: This round's pairing is out: {' and '.join(parts)}, {people} in all. "
            "Check your DMs, and tell me there whether you met."
        )
    hint = "Rather sit out? `/mentor pause` or `/mentor off`; `/mentor resume` to come back."
    return text, [mrkdwn_section(text), context(hint)]
