"""The one place unexpected errors land: log with ids, tell the person, never stay silent."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.blocks.notices import something_went_wrong
from bot.deps import Deps

log = logging.getLogger("peerlearn.errors")


def register(app: App, deps: Deps) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        kind = body.get("type") or body.get("command") or "request"
        log.error(
            "unhandled error kind=%s team=%s user=%s channel=%s: %r",
            kind, context.team_id, context.user_id, context.channel_id, error,
            exc_info=error,
        )  # fmt: skip
        if respond is not None:
            respond(text=something_went_wrong(), response_type="ephemeral", replace_original=False)
        elif context.user_id and body.get("type") in ("view_submission", "block_actions", "event_callback"):
            deps.slack.tell(context.user_id, something_went_wrong())
