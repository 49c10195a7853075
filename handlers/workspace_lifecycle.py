"""The app uninstalled from the workspace, or its tokens revoked: one listener per event type (Bolt
runs only the first listener an event matches), both calling the one use case after the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.people.lifecycle import event_time, workspace_uninstalled
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

log = logging.getLogger(__name__)


def revokes_the_bot(event: dict[str, Any]) -> bool:
    """tokens_revoked names the revoked tokens' owners; only the bot's matters (the app holds no user
    tokens). An event that names none is taken as revoking all of them."""
    tokens = event.get("tokens")
    if not isinstance(tokens, dict) or "bot" not in tokens:
        return True
    return bool(tokens.get("bot"))


def register(app: App, deps: Deps) -> None:
    def stop_workspace(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body.get("event") or {}
        reason = str(event.get("type"))
        if reason == "tokens_revoked" and not revokes_the_bot(event):
            log.info("team=%s tokens_revoked for user tokens only: the app holds none", context.team_id)
            return
        at = event_time(body.get("event_time")) or deps.clock()
        workspace_uninstalled(deps.db, str(context.team_id), at, reason)
        if deps.installations is not None:  # OAuth mode: its token goes too (a reinstall made since stays)
            team_id = None if context.is_enterprise_install else str(context.team_id)
            deps.installations.delete(team_id, context.enterprise_id, installed_before=at)

    app.event("app_uninstalled")(ack=acknowledge, lazy=[after_ack(deps, stop_workspace)])
    app.event("tokens_revoked")(ack=acknowledge, lazy=[after_ack(deps, stop_workspace)])
