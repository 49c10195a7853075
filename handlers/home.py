"""The App Home tab: drawn after the ack when someone opens it, and again after they act from it.

Its buttons open the tip form, the search form, the circles to browse (filled in after the ack:
which circles a person may see is asked of Slack) and the mentoring profile form (in the ack: a
trigger lasts 3 s); the admins' *Pause*, *Resume* and *Run now* are done after
the ack by bot/home/control.py, which checks the person's right at the change.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.circles import service as circle_service
from bot.circles.replies import said
from bot.circles.rules import CircleNotFound
from bot.home import control
from bot.home import service as home
from bot.home.blocks import ASK_FROM_HOME, BROWSE_FROM_HOME, PROFILE_FROM_HOME, SEARCH_FROM_HOME, SHARE_FROM_HOME
from bot.home.modals import JOIN_FROM_BROWSE, SEARCH_MODAL, circles_loading, read_query, search_modal
from bot.pairing import service as pairing_service
from bot.pairing.blocks import profile_modal
from bot.questions import blocks as question_blocks
from bot.questions.results import Refused
from bot.slack.conversations import dm_once
from bot.slack.requests import request_key
from bot.slack.results import Failed
from bot.tips import service as tip_service
from bot.tips.blocks import compose_modal
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

log = logging.getLogger(__name__)


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return first if isinstance(first, dict) else {}


def register(app: App, deps: Deps) -> None:
    def draw_home(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        if event.get("tab") != "home":
            return  # the Messages tab is the app's DM: nothing to draw
        home.opened(deps, str(context.team_id), str(event["user"]), request_key(body))

    app.event("app_home_opened")(ack=acknowledge, lazy=[after_ack(deps, draw_home)])

    def open_form(body: dict[str, Any], context: BoltContext, view: dict[str, Any], instead: str) -> None:
        """Open a form right away (views.open must follow the click within 3 s), or say what to do instead."""
        trigger_id = body.get("trigger_id")
        failed = deps.slack.open_view(trigger_id, view) if isinstance(trigger_id, str) else None
        if failed is not None or not isinstance(trigger_id, str):
            reason = failed.error if failed is not None else "no trigger"
            deps.slack.tell(str(context.user_id), f"I couldn't open the form ({reason}). {instead}")

    def share_from_home(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        open_form(body, context, compose_modal(None, from_home=True), "Try `/tip &lt;your tip&gt;` instead.")

    def search_from_home(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        open_form(body, context, search_modal(), "Try `/tip search &lt;words&gt;` instead.")

    def _browse_id(body: dict[str, Any]) -> str:
        return f"browse-circles-{request_key(body)}"

    def browse_from_home(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        open_form(body, context, circles_loading(_browse_id(body)), "Try `/circle list` instead.")

    def fill_browse(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        """Which circles the person may see is asked of Slack: after the ack, into the open form."""
        team_id, user_id = str(context.team_id), str(context.user_id)
        if failed := deps.slack.update_view_named(_browse_id(body), home.browse_circles(deps, team_id, user_id)):
            log.info("browse circles not filled in team=%s user=%s error=%s", team_id, user_id, failed.error)

    def profile_from_home(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        profile = pairing_service.load_profile(deps.db, str(context.team_id), str(context.user_id))
        open_form(body, context, profile_modal(profile), "Try `/mentor profile` instead.")

    app.action(SHARE_FROM_HOME)(share_from_home)
    app.action(SEARCH_FROM_HOME)(search_from_home)
    app.action(BROWSE_FROM_HOME)(ack=browse_from_home, lazy=[after_ack(deps, fill_browse)])
    app.action(PROFILE_FROM_HOME)(profile_from_home)

    def ask_from_home(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        open_form(body, context, question_blocks.ask_form(), "Try `/ask &lt;your question&gt;` instead.")

    app.action(ASK_FROM_HOME)(ask_from_home)

    def ack_ask_form(ack: Ack, view: dict[str, Any]) -> None:
        read = question_blocks.read_ask_form((view.get("state") or {}).get("values"))
        if isinstance(read, dict):
            ack(response_action="errors", errors=read)
            return
        ack()  # the form closes; tips are searched and people asked after the ack, as for /ask

    def ask_submitted(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        read = question_blocks.read_ask_form(((body.get("view") or {}).get("state") or {}).get("values"))
        if isinstance(read, dict):
            return  # shown in the form by the ack
        team_id, user_id = str(context.team_id), str(context.user_id)
        question, channel_id = read
        asked = deps.questions.ask_from_form(
            team_id=team_id, user_id=user_id, text=question, channel_id=channel_id, request_key=request_key(body)
        )
        said, shown = question_blocks.asked_message(asked)
        if isinstance(asked, Refused):
            notice = said if said.startswith(":") else f":warning: {said}"
        elif shown:
            # What /ask shows in the channel goes to the person's DM: a form has no channel to answer in.
            notice = ":raising_hand: Asked. Tips that may answer it are in our DM (*Peerlearn → Messages*)."
            if isinstance(failed := dm_once(deps.slack, user_id, said, shown, key=request_key(body)), Failed):
                log.info("ask answer not sent team=%s user=%s error=%s", team_id, user_id, failed.error)
                notice = f":warning: Asked, but I couldn't send you the tips that may answer it ({failed.error})."
        else:
            notice = f":raising_hand: {said or 'Asked.'}"
        home.refresh(deps, team_id, user_id, notice)

    app.view(question_blocks.ASK_FORM)(ack=ack_ask_form, lazy=[after_ack(deps, ask_submitted)])

    def ack_search(ack: Ack, view: dict[str, Any]) -> None:
        query = read_query((view.get("state") or {}).get("values"))
        if isinstance(query, dict):
            ack(response_action="errors", errors=query)
            return
        ack(response_action="update", view=search_modal(query, searching=True))  # results follow the ack

    def show_search_results(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        view = body["view"]
        query = read_query((view.get("state") or {}).get("values"))
        if isinstance(query, dict) or not isinstance(view.get("id"), str):
            return  # shown in the form by the ack
        results = tip_service.search(deps, team_id=str(context.team_id), query=query)
        if failed := deps.slack.update_view(view["id"], search_modal(query, results)):
            log.info("search results not shown team=%s error=%s", context.team_id, failed.error)
            deps.slack.tell(str(context.user_id), f"I couldn't show the results ({failed.error}); try `/tip search`.")

    app.view(SEARCH_MODAL)(ack=ack_search, lazy=[after_ack(deps, show_search_results)])

    def join_from_browse(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        team_id, user_id = str(context.team_id), str(context.user_id)
        try:
            notice = said(circle_service.join_by_button(deps, team_id, user_id, _action(body).get("value")))
        except CircleNotFound as missing:
            notice = str(missing)
        view_id = (body.get("view") or {}).get("id")
        if isinstance(view_id, str):
            deps.slack.update_view(view_id, home.browse_circles(deps, team_id, user_id, notice))
        home.refresh(deps, team_id, user_id, notice)

    app.action(JOIN_FROM_BROWSE)(ack=acknowledge, lazy=[after_ack(deps, join_from_browse)])

    def admin_button(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        team_id, user_id, action = str(context.team_id), str(context.user_id), _action(body)
        notice = control.act(
            deps,
            deps.poster,
            deps.circles,
            team_id=team_id,
            user_id=user_id,
            action_id=str(action.get("action_id")),
            value=action.get("value"),
            key=request_key(body),
        )
        value = action.get("value")  # the row clicked: the notice goes under it
        home.refresh(deps, team_id, user_id, notice, near=value if isinstance(value, str) else None)

    for action_id in control.ADMIN_ACTIONS:
        app.action(action_id)(ack=acknowledge, lazy=[after_ack(deps, admin_button)])
