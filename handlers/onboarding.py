"""The bot added to a channel introduces itself there, once per channel, ever.

`member_joined_channel` comes for everyone who joins a channel the bot is in; only the bot's own
joining (its user id, as Bolt learned it from auth.test) becomes a job. The rest is acknowledged
with nothing queued or stored.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.onboarding.intro import introduce
from bot.slack.requests import request_key
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack


def is_the_bot_joining(body: dict[str, Any], context: BoltContext) -> bool:
    event = body.get("event") or {}
    bot = context.bot_user_id
    return bool(bot) and event.get("user") == bot and isinstance(event.get("channel"), str)


def register(app: App, deps: Deps) -> None:
    def post_intro(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        channel_id = str(body["event"]["channel"])
        introduce(deps, team_id=str(context.team_id), channel_id=channel_id, key=request_key(body))

    app.event("member_joined_channel", matchers=[is_the_bot_joining])(
        ack=acknowledge, lazy=[after_ack(deps, post_intro)]
    )
    app.event("member_joined_channel")(acknowledge)  # someone else joined: nothing to do
