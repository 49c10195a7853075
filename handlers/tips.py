"""/tip, its composer modal, and the *Share it as a tip anyway* button.

Each listener is split in two: the ack does only quick work (parse, validate, open a modal while
the trigger is fresh) and returns at once; the rest (writes, Slack calls, and the searches and
rankings that read across the workspace) runs after it, as a lazy listener that a job worker runs,
so neither a slow Slack nor a slow query delays an acknowledgement. Every effect carries the
request's key (bot/slack/requests.py), so a job that runs twice makes it once.
"""

from __future__ import annotations

from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.home import service as home
from bot.notices import tip_not_shared, tip_saved_not_posted
from bot.slack.conversations import why_not_post_for
from bot.slack.requests import request_key
from bot.slack.results import Failed
from bot.text import slack_to_plain
from bot.tips import rules as tips
from bot.tips import service as tip_service
from bot.tips.blocks import (
    COMPOSE_CALLBACK,
    EVERYONE_SEES_HERE,
    SHARE_ANYWAY,
    compose_modal,
    compose_origin,
    help_blocks,
    my_tips,
    opened_from_home,
    read_compose_form,
    search_results,
    suggestion_blocks,
    too_short_blocks,
    top_tips,
)
from bot.tips.commands import (
    DeleteTip,
    MyTips,
    OpenComposer,
    SearchTips,
    ShareTip,
    ShowHelp,
    Suggest,
    TipCommand,
    TooShort,
    TopTips,
    parse_tip_command,
    share_anyway_text,
)
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack


def _request(command: dict[str, Any]) -> TipCommand:
    # Slack entity-encodes &, <, > in command text: decode once here, so everything below is plain.
    return parse_tip_command(slack_to_plain(command.get("text") or ""))


def _share_answer(shared: tip_service.Shared, private: bool, channel_id: str) -> str | None:
    """What the author hears after a share: nothing when a public channel shows the post; for a
    private conversation, that the tip is searchable by the whole workspace, and how to take it back."""
    number = shared.tip.number
    consent = f"This conversation is private, but {EVERYONE_SEES_HERE} `/tip delete {number}` takes it back."
    if isinstance(shared.post, Failed):
        failed = tip_saved_not_posted(number, shared.post.error, channel_id)
        return f"{failed} {consent}" if private else failed
    return f":bulb: Shared as tip #{number}. {consent}" if private else None


def _open_form(deps: Deps, command: dict[str, Any], view: dict[str, Any]) -> Failed | None:
    """Open a form for the command's trigger; Slack always sends one, a forged request may not."""
    trigger_id = command.get("trigger_id")
    if not isinstance(trigger_id, str) or not trigger_id:
        return Failed("no trigger_id in the request")
    return deps.slack.open_view(trigger_id, view)


