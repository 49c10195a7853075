"""What a person does in the Slack client, turned into what Slack would send the app.

Typing a message stores it and sends a `message` event; a slash command sends the command and shows
its ack; a click on a reaction, a button, a message shortcut or a modal's submit sends the matching
event or interaction. Answers come back as Slack would show them: ephemeral messages, updated
modals, field errors, or Slackbot's "failed with the error" notice.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.app_link import Answer, AppLink
from sandbox.block_kit import block_kit_problems, view_problems
from sandbox.manifest import Manifest
from sandbox.response_urls import ResponseUrls
from sandbox.web_api import Triggers, member_joined_event, reaction_event
from sandbox.workspace import Channel, Member, Message, Reaction, User, View, Workspace, accepted_view

SLACKBOT = "USLACKBOT"


class ActionError(Exception):
    """Something the person tried that Slack's client would refuse; shown on the page."""


class SlackClient:
    def __init__(
        self, workspace: Workspace, link: AppLink, triggers: Triggers, manifest: Manifest, base_url: str
    ) -> None:
        self.workspace = workspace
        self.team = workspace.team
        self.bot = workspace.team.bot_user_id
        self.link = link
        self.triggers = triggers
        self.manifest = manifest
        self.response_urls = ResponseUrls(workspace, base_url)
        self._submitting: set[str] = set()  # view ids whose view_submission is on its way
        self._lock = threading.Lock()

    # -- events from the workspace to the app ------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:
        """Send an event if the app subscribed to it and is in the conversation, as Slack decides."""
        channel_id = event.get("channel") or (event.get("item") or {}).get("channel")
        if channel_id:
            with self.workspace.session() as session:
                channel = session.get(Channel, channel_id)
                if channel is None or self.bot not in self.workspace.members(session, channel_id):
                    return
                kind = channel.event_channel_type
            if not self.manifest.subscribed(event["type"], kind):
                return
        elif event["type"] not in self.manifest.bot_events:
            return
        self.link.event(event)

    # -- typing in the composer --------------------------------------------------------------------

    def send(self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None) -> None:
        text = text.strip()
        if not text:
            raise ActionError("Type a message first.")
        if text.startswith("/"):
            self.run_command(user_id, channel_id, text, thread_ts)
            return
        with self.workspace.session() as session:
            channel = self._postable(session, user_id, channel_id)
            if channel.is_im and self.manifest.messages_read_only:
                raise ActionError("Sending messages to this app has been turned off.")
            encoded = self._encode(session, text, links=True)
            message = self.workspace.add_message(session, channel_id, user_id, encoded, thread_ts=thread_ts)
            kind = channel.event_channel_type
            event: dict[str, Any] = {"type": "message", "channel": channel_id, "channel_type": kind}
            event.update(message.as_slack([], self.team))
            event["blocks"] = [_rich_text(message.text)]
        self.workspace.changed()
        self.emit(event)

    def run_command(self, user_id: str, channel_id: str, typed: str, thread_ts: str | None = None) -> Answer | None:
        name, _, text = typed.partition(" ")
        command = self.manifest.commands.get(name)
        if command is None:
            self._slackbot(
                user_id,
                channel_id,
                f'`{name}` is not a valid command. In Slack, all messages that start with the "/" character '
                "are interpreted as commands.",
            )
            return None
        with self.workspace.session() as session:
            user = self._user(session, user_id)
            channel = self._postable(session, user_id, channel_id)
            text = self._encode(session, text.strip(), links=command.should_escape, named=True)
            channel_json = {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}
        answer = self.link.command(
            command=name,
            text=text,
            user={"id": user.id, "name": user.name},
            channel=channel_json,
            response_url=self.response_urls.issue(user_id, channel_id, None, thread_ts=thread_ts),
            trigger_id=self.triggers.issue(user_id, channel_id),
        )
        self._show_ack(answer, name, user_id, channel_id, thread_ts)
        return answer

    # -- reactions, shortcuts, buttons --------------------------------------------------------------

    def toggle_reaction(self, user_id: str, channel_id: str, ts: str, name: str) -> bool:
        """Add the reaction, or take it back if this person already added it. True when added."""
        name = name.strip(":").strip()
        if not re.fullmatch(r"[a-z0-9_+'-]{1,100}", name):
            raise ActionError("Pick an emoji name such as bulb or thumbsup.")
        with self.workspace.session() as session:
            self._postable(session, user_id, channel_id)
            message = self.workspace.message(session, channel_id, ts)
            if message is None:
                raise ActionError("That message is gone.")
            existing = session.get(Reaction, (message.id, name, user_id))
            if existing is None:
                self.workspace.add_reaction(session, message.id, name, user_id)
            else:
                session.delete(existing)
            item_user = message.user_id
        self.workspace.changed()
        kind = "reaction_added" if existing is None else "reaction_removed"
        self.emit(reaction_event(kind, user_id, channel_id, ts, name, item_user))
        return existing is None

    def shortcut(self, user_id: str, channel_id: str, ts: str, callback_id: str) -> None:
        if not any(s.callback_id == callback_id and s.kind == "message" for s in self.manifest.shortcuts):
            raise ActionError("This app has no such shortcut.")
        with self.workspace.session() as session:
            user = self._user(session, user_id)
            channel = self._readable(session, user_id, channel_id)
            message = self.workspace.message(session, channel_id, ts)
            if message is None:
                raise ActionError("That message is gone.")
            reactions = self.workspace.reactions(session, [message.id]).get(message.id, [])
            message_json = message.as_slack(reactions, self.team)
        answer = self.link.interaction(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "trigger_id": self.triggers.issue(user_id, channel_id),
                "response_url": self.response_urls.issue(user_id, channel_id, None, thread_ts=None),
                "user": _user_json(user, self.team.id),
                "channel": {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name},
                "message_ts": ts,
                "message": message_json,
                "action_ts": f"{self.workspace.now():.6f}",
            }
        )
        self._show_failure(answer, "That shortcut", user_id, channel_id)

    def click(
        self,
        user_id: str,
        *,
        action_id: str,
        block_id: str,
        channel_id: str | None = None,
        ts: str | None = None,
        view_id: str | None = None,
    ) -> None:
        """A button in a message (channel_id + ts, ephemeral ones too) or in a view (view_id)."""
        with self.workspace.session() as session:
            user = self._user(session, user_id)
            payload: dict[str, Any] = {"type": "block_actions", "user": _user_json(user, self.team.id)}
            if view_id is not None:
                view = session.get(View, view_id)
                if view is None or view.user_id != user_id:
                    raise ActionError("That view is closed.")
                channel_id = view.channel_id  # a modal's buttons act where the modal was opened
                body = json.loads(view.body)
                payload["container"] = {"type": "view", "view_id": view_id}
                payload["view"] = {**body, "state": {"values": {}}}
                blocks = body.get("blocks") or []
            else:
                channel = self._readable(session, user_id, channel_id or "")
                message = session.scalars(
                    select(Message).where(Message.channel_id == channel.id, Message.ts == (ts or ""))
                ).first()
                if message is None or message.visible_to not in (None, user_id):
                    raise ActionError("That message is gone.")
                ephemeral = message.visible_to is not None
                payload["container"] = {
                    "type": "message",
                    "message_ts": message.ts,
                    "channel_id": channel.id,
                    "is_ephemeral": ephemeral,
                }
                payload["channel"] = {"id": channel.id, "name": channel.name}
                if not ephemeral:
                    payload["message"] = message.as_slack([], self.team)
                payload["response_url"] = self.response_urls.issue(
                    user_id, channel.id, message.ts, thread_ts=message.thread_ts
                )
                payload["state"] = {"values": {}}
                blocks = json.loads(message.blocks)
            element = _find_element(blocks, block_id, action_id)
            if element is None:
                raise ActionError("That button is no longer there.")
        action = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{self.workspace.now():.6f}",
        }
        if "text" in element:
            action["text"] = element["text"]
        if "value" in element:
            action["value"] = element["value"]
        payload["actions"] = [action]
        payload["trigger_id"] = self.triggers.issue(user_id, channel_id)
        answer = self.link.interaction(payload)
        self._show_failure(answer, "That button", user_id, None if view_id else channel_id)

    # -- modals and App Home ----------------------------------------------------------------------

    def submit_view(self, user_id: str, view_id: str, values: dict[str, Any]) -> dict[str, str]:
        """Submit a modal; the field errors the app answered with (empty when it was accepted).
        A second submit of a form already on its way is refused, as Slack's client disables it."""
        with self._lock:
            if view_id in self._submitting:
                raise ActionError("That form is being sent.")
            self._submitting.add(view_id)
        try:
            return self._submit_view(user_id, view_id, values)
        finally:
            with self._lock:
                self._submitting.discard(view_id)

    def _submit_view(self, user_id: str, view_id: str, values: dict[str, Any]) -> dict[str, str]:
        with self.workspace.session() as session:
            user = self._user(session, user_id)
            view = session.get(View, view_id)
            if view is None or view.user_id != user_id or view.kind != "modal":
                raise ActionError("That form is closed.")
            body = json.loads(view.body)
        body["state"] = {"values": values}
        answer = self.link.interaction(
            {
                "type": "view_submission",
                "user": _user_json(user, self.team.id),
                "trigger_id": self.triggers.issue(user_id, view.channel_id),
                "view": body,
                "response_urls": [],
            }
        )
        if answer.error or answer.status != 200:
            raise ActionError("We had some trouble connecting. Try again? (the app did not answer in time)")
        reply = answer.json() or {}
        action = reply.get("response_action")
        if action == "errors":
            return {str(key): str(value) for key, value in (reply.get("errors") or {}).items()}
        if action in ("update", "push") and (problems := view_problems(reply.get("view") or {})):
            self.workspace.record_problem(f"view_submission response_action={action}", "invalid_arguments", problems)
            raise ActionError("The app answered with a view Slack would refuse (see “Slack would refuse”).")
        with self.workspace.session() as session:
            stack = session.scalars(
                select(View).where(View.user_id == user_id, View.kind == "modal").order_by(View.position)
            ).all()
            current = next((stacked for stacked in stack if stacked.id == view_id), None)
            if action == "update" and current is not None:
                current.body = json.dumps(accepted_view(reply["view"], self.team, view_id))
            elif action == "push":
                pushed = accepted_view(reply["view"], self.team)
                self.workspace.add_modal(session, pushed, user_id, view.channel_id, position=len(stack))
            elif action == "clear":
                for stacked in stack:
                    session.delete(stacked)
            elif current is not None:
                session.delete(current)
        self.workspace.changed()
        return {}

    def close_view(self, user_id: str, view_id: str) -> None:
        with self.workspace.session() as session:
            view = session.get(View, view_id)
            if view is None or view.user_id != user_id:
                return
            body = json.loads(view.body)
            session.delete(view)
            user = self._user(session, user_id)
        self.workspace.changed()
        if body.get("notify_on_close"):
            self.link.interaction(
                {
                    "type": "view_closed",
                    "user": _user_json(user, self.team.id),
                    "view": body,
                    "is_cleared": False,
                }
            )

    def close_views(self, user_id: str) -> None:
        """Close every modal this person has open, top first, as reloading Slack's client does."""
        with self.workspace.session() as session:
            stack = session.scalars(
                select(View.id).where(View.user_id == user_id, View.kind == "modal").order_by(View.position.desc())
            ).all()
        for view_id in stack:
            self.close_view(user_id, view_id)

    def open_app_home(self, user_id: str, tab: str) -> None:
        with self.workspace.session() as session:
            self._user(session, user_id)
            channel = self.workspace.im_with(session, user_id)
            home = session.scalars(select(View).where(View.user_id == user_id, View.kind == "home")).first()
            shown = json.loads(home.body) if home else None
        event: dict[str, Any] = {"type": "app_home_opened", "user": user_id, "channel": channel.id, "tab": tab}
        if shown:
            event["view"] = shown
        self.emit(event)

    # -- helpers -----------------------------------------------------------------------------------

    def _show_ack(self, answer: Answer, name: str, user_id: str, channel_id: str, thread_ts: str | None) -> None:
        if self._show_failure(answer, name, user_id, channel_id):
            return
        reply = answer.json()
        if reply is None:
            if answer.text.strip():
                self._ephemeral(user_id, channel_id, answer.text.strip(), [])
            return
        blocks = reply.get("blocks") or []
        problems = block_kit_problems(blocks, 50) if blocks else []
        if problems:
            self.workspace.record_problem(f"{name} ack", "invalid_blocks", problems)
            self._slackbot(user_id, channel_id, f"{name} answered with blocks Slack would refuse (see Problems).")
            return
        if not reply.get("text") and not blocks:
            return
        if reply.get("response_type") == "in_channel":
            with self.workspace.session() as session:
                text = reply.get("text") or ""
                self.workspace.add_message(session, channel_id, self.bot, text, blocks=blocks, thread_ts=thread_ts)
            self.workspace.changed()
            return
        self._ephemeral(user_id, channel_id, reply.get("text") or "", blocks)

    def _show_failure(self, answer: Answer, what: str, user_id: str, channel_id: str | None) -> bool:
        """Slackbot's notice when the app did not acknowledge; True when it did not."""
        if answer.status == 200 and not answer.error:
            return False
        notice = f'{what} failed with the error "{answer.error or "dispatch_failed"}"'
        if channel_id is None:
            raise ActionError(notice)  # a button in a modal or App Home: the page's banner shows it
        self._slackbot(user_id, channel_id, notice)
        return True

    def _slackbot(self, user_id: str, channel_id: str, text: str) -> None:
        self._ephemeral(user_id, channel_id, text, [], author=SLACKBOT)

    def _ephemeral(
        self, user_id: str, channel_id: str, text: str, blocks: list[Any], author: str | None = None
    ) -> None:
        with self.workspace.session() as session:
            self.workspace.add_message(session, channel_id, author or self.bot, text, blocks=blocks, visible_to=user_id)
        self.workspace.changed()

    def _user(self, session: Session, user_id: str) -> User:
        user = session.get(User, user_id)
        if user is None or user.is_bot:
            raise ActionError("Pick someone to act as.")
        return user

    def _readable(self, session: Session, user_id: str, channel_id: str) -> Channel:
        """A conversation this person can read: any public channel (as a preview), else one they are in."""
        channel = session.get(Channel, channel_id)
        if channel is None and channel_id == "D" + user_id[1:]:
            channel = self.workspace.im_with(session, user_id)  # their DM with the app, made on first use
        if channel is None:
            raise ActionError("No such channel.")
        if channel.kind != "public_channel" and session.get(Member, (channel_id, user_id)) is None:
            raise ActionError("You are not in that conversation.")
        return channel

    def _postable(self, session: Session, user_id: str, channel_id: str) -> Channel:
        """A conversation this person can write in (messages, commands, reactions): as in Slack, a
        public channel must be joined first; an archived one takes nothing."""
        channel = self._readable(session, user_id, channel_id)
        if channel.is_archived:
            raise ActionError(f"#{channel.name} is archived: nobody can post in it.")
        if session.get(Member, (channel_id, user_id)) is None:
            raise ActionError(f"Join #{channel.name} first: in Slack you preview a channel until you join it.")
        return channel

    def join(self, user_id: str, channel_id: str) -> None:
        """Join a public channel, as its "Join channel" button does (Slack posts that they joined)."""
        with self.workspace.session() as session:
            self._user(session, user_id)
            channel = self._readable(session, user_id, channel_id)
            if channel.is_archived:
                raise ActionError(f"#{channel.name} is archived: nobody can join it.")
            if session.get(Member, (channel_id, user_id)) is not None:
                return
            session.add(Member(channel_id=channel_id, user_id=user_id))
            joined = self.workspace.add_message(
                session, channel_id, user_id, f"<@{user_id}> has joined the channel", extra={"subtype": "channel_join"}
            )
            event = {"type": "message", "channel": channel_id, "channel_type": channel.event_channel_type,
                     **joined.as_slack([], self.team)}  # fmt: skip
        self.workspace.changed()
        self.emit(event)
        self.emit(member_joined_event(user_id, channel_id, self.team.id))

    def add_app(self, user_id: str, channel_id: str) -> None:
        """A member adds the app to their channel, as `/invite @Peerlearn` does: Slack posts that it
        joined and tells the app (`member_joined_channel`, with who invited it)."""
        with self.workspace.session() as session:
            self._user(session, user_id)
            channel = self._postable(session, user_id, channel_id)
            if session.get(Member, (channel_id, self.bot)) is not None:
                return
            session.add(Member(channel_id=channel_id, user_id=self.bot))
            joined = self.workspace.add_message(
                session, channel_id, self.bot, f"<@{self.bot}> has joined the channel",
                extra={"subtype": "channel_join", "inviter": user_id},
            )  # fmt: skip
            event = {"type": "message", "channel": channel_id, "channel_type": channel.event_channel_type,
                     **joined.as_slack([], self.team)}  # fmt: skip
            kind = "G" if channel.is_private else "C"
        self.workspace.changed()
        self.emit(event)
        self.emit({**member_joined_event(self.bot, channel_id, self.team.id, inviter=user_id), "channel_type": kind})

    def _encode(self, session: Session, text: str, *, links: bool, named: bool = False) -> str:
        """Typed text as Slack sends it: &, <, > escaped; with `links`, @name and #channel as references
        (`<@U123>` in messages; `<@U123|name>` in commands, which is what `named` asks for)."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if not links:
            return text
        users = {user.name.lower(): user.id for user in session.scalars(select(User))}
        channels = {c.name.lower(): c.id for c in session.scalars(select(Channel).where(Channel.is_im.is_(False)))}

        def reference(match: re.Match[str]) -> str:
            sigil, name = match.group(1), match.group(2)
            if sigil == "@" and name.lower() in users:
                return f"<@{users[name.lower()]}|{name}>" if named else f"<@{users[name.lower()]}>"
            if sigil == "#" and name.lower() in channels:
                return f"<#{channels[name.lower()]}|{name}>"
            if sigil == "@" and name.lower() in ("here", "channel", "everyone"):
                return f"<!{name.lower()}>"
            return match.group(0)

        return re.sub(r"(?<![\w&])([@#])([a-z0-9][a-z0-9._-]*)", reference, text, flags=re.IGNORECASE)


def _find_element(blocks: list[dict[str, Any]], block_id: str, action_id: str) -> dict[str, Any] | None:
    for block in blocks:
        if block.get("block_id", "") != block_id and block_id:
            continue
        candidates = [*(block.get("elements") or []), block.get("accessory") or {}]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _rich_text(text: str) -> dict[str, Any]:
    """The rich_text block Slack's client attaches to a typed message."""
    return {
        "type": "rich_text",
        "block_id": secrets.token_hex(3),
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def _user_json(user: User, team_id: str) -> dict[str, Any]:
    """The `user` of an interaction payload."""
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": team_id}
