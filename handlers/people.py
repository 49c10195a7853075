"""People Slack tells us about: someone deactivated leaves every pairing pool at once.

`user_change` fires for every profile edit and status emoji in the workspace, so only a
deactivation becomes a job; every other change is acknowledged with nothing queued or stored.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.pairing import service as pairing_service
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack


def is_deactivation(event: dict[str, Any]) -> bool:
    user = event.get("user")
    return isinstance(user, dict) and user.get("deleted") is True and isinstance(user.get("id"), str)


def register(app: App, deps: Deps) -> None:
    def record_deactivation(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        user_id = str(body["event"]["user"]["id"])
        pairing_service.deactivate(deps.db, str(context.team_id), user_id, deps.clock())

    app.event("user_change", matchers=[is_deactivation])(ack=acknowledge, lazy=[after_ack(deps, record_deactivation)])
    app.event("user_change")(acknowledge)  # any other profile change: nothing to do