def register(app: App, deps: Deps) -> None:
    def ack_tip(ack: Ack, command: dict[str, Any], context: BoltContext, respond: Respond) -> None:
        match parsed := _request(command):
            case ShareTip() | SearchTips() | TopTips() | DeleteTip():
                # Answered by the job worker, usually within a fraction of a second; an interim
                # "Searching…" would stay above the answer as clutter.
                ack()
            case MyTips():
                own, total = tip_service.mine(deps, team_id=str(context.team_id), user_id=command["user_id"])
                ack(text="Your tips", blocks=my_tips(own, total), response_type="ephemeral")
            case OpenComposer(text=""):
                ack()
                if failed := _open_form(deps, command, compose_modal(command["channel_id"])):
                    deps.slack.tell(
                        command["user_id"],
                        f"I couldn't open the form ({failed.error}). Try `/tip &lt;your tip&gt;` instead.",
                        channel=command.get("channel_id"),
                    )
            case OpenComposer(text=text):
                # Too long to share as typed: the form opens with it, to trim, and nothing is lost.
                limit = tips.MAX_TIP_LENGTH
                too_long = f"That tip is {len(text):,} characters; the limit is {limit:,}. I opened it in a form."
                ack(text=too_long, response_type="ephemeral")
                if failed := _open_form(deps, command, compose_modal(command["channel_id"], text)):
                    deps.slack.tell(
                        command["user_id"],
                        f"I couldn't open the form ({failed.error}). Try `/tip &lt;your tip&gt;` instead.",
                        channel=command.get("channel_id"),
                    )
            case ShowHelp(problem=problem, usage=usage):
                shown = help_blocks(problem, usage, deps.tip_emoji)
                ack(text="How to use /tip", blocks=shown, response_type="ephemeral")
            case Suggest(text=text, command=meant):
                ack(text=f"Did you mean {meant}?", blocks=suggestion_blocks(text, meant), response_type="ephemeral")
            case TooShort(text=text):
                ack(text="That's very short for a tip", blocks=too_short_blocks(text), response_type="ephemeral")
            case _:
                assert_never(parsed)

    def run_tip_command(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        team_id, user_id, channel_id = str(context.team_id), body["user_id"], body["channel_id"]
        match parsed := _request(body):
            case SearchTips(query=query):
                found = tip_service.search(deps, team_id=team_id, query=query)
                blocks = search_results(query, found)
                respond(text="Tips matching your search", blocks=blocks, response_type="ephemeral")
            case TopTips(window=window):
                best = tip_service.top(deps, team_id=team_id, window=window)
                respond(text="Most helpful tips", blocks=top_tips(window, best), response_type="ephemeral")
            case ShareTip(text=text):
                shared = tip_service.share(
                    deps,
                    team_id=team_id,
                    author_id=user_id,
                    draft=tips.draft_tip(text),
                    channel_id=channel_id,
                    source="command",
                    request_key=request_key(body),
                )
                if answer := _share_answer(
                    shared, tips.looks_private(channel_id, body.get("channel_name")), channel_id
                ):
                    respond(answer)
            case DeleteTip(number=number):
                try:
                    tip_service.delete(
                        deps, team_id=team_id, number=number, actor_id=user_id, request_key=request_key(body)
                    )
                except (tips.TipNotFound, tips.NotAllowed) as refused:
                    respond(str(refused))
                    return
                respond(f":wastebasket: Tip #{number} is deleted.")
            case MyTips() | OpenComposer() | ShowHelp() | Suggest() | TooShort():
                pass  # answered in the ack
            case _:
                assert_never(parsed)

    app.command("/tip")(ack=ack_tip, lazy=[after_ack(deps, run_tip_command)])

    def share_anyway(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "buttons on a command's answer carry its response_url"
        action = (body.get("actions") or [{}])[0]
        channel_id = (body.get("channel") or {}).get("id")
        text = share_anyway_text(action.get("value"))
        if text is None or not isinstance(channel_id, str):
            respond("That button no longer works. Share your tip with `/tip &lt;what you learned&gt;`.")
            return
        try:
            draft = tips.draft_tip(text)
        except tips.TipRejected as rejected:
            respond(str(rejected))
            return
        shared = tip_service.share(
            deps,
            team_id=str(context.team_id),
            author_id=str(context.user_id),
            draft=draft,
            channel_id=channel_id,
            source="command",
            request_key=request_key(body),
        )
        answer = _share_answer(
            shared, tips.looks_private(channel_id, (body.get("channel") or {}).get("name")), channel_id
        )
        respond(answer or f":bulb: Shared as tip #{shared.tip.number}.", replace_original=True)

    app.action(SHARE_ANYWAY)(ack=acknowledge, lazy=[after_ack(deps, share_anyway)])

    def ack_compose(ack: Ack, view: dict[str, Any]) -> None:
        read = read_compose_form((view.get("state") or {}).get("values"))
        if isinstance(read, dict):
            ack(response_action="errors", errors=read)
            return
        ack()

    def share_composed(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        view = body["view"]
        read = read_compose_form((view.get("state") or {}).get("values"))
        if isinstance(read, dict):
            return  # shown in the form by the ack
        user_id, team_id, key = str(context.user_id), str(context.team_id), request_key(body)
        # The form's channel is the client's word: checked, unless an earlier run of this job was let through.
        note = (
            None
            if tip_service.shared_before(deps, team_id, key)
            else why_not_post_for(deps.slack, user_id, read.channel_id)
        )
        if note is None:
            shared = tip_service.share(
                deps,
                team_id=team_id,
                author_id=user_id,
                draft=read.draft,
                channel_id=read.channel_id,
                source="modal",
                request_key=key,
            )
            if isinstance(shared.post, Failed):
                note = tip_saved_not_posted(shared.tip.number, shared.post.error, read.channel_id)
        else:
            note = tip_not_shared(note, read.draft.text)
        if opened_from_home(view):  # the Home shows the new tip (and any note) at once
            home.refresh(deps, str(context.team_id), user_id, note)
        elif note is not None:
            deps.slack.tell(user_id, note, channel=compose_origin(view))

    app.view(COMPOSE_CALLBACK)(ack=ack_compose, lazy=[after_ack(deps, share_composed)])
