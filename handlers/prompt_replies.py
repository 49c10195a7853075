"""Replies in a prompt's thread are counted for the digest; every other message is chatter.

Bolt's `app.event("message")` matches every message, of every subtype, in every channel the bot is
in (and it joins public channels to post), so which messages become jobs is decided in the ack, and
cheaply: a person's reply in a thread (a `thread_broadcast` or `file_share` reply too), under a
message of ours when Slack says whose (`parent_user_id`), and then one indexed read: is that thread
one of our prompts? The rest is acknowledged by `ignore_chatter` with no database write at all.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.schedules import prompts
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

_REPLY_SUBTYPES = (None, "thread_broadcast", "file_share")


def is_reply_to_us(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A person's reply in a thread that may be ours; decided from the event alone."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts") or event.get("bot_id") or not event.get("user"):
        return False
    if event.get("subtype") not in _REPLY_SUBTYPES:
        return False
    parent = event.get("parent_user_id")
    return parent is None or bot_user_id is None or parent == bot_user_id


def register(app: App, deps: Deps) -> None:
    def prompt_reply(body: dict[str, Any], context: BoltContext) -> bool:
        event = body.get("event") or {}
        if not is_reply_to_us(event, context.bot_user_id) or not isinstance(event.get("channel"), str):
            return False
        return prompts.is_prompt_thread(deps.db, str(context.team_id), event["channel"], str(event["thread_ts"]))

    def count_reply(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        prompts.record_reply(deps.db, str(context.team_id), event["channel"], event["thread_ts"], body.get("event_id"))

    app.event("message", matchers=[prompt_reply])(ack=acknowledge, lazy=[after_ack(deps, count_reply)])


def ignore_chatter(app: App) -> None:
    """Every message no listener above took: acknowledged, nothing queued, nothing stored. Register it
    after every other message listener (Bolt runs the first whose matchers pass)."""
    app.event("message")(acknowledge)
