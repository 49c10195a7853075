"""The app uninstalled from the workspace (or, installed organisation-wide, from an Enterprise Grid
organisation), or its tokens revoked: one listener per event type (Bolt runs only the first listener
an event matches), both calling the one use case (bot/uninstalled.py) after the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.people.lifecycle import event_time
from bot.uninstalled import uninstalled
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
        uninstalled(
            deps.db,
            deps.installations,  # OAuth mode: the installation goes too
            context.team_id or None,  # an organisation-wide install's envelope may name no workspace
            context.enterprise_id or None,
            organisation_wide=bool(context.is_enterprise_install),
            at=at,
            reason=reason,
        )

    app.event("app_uninstalled")(ack=acknowledge, lazy=[after_ack(deps, stop_workspace)])
    app.event("tokens_revoked")(ack=acknowledge, lazy=[after_ack(deps, stop_workspace)])
