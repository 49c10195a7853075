"""/tip and its composer modal.

Each listener is split in two: the ack does only quick work (parse, validate, a small indexed read,
open a modal while the trigger is fresh) and returns at once; the rest (writes, Slack calls, and the
searches and rankings that read across the workspace) runs after it, as a lazy listener that a job
worker runs, so neither a slow Slack nor a slow query delays an acknowledgement.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.notices import tip_saved_not_posted
from bot.slack.gateway import Failed
from bot.text import parse_tags, slack_to_plain
from bot.tips import rules as tips
from bot.tips import service as tip_service
from bot.tips.blocks import COMPOSE_CALLBACK, compose_modal, help_blocks, my_tips, search_results, top_tips
from bot.tips.commands import (
    DeleteTip,
    MyTips,
    OpenComposer,
    SearchTips,
    ShareTip,
    ShowHelp,
    TipCommand,
    TopTips,
    parse_tip_command,
)
from handlers.deps import Deps
from handlers.errors import after_ack


def _request(command: dict[str, Any]) -> TipCommand:
    # Slack entity-encodes &, <, > in command text: decode once here, so everything below is plain.
    return parse_tip_command(slack_to_plain(command.get("text") or ""))


def register(app: App, deps: Deps) -> None:
    def ack_tip(ack: Ack, command: dict[str, Any], context: BoltContext, respond: Respond) -> None:
        team_id, user_id, channel_id = str(context.team_id), command["user_id"], command["channel_id"]
        match _request(command):
            case ShareTip(text=text):
                try:
                    tips.draft_tip(text)
                except tips.TipRejected as rejected:
                    ack(text=str(rejected), response_type="ephemeral")
                    return
                ack()
            case OpenComposer():
                ack()
                if error := deps.slack.open_view(command["trigger_id"], compose_modal(channel_id)):
                    respond(f"I couldn't open the form ({error}). Try `/tip <your tip>` instead.")
            case SearchTips() | TopTips():
                # Answered by the job worker through response_url, usually within a fraction of a
                # second; an interim "Searching…" would stay above the answer as clutter.
                ack()
            case MyTips():
                with deps.db.snapshot() as session:
                    own, total = tips.mine(session, team_id, user_id)
                ack(text="Your tips", blocks=my_tips(own, total), response_type="ephemeral")
            case DeleteTip():
                ack()
            case ShowHelp(problem=problem):
                ack(text="How to use /tip", blocks=help_blocks(problem), response_type="ephemeral")

    def run_tip_command(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        team_id, user_id, channel_id = str(context.team_id), body["user_id"], body["channel_id"]
        match _request(body):
            case SearchTips(query=query):
                with deps.db.snapshot() as session:
                    found = tips.search(session, team_id, query)
                respond(text=f"Tips matching {query}", blocks=search_results(query, found), response_type="ephemeral")
            case TopTips(window=window):
                with deps.db.snapshot() as session:
                    best = tips.top(session, team_id, window, deps.clock())
                respond(text="Most helpful tips", blocks=top_tips(window, best), response_type="ephemeral")
            case ShareTip(text=text):
                try:
                    draft = tips.draft_tip(text)
                except tips.TipRejected:
                    return  # already told in the ack
                shared = tip_service.share(
                    deps, team_id=team_id, author_id=user_id, draft=draft, channel_id=channel_id, source="command"
                )
                if isinstance(shared.post, Failed):
                    respond(tip_saved_not_posted(shared.tip.id, shared.post.error))
            case DeleteTip(tip_id=tip_id):
                try:
                    tip_service.delete(deps, team_id=team_id, tip_id=tip_id, actor_id=user_id)
                except (tips.TipNotFound, tips.NotAllowed) as refused:
                    respond(str(refused))
                    return
                respond(f":wastebasket: Tip #{tip_id} is deleted.")

    app.command("/tip")(ack=ack_tip, lazy=[after_ack(deps, run_tip_command)])

    def ack_compose(ack: Ack, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        text = values["text"]["text"].get("value") or ""
        try:
            tips.draft_tip(text, parse_tags(values["tags"]["tags"].get("value") or ""))
        except tips.TipRejected as rejected:
            ack(response_action="errors", errors={"text": str(rejected)[:150]})
            return
        if not values["channel"]["channel"].get("selected_conversation"):
            ack(response_action="errors", errors={"channel": "Pick the channel to share your tip in."})
            return
        ack()

    def share_composed(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        view = body["view"]
        values = view["state"]["values"]
        channel_id = values["channel"]["channel"].get("selected_conversation")
        try:
            draft = tips.draft_tip(
                values["text"]["text"].get("value") or "", parse_tags(values["tags"]["tags"].get("value") or "")
            )
        except tips.TipRejected:
            return  # shown in the form by the ack
        if not channel_id:
            return
        user_id = str(context.user_id)
        shared = tip_service.share(
            deps, team_id=str(context.team_id), author_id=user_id, draft=draft, channel_id=channel_id, source="modal"
        )
        if isinstance(shared.post, Failed):
            origin = json.loads(view.get("private_metadata") or "{}").get("origin_channel_id")
            deps.slack.tell(user_id, tip_saved_not_posted(shared.tip.id, shared.post.error), channel=origin)

    app.view(COMPOSE_CALLBACK)(ack=ack_compose, lazy=[after_ack(deps, share_composed)])
