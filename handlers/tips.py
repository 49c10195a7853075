"""/tip and its composer modal."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot import tip_service, tips
from bot.blocks.notices import tip_saved_not_posted
from bot.blocks.tips import COMPOSE_CALLBACK, compose_modal, help_blocks, my_tips, search_results, top_tips
from bot.deps import Deps
from bot.slack_api import Failed
from bot.text import parse_tags, slack_to_plain
from bot.tip_commands import (
    DeleteTip,
    MyTips,
    OpenComposer,
    SearchTips,
    ShareTip,
    ShowHelp,
    TopTips,
    parse_tip_command,
)


def register(app: App, deps: Deps) -> None:
    @app.command("/tip")
    def on_tip(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        team_id, user_id, channel_id = str(context.team_id), command["user_id"], command["channel_id"]
        # Slack entity-encodes &, <, > in command text: decode once here, so everything below is plain.
        match parse_tip_command(slack_to_plain(command.get("text") or "")):
            case ShareTip(text=text):
                try:
                    draft = tips.draft_tip(text)
                except tips.TipRejected as rejected:
                    ack(text=str(rejected), response_type="ephemeral")
                    return
                ack()
                shared = tip_service.share(
                    deps,
                    team_id=team_id,
                    author_id=user_id,
                    draft=draft,
                    channel_id=channel_id,
                    source="command",
                )
                if isinstance(shared.post, Failed):
                    respond(tip_saved_not_posted(shared.tip.id, shared.post.error))
            case OpenComposer():
                ack()
                error = deps.slack.open_view(command["trigger_id"], compose_modal(channel_id))
                if error:
                    respond(f"I couldn't open the form ({error}). Try `/tip <your tip>` instead.")
            case SearchTips(query=query):
                with deps.db.snapshot() as session:
                    found = tips.search(session, team_id, query)
                ack(
                    text=f"Tips matching {query}",
                    blocks=search_results(query, found),
                    response_type="ephemeral",
                )
            case TopTips(window=window):
                with deps.db.snapshot() as session:
                    best = tips.top(session, team_id, window, deps.clock())
                ack(text="Most helpful tips", blocks=top_tips(window, best), response_type="ephemeral")
            case MyTips():
                with deps.db.snapshot() as session:
                    own, total = tips.mine(session, team_id, user_id)
                ack(text="Your tips", blocks=my_tips(own, total), response_type="ephemeral")
            case DeleteTip(tip_id=tip_id):
                ack()
                try:
                    tip_service.delete(deps, team_id=team_id, tip_id=tip_id, actor_id=user_id)
                except (tips.TipNotFound, tips.NotAllowed) as refused:
                    respond(str(refused))
                    return
                respond(f":wastebasket: Tip #{tip_id} is deleted.")
            case ShowHelp(problem=problem):
                ack(text="How to use /tip", blocks=help_blocks(problem), response_type="ephemeral")

    @app.view(COMPOSE_CALLBACK)
    def on_compose_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        values = view["state"]["values"]
        text = values["text"]["text"].get("value") or ""
        tags = parse_tags(values["tags"]["tags"].get("value") or "")
        channel_id = values["channel"]["channel"].get("selected_conversation")
        try:
            draft = tips.draft_tip(text, tags)
        except tips.TipRejected as rejected:
            ack(response_action="errors", errors={"text": str(rejected)[:150]})
            return
        if not channel_id:
            ack(response_action="errors", errors={"channel": "Pick the channel to share your tip in."})
            return
        ack()
        user_id = str(context.user_id)
        shared = tip_service.share(
            deps,
            team_id=str(context.team_id),
            author_id=user_id,
            draft=draft,
            channel_id=channel_id,
            source="modal",
        )
        if isinstance(shared.post, Failed):
            origin = json.loads(view.get("private_metadata") or "{}").get("origin_channel_id")
            deps.slack.tell(user_id, tip_saved_not_posted(shared.tip.id, shared.post.error), channel=origin)
