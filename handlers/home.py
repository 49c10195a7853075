"""The App Home tab: published when someone opens it; its button opens the tip form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.home.blocks import SHARE_FROM_HOME, home_view
from bot.home.summary import summary_for
from bot.tips.blocks import compose_modal
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    def publish_home(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        if event.get("tab") != "home":
            return  # the Messages tab is the app's DM: nothing to draw
        summary = summary_for(deps.db, str(context.team_id), event["user"], deps.clock())
        if failed := deps.slack.publish_home(event["user"], home_view(summary)):
            # Nobody is waiting on an answer: the tab keeps its last view until it is opened again.
            log.warning("home tab not published team=%s user=%s error=%s", context.team_id, event["user"], failed.error)

    app.event("app_home_opened")(ack=acknowledge, lazy=[after_ack(deps, publish_home)])

    def share_from_home(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        # views.open must follow the click within 3 s, so it runs here rather than after the ack.
        if failed := deps.slack.open_view(body["trigger_id"], compose_modal(None)):
            deps.slack.tell(
                str(context.user_id), f"I couldn't open the form ({failed.error}). Try `/tip <your tip>` instead."
            )

    app.action(SHARE_FROM_HOME)(share_from_home)
