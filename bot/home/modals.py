"""The forms the Home's buttons open: *Search tips* (results in the form itself) and *Browse
circles* (a *Join* button each). Their builders stay within a modal's 100 blocks whatever the data,
and their readers take what Slack sends back as untrusted input."""

from __future__ import annotations

from typing import Any

from bot.circles import rules as circle_rules
from bot.kit import (
    MAX_MODAL_TITLE,
    Block,
    button,
    context,
    mrkdwn_section,
    plain,
    plain_section,
    user_text_excerpt,
)
from bot.schedules.kinds import plural
from bot.text import truncate, without_control_characters
from bot.tips.blocks import tip_line
from storage.models import Circle, Tip

SEARCH_MODAL = "home_search"
JOIN_FROM_BROWSE = "home_join_circle"
MAX_QUERY = 200
CIRCLES_LISTED = 90  # one block each, beside the note and the intro: under 100


def search_modal(query: str = "", results: list[Tip] | None = None, *, searching: bool = False) -> dict[str, Any]:
    """The search form; with `query` it shows what it found below the field (or that it is looking)."""
    field: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "query",
        "max_length": MAX_QUERY,
        "placeholder": plain("docker cache, code review, postgres…", 150),
    }
    if query:
        field["initial_value"] = query
    blocks: list[Block] = [
        {"type": "input", "block_id": "query", "label": plain("Words to look for", 2000), "element": field},
    ]
    if searching:
        blocks.append(context(":mag: Searching…"))
    elif results is not None and query:
        if results:
            found = (
                "1 match." if len(results) == 1 else f"The {len(results)} best matches, by relevance and helpfulness."
            )
            blocks.append(context(found))
            for tip in results[:10]:  # 20 blocks at most
                blocks.extend(tip_line(tip))
        else:
            # Shown as typed, never as formatting.
            blocks.append(plain_section(f"No tips match “{truncate(query, 200)}”. Try other or fewer words."))
    return {
        "type": "modal",
        "callback_id": SEARCH_MODAL,
        "title": plain("Search tips", MAX_MODAL_TITLE),
        "submit": plain("Search", MAX_MODAL_TITLE),
        "close": plain("Close", MAX_MODAL_TITLE),
        "blocks": blocks,
    }


def read_query(values: object) -> str | dict[str, str]:
    """The words to look for, or the field error to show."""
    block = values.get("query") if isinstance(values, dict) else None
    state = block.get("query") if isinstance(block, dict) else None
    raw = state.get("value") if isinstance(state, dict) else None
    query = without_control_characters(raw).strip() if isinstance(raw, str) else ""
    if not query:
        return {"query": "Type a word or two to look for."}
    if len(query) > MAX_QUERY:
        return {"query": f"Keep it under {MAX_QUERY} characters."}
    return query


def circles_loading(external_id: str) -> dict[str, Any]:
    """*Browse circles* as it opens (at once: the trigger lasts 3 s), filled in after the ack by
    `external_id` once Slack has said which circles the person may see."""
    return {**_circles_frame([context(":hourglass_flowing_sand: Looking for circles…")]), "external_id": external_id}


def circles_modal(
    listing: list[tuple[Circle, int, str]], member_of: set[int], notice: str | None = None
) -> dict[str, Any]:
    """Every live circle the person may see with its members, schedule and next check-in; *Join*
    where they're not in."""
    blocks: list[Block] = []
    if notice:
        blocks.append(mrkdwn_section(notice))
    if not listing:
        blocks.append(
            mrkdwn_section("No circles yet. Start one with `/circle create &lt;name&gt;`: you'll be its first member.")
        )
    else:
        blocks.append(
            context(
                "A circle checks in on a schedule: its members get a DM with a few questions. "
                "Start your own with `/circle create &lt;name&gt;`."
            )
        )
    for circle, members, next_round in listing[:CIRCLES_LISTED]:
        blocks.append(_circle_entry(circle, members, next_round, circle.id in member_of))
    if len(listing) > CIRCLES_LISTED:
        blocks.append(context(f"…and {len(listing) - CIRCLES_LISTED} more: `/circle list` shows them all."))
    return _circles_frame(blocks)


def _circles_frame(blocks: list[Block]) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Learning circles", MAX_MODAL_TITLE),
        "close": plain("Close", MAX_MODAL_TITLE),
        "blocks": blocks,
    }


def _circle_entry(circle: Circle, members: int, next_round: str, member: bool) -> Block:
    cadence = circle_rules.schedule_of(circle)
    facts = [f"*{user_text_excerpt(circle.name, 80)}* in <#{circle.channel_id}>", plural(members, "member")]
    if cadence is not None:
        facts.append(cadence.describe())
    facts.append(next_round)
    text = " · ".join(facts)
    if circle.description:
        text += "\n" + user_text_excerpt(circle.description, 300)
    if member:
        text += "\n:white_check_mark: You're a member."
    block = mrkdwn_section(text)
    if not member:
        block["accessory"] = button(JOIN_FROM_BROWSE, "Join", str(circle.id))
    return block
