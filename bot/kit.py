"""Block Kit primitives that never exceed Slack's limits (Slack answers `invalid_blocks` past them).

Every mrkdwn text object made here is `verbatim`: Slack then leaves what people wrote as written
(no auto-linked URLs, no `@here` or `#channel` turned live). Markup that Peerlearn writes itself
(`<@U1>`, `<#C1>`, `<url|label>`, `<!date^…>`) still renders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cadence import format_local
from bot.text import escape_mrkdwn, truncate, truncate_escaped
from storage.models import ANONYMOUS_AUTHOR

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_MODAL_TITLE = 24
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_FALLBACK_TEXT = 3000  # well under chat.postMessage's 40k; notifications show a line anyway


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object of already-escaped text, verbatim (see the module's docstring)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def mrkdwn_section(mrkdwn_text: str) -> Block:
    """A section of already-escaped mrkdwn, cut to the section limit."""
    return {"type": "section", "text": mrkdwn(truncate(mrkdwn_text, MAX_SECTION_TEXT))}


def plain_section(text: str) -> Block:
    """A section of plain text, shown exactly as typed (`*`, `_`, `~`, backticks and all)."""
    return {"type": "section", "text": {"type": "plain_text", "text": truncate(text, MAX_SECTION_TEXT), "emoji": False}}


def user_text_sections(text: str, max_sections: int = 12) -> list[Block]:
    """User text, escaped, split across sections at line or word breaks so none passes 3000.

    A 3000-character tip can escape to 15000 (all `&`), and a cut at a break may come after only
    half a section, so 10 sections hold any tip; 12 leave room, and still fit a 50-block message.
    """
    remaining = escape_mrkdwn(text)
    sections: list[Block] = []
    while remaining and len(sections) < max_sections:
        if len(remaining) <= MAX_SECTION_TEXT:
            chunk, remaining = remaining, ""
        else:
            window = remaining[:MAX_SECTION_TEXT]
            cut = max(window.rfind("\n"), window.rfind(" "))
            if cut < MAX_SECTION_TEXT // 2:
                cut = MAX_SECTION_TEXT
            amp = window.rfind("&", 0, cut)
            if amp != -1 and ";" not in window[amp:cut]:
                cut = amp  # never split an entity such as &amp;
            chunk, remaining = remaining[:cut], remaining[cut:].lstrip()
        sections.append({"type": "section", "text": mrkdwn(chunk)})
    return sections


def user_text_excerpt(text: str, limit: int) -> str:
    return truncate_escaped(text, limit)


def header(plain: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(plain, MAX_HEADER_TEXT), "emoji": True},
    }


def context(*texts: str) -> Block:
    elements = [mrkdwn(truncate(text, MAX_SECTION_TEXT)) for text in texts if text]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def divider() -> Block:
    return {"type": "divider"}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def button(action_id: str, text: str, value: str | None = None, *, primary: bool = False) -> dict[str, Any]:
    """A button element, its text within Slack's 75 characters."""
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(text, MAX_BUTTON_TEXT)}
    if value is not None:
        element["value"] = value
    if primary:
        element["style"] = "primary"
    return element


def fallback_text(text: str) -> str:
    """The notification text of a message, escaped like any user text."""
    return truncate_escaped(text.replace("\n", " "), MAX_FALLBACK_TEXT)


def slack_date(moment: datetime, shown: str = "{date_short}", fallback: str | None = None) -> str:
    """`moment` as each reader sees it, in their own time zone and locale, with Slack's date tokens
    `shown`; `fallback` (by default the date, as stored) for clients that can't."""
    text = f"{moment:%Y-%m-%d}" if fallback is None else fallback
    return f"<!date^{int(moment.timestamp())}^{shown}|{text}>"


def local_time(moment: datetime, zone: str, *, mark_yours: bool = False) -> str:
    """A moment as each reader's own day and time, e.g. "Monday, Nov 30 9:00 AM"; the fallback is
    the time in `zone` (a circle's or a schedule's own), or UTC for a zone no longer known.
    `mark_yours`: "(your time)" after it, where the same line also gives a time in another zone
    ("every Monday at 09:00 America/Sao_Paulo · next Dec 7 1:00 PM (your time)")."""
    try:
        fallback = format_local(moment, zone)
    except (ValueError, KeyError):  # an unknown zone in a row written before the bounds
        fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    shown = "{date_short_pretty} {time} (your time)" if mark_yours else "{date_short_pretty} {time}"
    return slack_date(moment, shown, fallback)


def author_mention(user_id: str) -> str:
    """Who wrote a tip, as a mention; a tip whose author asked to be forgotten names nobody."""
    return "a colleague" if user_id == ANONYMOUS_AUTHOR else f"<@{user_id}>"  # not "former": they may still be here


def link(url: str | None, label: str) -> str:
    if not url or any(ch in url for ch in "<>| "):
        return ""
    return f"<{url}|{label}>"


def usage_blocks(usage: str, problem: str | None = None) -> list[Block]:
    """Help text, led by what was wrong with the request when something was."""
    blocks = [mrkdwn_section(usage)]
    if problem:
        blocks.insert(0, mrkdwn_section(f":warning: {problem}"))
    return blocks
