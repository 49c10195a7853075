"""Messages and views about tips."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.kit import (
    MAX_BUTTON_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_MODAL_TITLE,
    MAX_SECTION_TEXT,
    Block,
    author_mention,
    context,
    fallback_text,
    header,
    link,
    mrkdwn_section,
    plain,
    plain_section,
    slack_date,
    usage_blocks,
    user_text_excerpt,
    user_text_sections,
)
from bot.slack.requests import once_per_message
from bot.text import escape_mrkdwn, parse_tags, truncate
from bot.tips import rules
from bot.tips.commands import GOOD_TIP_EXAMPLE, MAX_BUTTON_VALUE, USAGE
from bot.tips.rules import MAX_TAGS, MAX_TIP_LENGTH, TipDraft, TipRejected
from storage.models import Tip

COMPOSE_CALLBACK = "tip_compose"
SHARE_ANYWAY = once_per_message("tip_share_anyway")  # a double click shares once
EVERYONE_SEES = "Tips are searchable by everyone in the workspace."
EVERYONE_SEES_HERE = "tips are searchable by everyone in the workspace:"
EXCERPT_LENGTH = 400
MAX_TAGS_TEXT = 600  # the tags field's max_length
MAX_PRIVATE_METADATA = 3000  # Slack's limit: anything longer was not written by us
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{1,31}")  # what the composer's conversations_select offers
# window -> (title, phrase for "no tip shared … has a vote")
_WINDOWS = {
    "week": ("this week", "this week"),
    "month": ("the last 30 days", "in the last 30 days"),
    "all": ("all time", "so far"),
}


def _tags(tip: Tip) -> str:
    return " ".join(f"`#{tag}`" for tag in tip.tags.split()) if tip.tags else ""


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 tip`, `2 tips`, `0 tips`: the count with the word that goes with it."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _helpful(count: int) -> str:
    return "no helpful votes yet" if count == 0 else f"{count} found it helpful"


def tip_post(tip: Tip, emoji: str) -> tuple[str, list[Block]]:
    """The channel message for a shared tip: who, what, tags, and how to vote."""
    byline = f":{emoji}: *Tip #{tip.number}* from {author_mention(tip.author_id)}"
    footer = f"React to this message if it helped you · {_tags(tip)}".rstrip(" ·")
    blocks = [context(byline), *user_text_sections(tip.text), context(footer)]
    return fallback_text(f"Tip from a colleague: {tip.text}"), blocks


def tip_line(tip: Tip) -> list[Block]:
    """One tip in a list: an excerpt and its facts, two blocks."""
    date = slack_date(tip.created_at)
    facts = [f"#{tip.number}", author_mention(tip.author_id), date, _helpful(tip.helpful_count)]
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
    title = f"Tips matching “{query}”"
    if tips:
        return _tip_list(title, tips, "")
    # The query is shown in plain text: `*`, `_`, `~` and backticks as typed, never as formatting.
    return [
        header(title),
        plain_section(
            f"No tips match “{truncate(query, 200)}”. Try other or fewer words, "
            "or be the first: /tip <what you learned>"
        ),
    ]


def top_tips(window: str, tips: list[Tip]) -> list[Block]:
    title, phrase = _WINDOWS[window]
    empty = f"No tip shared {phrase} has a helpful vote yet. React to the tips that helped you!"
    return _tip_list(f"Most helpful tips — {title}", tips, empty)


def my_tips(tips: list[Tip], total: int) -> list[Block]:
    votes = sum(tip.helpful_count for tip in tips)
    note = f"You have shared {plural(total, 'tip')}." if total else ""
    if total > len(tips):
        note += f" Showing the newest {len(tips)} ({plural(votes, 'helpful vote')} among them)."
    empty = "You haven't shared a tip yet. Try `/tip &lt;something you learned this week&gt;`."
    return _tip_list("Your tips", tips, empty, note)


def help_blocks(problem: str | None = None, usage: str | None = None, tip_emoji: str = "bulb") -> list[Block]:
    """The whole help, or with `usage` only the problem and the one usage line that fixes it."""
    if usage is not None:
        return usage_blocks(f"Usage: {usage}", problem)
    lines = [
        "*Share what you learned, find what others learned.*",
        *(f"• {USAGE[name]}" for name in ("share", "compose", "search", "top", "mine", "delete")),
        "• Message menu → *Save as tip* — keep any message as a tip",
        f"• React to a tip when it helped you; react with :{tip_emoji}: to turn a message into a tip",
        f"_{EVERYONE_SEES}_",
    ]
    return usage_blocks("\n".join(lines), problem)


def _share_anyway(text: str) -> list[Block]:
    """A button sharing `text` as typed, when it fits in a button's value."""
    if len(text) > MAX_BUTTON_VALUE:
        return []
    button = {
        "type": "button",
        "action_id": SHARE_ANYWAY,
        "text": plain("Share it as a tip anyway", MAX_BUTTON_TEXT),
        "value": text,
    }
    return [{"type": "actions", "block_id": "share_anyway", "elements": [button]}]


