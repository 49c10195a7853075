"""Turning messages into tips (Save as tip, the tip emoji) and reactions into helpful votes."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.slack.requests import request_key
from bot.slack.results import Failed
from bot.tips import service as tip_service
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

SAVE_AS_TIP = "save_as_tip"


def _emoji_name(reaction: str) -> str:
    return reaction.split("::", 1)[0]  # "+1::skin-tone-2" is still "+1"


def _saved_note(emoji: str, saved: tip_service.Saved, user_id: str) -> str:
    """The confirmation: whose message became which tip, and for a private one, who can now find it."""
    tip = saved.tip
    whose = "your" if tip.author_id == user_id else f"<@{tip.author_id}>'s"
    if not saved.private:
        return f":{emoji}: Saved {whose} message as tip #{tip.number}."
    return (
        f":{emoji}: Saved {whose} message as tip #{tip.number}. It comes from a private conversation, and tips are "
        f"searchable by everyone in the workspace: `/tip delete {tip.number}` takes it back."
    )


DIRECT_MESSAGE_CAPTURE = (
    "I don't read direct messages, so the tip emoji can't save this one. To share it, "
    "use `/tip &lt;what you learned&gt;` (it will be searchable by the whole workspace)."
)


def register(app: App, deps: Deps) -> None:
    emoji = deps.tip_emoji

    def save_as_tip(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "message shortcuts carry a response_url"
        channel, message, user_id = body["channel"], body["message"], body["user"]["id"]
        channel_id = channel["id"]
        try:
            saved = tip_service.save_message(
                deps,
                team_id=str(context.team_id),
                channel_id=channel_id,
                channel_name=channel.get("name"),
                message=message,
                saved_by_id=user_id,
                source="shortcut",
                request_key=request_key(body),
            )
        except tip_service.CannotSave as refused:
            respond(str(refused))
            return
        assert saved is not None  # no event id, so never a repeat delivery
        if not saved.created:
            respond(f"That message is already tip #{saved.tip.number}.")
            return
        marked = deps.slack.add_reaction(channel_id, message["ts"], emoji)
        note = ""
        if marked is not None and not channel_id.startswith("D"):  # a DM can't take me in
            note = (
                " I couldn't mark the message, so reactions on it won't count as votes until you invite me"
                " to the channel (`/invite @Peerlearn`)."
            )
        respond(_saved_note(emoji, saved, user_id) + note)

    app.shortcut(SAVE_AS_TIP)(ack=acknowledge, lazy=[after_ack(deps, save_as_tip)])

    def reaction_added(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        team_id, event_id = str(context.team_id), body.get("event_id")
        user_id, channel_id, ts, reaction = event["user"], item["channel"], item["ts"], event["reaction"]
        key = request_key(body)
        if tip_service.react(
            deps,
            team_id=team_id,
            event_id=event_id,
            channel_id=channel_id,
            ts=ts,
            user_id=user_id,
            reaction=reaction,
            request_key=key,
        ):
            return
        if _emoji_name(reaction) != emoji:
            return
        if channel_id.startswith("D"):  # reading a DM needs im:history, which Peerlearn does not ask for
            deps.slack.tell(user_id, DIRECT_MESSAGE_CAPTURE, channel=channel_id)
            return
        message = deps.slack.fetch_message(channel_id, ts)
        if isinstance(message, Failed):
            deps.slack.tell(
                user_id, f"I couldn't read that message to save it as a tip ({message.error}).", channel=channel_id
            )
            return
        try:
            saved = tip_service.save_message(
                deps,
                team_id=team_id,
                channel_id=channel_id,
                message=message,
                saved_by_id=user_id,
                source="reaction",
                request_key=key,
                event_id=event_id,
                reaction=reaction,
            )
        except tip_service.CannotSave as refused:
            deps.slack.tell(user_id, str(refused), channel=channel_id)
            return
        if saved is not None and saved.created:
            deps.slack.tell(user_id, _saved_note(emoji, saved, user_id), channel=channel_id)

    app.event("reaction_added")(ack=acknowledge, lazy=[after_ack(deps, reaction_added)])

    def reaction_removed(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        tip_service.unreact(
            deps,
            team_id=str(context.team_id),
            event_id=body.get("event_id"),
            channel_id=item["channel"],
            ts=item["ts"],
            user_id=event["user"],
            reaction=event["reaction"],
        )

    app.event("reaction_removed")(ack=acknowledge, lazy=[after_ack(deps, reaction_removed)])
