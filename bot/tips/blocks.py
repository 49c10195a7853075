"""Messages and views about tips."""

from __future__ import annotations

import json
from typing import Any

from bot.kit import (
    MAX_MESSAGE_BLOCKS,
    MAX_MODAL_TITLE,
    Block,
    context,
    fallback_text,
    header,
    link,
    mrkdwn_section,
    plain,
    slack_date,
    usage_blocks,
    user_text_excerpt,
    user_text_sections,
)
from bot.text import escape_mrkdwn, truncate
from bot.tips.rules import MAX_TIP_LENGTH
from storage.models import Tip

COMPOSE_CALLBACK = "tip_compose"
EXCERPT_LENGTH = 400
# window -> (title, phrase for "no tip shared … has a vote")
_WINDOWS = {
    "week": ("this week", "this week"),
    "month": ("the last 30 days", "in the last 30 days"),
    "all": ("all time", "so far"),
}


def _tags(tip: Tip) -> str:
    return " ".join(f"`#{tag}`" for tag in tip.tags.split()) if tip.tags else ""


def _helpful(count: int) -> str:
    return "no helpful votes yet" if count == 0 else f"{count} found it helpful"


def tip_post(tip: Tip, emoji: str) -> tuple[str, list[Block]]:
    """The channel message for a shared tip: who, what, tags, and how to vote."""
    byline = f":{emoji}: *Tip #{tip.id}* from <@{tip.author_id}>"
    footer = f"React to this message if it helped you · {_tags(tip)}".rstrip(" ·")
    blocks = [context(byline), *user_text_sections(tip.text), context(footer)]
    return fallback_text(f"Tip from a colleague: {tip.text}"), blocks


def tip_line(tip: Tip) -> list[Block]:
    """One tip in a list: an excerpt and its facts, two blocks."""
    date = slack_date(tip.created_at.timestamp(), tip.created_at.strftime("%Y-%m-%d"))
    facts = [f"#{tip.id}", f"<@{tip.author_id}>", date, _helpful(tip.helpful_count)]
    if tip.tags:
        facts.append(_tags(tip))
    if view := link(tip.permalink, "view post"):
        facts.append(view)
    return [mrkdwn_section(user_text_excerpt(tip.text, EXCERPT_LENGTH)), context(" · ".join(facts))]


def _tip_list(title: str, tips: list[Tip], empty: str, note: str = "") -> list[Block]:
    blocks = [header(title)]
    if note:
        blocks.append(context(note))
    if not tips:
        return [*blocks, mrkdwn_section(empty)]
    for tip in tips:
        if len(blocks) + 2 > MAX_MESSAGE_BLOCKS:
            break
        blocks.extend(tip_line(tip))
    return blocks


def search_results(query: str, tips: list[Tip]) -> list[Block]:
    empty = (
        f"No tips match *{escape_mrkdwn(truncate(query, 100))}*. Try other or fewer words, "
        "or be the first: `/tip &lt;what you learned&gt;`."
    )
    return _tip_list(f"Tips matching “{query}”", tips, empty)


def top_tips(window: str, tips: list[Tip]) -> list[Block]:
    title, phrase = _WINDOWS[window]
    empty = f"No tip shared {phrase} has a helpful vote yet. React to the tips that helped you!"
    return _tip_list(f"Most helpful tips — {title}", tips, empty)


def my_tips(tips: list[Tip], total: int) -> list[Block]:
    votes = sum(tip.helpful_count for tip in tips)
    note = f"You have shared {total} tip{'s' if total != 1 else ''}." if total else ""
    if total > len(tips):
        note += f" Showing the newest {len(tips)} ({votes} helpful votes among them)."
    empty = "You haven't shared a tip yet. Try `/tip &lt;something you learned this week&gt;`."
    return _tip_list("Your tips", tips, empty, note)


def help_blocks(problem: str | None = None) -> list[Block]:
    usage = "\n".join(
        [
            "*Share what you learned, find what others learned.*",
            "• `/tip Use git worktree to review a PR without stashing #git` — share a tip (#words are tags)",
            "• `/tip` — write a tip in a form",
            "• `/tip search docker cache` — the 10 best matches",
            "• `/tip top` · `/tip top month` · `/tip top all` — the most helpful tips",
            "• `/tip mine` — your tips and how many found them helpful",
            "• `/tip delete 42` — delete your tip #42 (admins: any tip)",
            "• Message menu → *Save as tip* — keep any message as a tip",
            "• React to a tip when it helped you; react with the tip emoji to turn a message into a tip",
        ]
    )
    return usage_blocks(usage, problem)


def compose_modal(channel_id: str | None) -> dict[str, Any]:
    channel_select: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel_select["initial_conversation"] = channel_id
    return {
        "type": "modal",
        "callback_id": COMPOSE_CALLBACK,
        "title": plain("Share a tip", MAX_MODAL_TITLE),
        "submit": plain("Share", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"origin_channel_id": channel_id}),
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": plain("What did you learn?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": MAX_TIP_LENGTH,
                    "placeholder": plain("A shortcut, a trick, a lesson — in a few sentences", 150),
                },
            },
            {
                "type": "input",
                "block_id": "tags",
                "optional": True,
                "label": plain("Tags", 2000),
                "hint": plain("Words separated by spaces or commas, e.g. python testing", 2000),
                "element": {"type": "plain_text_input", "action_id": "tags"},
            },
            {
                "type": "input",
                "block_id": "channel",
                "label": plain("Post it in", 2000),
                "element": channel_select,
            },
        ],
    }
