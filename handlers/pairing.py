"""The buttons of a pairing round's group DM: We met, Not yet, Skip this round."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.home import service as home
from bot.pairing import outcomes, round_blocks
from bot.pairing.delivery import Delivery
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

_GROUP_ID = re.compile(r"[1-9][0-9]{0,9}")


def register(app: App, deps: Deps) -> None:
    def record_answer(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        action = (body.get("actions") or [{}])[0]
        user_id = str(context.user_id)
        outcome = round_blocks.OUTCOME_OF_ACTION.get(str(action.get("action_id")), "")
        value = str(action.get("value") or "")
        if not _GROUP_ID.fullmatch(value) or int(value) > 2**31 - 1:
            deps.slack.tell(user_id, "That button is not one I know.")
            return
        result = outcomes.answer(deps.db, str(context.team_id), user_id, int(value), outcome, deps.clock())
        if not result.recorded:
            deps.slack.tell(user_id, result.message)
            return
        if (body.get("container") or {}).get("type") == "view":  # clicked on the Home tab: draw it again
            home.refresh(deps, str(context.team_id), user_id)
        # The group's own recorded message shows the answer; never a channel or ts the request names.
        Delivery(deps.db, deps.slack, clock=deps.clock).show_answer(int(value), outcome, user_id)

    for action_id in round_blocks.OUTCOME_OF_ACTION:
        app.action(action_id)(ack=acknowledge, lazy=[after_ack(deps, record_answer)])