def suggestion_blocks(text: str, command: str) -> list[Block]:
    """`/tip serach docker`: asked whether they meant a command, before anything is shared."""
    meant = escape_mrkdwn(command.replace("`", "'"))
    return [
        mrkdwn_section(f":thinking_face: Did you mean `{meant}`?"),
        *_share_anyway(text),
    ]


def too_short_blocks(text: str) -> list[Block]:
    """A tip too short to teach much: an example of a good one, before anything is shared."""
    example = escape_mrkdwn(GOOD_TIP_EXAMPLE)
    return [
        mrkdwn_section(
            ":seedling: That's very short for a tip. A good tip says what you learned and when it helps, "
            f"e.g.\n{example}\nAll that `/tip` does: `/tip help`."
        ),
        *_share_anyway(text),
    ]


def compose_modal(channel_id: str | None, text: str = "", *, from_home: bool = False) -> dict[str, Any]:
    """The form to write a tip; with `text` (too long to share as typed) prefilled to the limit,
    and the part that did not fit shown above it, so nothing typed is lost. `from_home`: opened
    from the App Home, which is drawn again once the tip is shared."""
    channel_select: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel_select["initial_conversation"] = channel_id
    text_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "text",
        "multiline": True,
        "max_length": MAX_TIP_LENGTH,
        "placeholder": plain("A shortcut, a trick, a lesson — in a few sentences", 150),
    }
    overflow: list[Block] = []
    if text:
        head, rest = _fitting(text, MAX_TIP_LENGTH)
        text_input["initial_value"] = head
        if rest:
            overflow = [
                context(f"Your tip was {len(text):,} characters; a tip holds {MAX_TIP_LENGTH:,}. What didn't fit:"),
                *(plain_section(rest[i : i + MAX_SECTION_TEXT]) for i in range(0, len(rest), MAX_SECTION_TEXT)),
            ][:6]
    return {
        "type": "modal",
        "callback_id": COMPOSE_CALLBACK,
        "title": plain("Share a tip", MAX_MODAL_TITLE),
        "submit": plain("Share", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"origin_channel_id": channel_id, **({"home": True} if from_home else {})}),
        "blocks": [
            *overflow,
            {"type": "input", "block_id": "text", "label": plain("What did you learn?", 2000), "element": text_input},
            {
                "type": "input",
                "block_id": "tags",
                "optional": True,
                "label": plain("Tags", 2000),
                "hint": plain(f"Up to {MAX_TAGS} words separated by spaces or commas, e.g. python testing", 2000),
                "element": {"type": "plain_text_input", "action_id": "tags", "max_length": 600},
            },
            {
                "type": "input",
                "block_id": "channel",
                "label": plain("Post it in", 2000),
                "hint": plain(EVERYONE_SEES, 2000),
                "element": channel_select,
            },
        ],
    }


@dataclass(frozen=True)
class ComposedTip:
    draft: TipDraft
    channel_id: str


def read_compose_form(values: object) -> ComposedTip | dict[str, str]:
    """The composer's submission, read as untrusted input: the tip and its channel, or the field
    errors to show (by block id). Missing blocks, values of the wrong type and oversized fields are
    field errors, never an exception."""

    def typed(block_id: str, key: str) -> object:
        block = values.get(block_id) if isinstance(values, dict) else None
        state = block.get(block_id) if isinstance(block, dict) else None
        return state.get(key) if isinstance(state, dict) else None

    text, tags = typed("text", "value"), typed("tags", "value")
    text = text if isinstance(text, str) else ""
    tags = tags if isinstance(tags, str) else ""
    if len(tags) > MAX_TAGS_TEXT:
        return {"tags": f"Keep the tags under {MAX_TAGS_TEXT} characters."}
    try:
        draft = rules.draft_tip(text, parse_tags(tags))
    except TipRejected as rejected:
        return {rejected.field: str(rejected)[:150]}
    channel_id = typed("channel", "selected_conversation")
    if not isinstance(channel_id, str) or not _CHANNEL_ID.fullmatch(channel_id):
        return {"channel": "Pick the channel to share your tip in."}
    return ComposedTip(draft, channel_id)


def _form_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A form's private_metadata, read strictly: a JSON object of ours, else nothing."""
    raw = view.get("private_metadata")
    if not isinstance(raw, str) or len(raw) > MAX_PRIVATE_METADATA:
        return {}
    try:
        metadata = json.loads(raw or "{}")
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def compose_origin(view: dict[str, Any]) -> str | None:
    """The channel the composer was opened from, read strictly from its (untrusted) private_metadata."""
    origin = _form_metadata(view).get("origin_channel_id")
    return origin if isinstance(origin, str) and 0 < len(origin) <= 32 else None


def opened_from_home(view: dict[str, Any]) -> bool:
    """Whether the composer was opened from the App Home (its untrusted private_metadata says so)."""
    return _form_metadata(view).get("home") is True


def _fitting(text: str, limit: int) -> tuple[str, str]:
    """`text` cut at a break within `limit` characters: (what fits, the rest)."""
    if len(text) <= limit:
        return text, ""
    cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
    if cut < limit // 2:
        cut = limit
    return text[:cut].rstrip(), text[cut:].strip()
