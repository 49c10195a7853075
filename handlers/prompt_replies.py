"""Replies in a prompt's thread are counted for the digest."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.schedules import prompts
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

_COUNTED_SUBTYPES = (None, "thread_broadcast")


def register(app: App, deps: Deps) -> None:
    def count_reply(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts") or event.get("bot_id"):
            return
        if event.get("subtype") not in _COUNTED_SUBTYPES:
            return
        prompts.record_reply(deps.db, str(context.team_id), event["channel"], thread_ts, body.get("event_id"))

    app.event("message")(ack=acknowledge, lazy=[after_ack(deps, count_reply)])
