"""The Slack Web API methods Peerlearn calls, answered from the sandbox workspace as Slack answers.

Same URL scheme (`POST /api/<method>`, form or JSON body, Bearer token), same `ok`/`error` shapes,
same refusals: membership, archived channels, expired triggers, Block Kit limits. A refusal for
Block Kit is also recorded as a problem so the page can show what Slack would have rejected.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.block_kit import block_kit_problems, view_problems
from sandbox.workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    TEAM_NAME,
    WORKSPACE_URL,
    Channel,
    Member,
    Message,
    Reaction,
    User,
    View,
    Workspace,
    accepted_view,
)

log = logging.getLogger("peerlearn.sandbox")

TRIGGER_LIFETIME = 3.0  # seconds, as on Slack: a modal must be opened within 3 s of the click
EventSink = Callable[[dict[str, Any]], None]


class SlackError(Exception):
    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code, self.extra = code, extra


class Triggers:
    """trigger_id -> who clicked where, valid for three seconds and for one views.open."""

    def __init__(self) -> None:
        self._issued: dict[str, tuple[float, str, str | None]] = {}
        self._lock = threading.Lock()

    def issue(self, user_id: str, channel_id: str | None) -> str:
        trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(8)}"
        with self._lock:
            now = time.monotonic()
            self._issued = {key: value for key, value in self._issued.items() if now - value[0] < TRIGGER_LIFETIME}
            self._issued[trigger] = (now, user_id, channel_id)
        return trigger

    def redeem(self, trigger: str | None) -> tuple[str, str | None]:
        with self._lock:
            issued = self._issued.pop(trigger or "", None)
        if issued is None or time.monotonic() - issued[0] > TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        return issued[1], issued[2]


class WebApi:
    def __init__(self, workspace: Workspace, bot_token: str, triggers: Triggers, emit: EventSink) -> None:
        self.workspace = workspace
        self.bot_token = bot_token
        self.triggers = triggers
        self.emit = emit

    def handle(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """The JSON body Slack would answer with (always HTTP 200, as Slack does for API errors).

        Arguments of the wrong type get Slack's `invalid_arguments`; any other failure is the
        sandbox's own bug, logged and answered as Slack answers its own: `internal_error`."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        implementation = getattr(self, "api_" + method.replace(".", "_"), None)
        if implementation is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            return {"ok": True, **implementation(args)}
        except SlackError as error:
            return {"ok": False, "error": error.code, **error.extra}
        except (ValueError, TypeError) as error:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [str(error)]}}
        except Exception:  # the one boundary between the app and the sandbox's own code
            log.exception("sandbox Web API %s failed", method)
            return {"ok": False, "error": "internal_error"}

    # -- lookups ---------------------------------------------------------------------------------

    def _channel(self, session: Session, channel_id: str | None, *, need_member: bool = True) -> Channel:
        if channel_id and channel_id.startswith(("U", "W")):
            user = session.get(User, channel_id)
            if user is None:
                raise SlackError("channel_not_found")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            return self.workspace.im_with(session, channel_id)
        channel = session.get(Channel, channel_id or "")
        members = self.workspace.members(session, channel.id) if channel else set()
        if channel is None or (channel.is_private and BOT_USER_ID not in members):
            raise SlackError("channel_not_found")
        if need_member and BOT_USER_ID not in members:
            raise SlackError("not_in_channel")
        return channel

    def _message(self, session: Session, channel: Channel, ts: str | None) -> Message:
        message = self.workspace.message(session, channel.id, ts or "")
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _blocks(self, method: str, args: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
        """The message's blocks, once Slack would accept them and the text's parsing is safe."""
        _forbid_unsafe_parsing(args)
        blocks = _json_arg(args.get("blocks"))
        if blocks is None:
            return []
        problems = block_kit_problems(blocks, limit)
        if problems:
            self.workspace.record_problem(method, "invalid_blocks", problems)
            raise SlackError("invalid_blocks", errors=problems)
        return list(blocks)

    def _view(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        view = _json_arg(args.get("view"))
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["view is required"]})
        problems = view_problems(view)
        if problems:
            self.workspace.record_problem(method, "invalid_arguments", problems)
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        return accepted_view(view)

    # -- auth and users ----------------------------------------------------------------------------

    def api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": "peerlearn",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            user = session.get(User, args.get("user") or "")
            if user is None:
                raise SlackError("user_not_found")
            return {"user": user.as_slack()}

    def api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 200)
        with self.workspace.session() as session:
            users = list(session.scalars(select(User).order_by(User.id)))
        following = str(start + limit) if start + limit < len(users) else ""
        return {
            "members": [user.as_slack() for user in users[start : start + limit]],
            "response_metadata": {"next_cursor": following},
        }

    # -- messages --------------------------------------------------------------------------------

    def _postable(self, session: Session, args: dict[str, Any]) -> Channel:
        channel = self._channel(session, args.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        return channel

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = self._blocks("chat.postMessage", args)
        with self.workspace.session() as session:
            channel = self._postable(session, args)
            if not args.get("text") and not blocks:
                raise SlackError("no_text")
            thread_ts = args.get("thread_ts") or None
            if thread_ts:
                self._message(session, channel, thread_ts)
            message = self.workspace.add_message(
                session,
                channel.id,
                BOT_USER_ID,
                args.get("text") or "",
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=_json_arg(args.get("metadata")),
            )
            posted = message.as_slack([])
        self.workspace.changed()
        self.emit({"type": "message", "channel": channel.id, "channel_type": channel_type(channel), **posted})
        return {"channel": channel.id, "ts": posted["ts"], "message": posted}

    def api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = self._blocks("chat.postEphemeral", args)
        with self.workspace.session() as session:
            channel = self._postable(session, args)
            user_id = args.get("user") or ""
            if user_id not in self.workspace.members(session, channel.id):
                raise SlackError("user_not_in_channel")
            ts = self.workspace.add_message(
                session,
                channel.id,
                BOT_USER_ID,
                args.get("text") or "",
                blocks=blocks,
                thread_ts=args.get("thread_ts") or None,
                visible_to=user_id,
            ).ts
        self.workspace.changed()
        return {"message_ts": ts}

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = self._blocks("chat.update", args)
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"))
            message = self._message(session, channel, args.get("ts"))
            if message.user_id != BOT_USER_ID:
                raise SlackError("cant_update_message")
            message.text = args.get("text") or message.text
            message.blocks = json.dumps(blocks)
            message.edited = True
        self.workspace.changed()
        return {"channel": channel.id, "ts": message.ts, "text": message.text}

    def api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"))
            message = self._message(session, channel, args.get("ts"))
            if message.user_id != BOT_USER_ID:
                raise SlackError("cant_delete_message")
            session.delete(message)
        self.workspace.changed()
        return {"channel": channel.id, "ts": message.ts}

    def api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"), need_member=False)
            message = self._message(session, channel, args.get("message_ts"))
        return {"channel": channel.id, "permalink": permalink(channel.id, message.ts, message.thread_ts)}

    # -- conversations ---------------------------------------------------------------------------

    def api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"), need_member=False)
            return {"channel": channel.as_slack(self.workspace.members(session, channel.id))}

    def api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = set((args.get("types") or "public_channel").split(","))
        exclude_archived = str(args.get("exclude_archived")).lower() in ("1", "true")
        listed = []
        with self.workspace.session() as session:
            for channel in session.scalars(select(Channel).where(Channel.is_im.is_(False)).order_by(Channel.name)):
                members = self.workspace.members(session, channel.id)
                kind = "private_channel" if channel.is_private else "public_channel"
                if kind not in wanted or (channel.is_private and BOT_USER_ID not in members):
                    continue
                if exclude_archived and channel.is_archived:
                    continue
                listed.append(channel.as_slack(members))
        return {"channels": listed, "response_metadata": {"next_cursor": ""}}

    def api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = session.get(Channel, args.get("channel") or "")
            if channel is None:
                raise SlackError("channel_not_found")
            if channel.is_private or channel.is_im:
                raise SlackError("method_not_supported_for_channel_type")
            if channel.is_archived:
                raise SlackError("is_archived")
            if BOT_USER_ID not in self.workspace.members(session, channel.id):
                session.add(Member(channel_id=channel.id, user_id=BOT_USER_ID))
                session.flush()
            joined = channel.as_slack(self.workspace.members(session, channel.id))
        self.workspace.changed()
        return {"channel": joined}

    def api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = (args.get("users") or "").split(",")[0]
        with self.workspace.session() as session:
            user = session.get(User, user_id)
            if user is None:
                raise SlackError("user_not_found")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            return {"channel": {"id": self.workspace.im_with(session, user_id).id}}

    def api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"))
            rows = session.scalars(
                select(Message).where(Message.channel_id == channel.id, Message.visible_to.is_(None))
            ).all()
            top_level = [row for row in rows if row.thread_ts in (None, row.ts)]
            newest_first = sorted(_window(top_level, args), key=lambda row: float(row.ts), reverse=True)
            limit = int(args.get("limit") or 100)
            selected = newest_first[:limit]
            reactions = self.workspace.reactions(session, [row.id for row in selected])
            with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
            messages = [row.as_slack(reactions.get(row.id, []), with_metadata=with_metadata) for row in selected]
        return {"messages": messages, "has_more": len(newest_first) > limit, "response_metadata": {"next_cursor": ""}}

    def api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"))
            message = self._message(session, channel, args.get("ts"))
            parent = self._message(session, channel, message.thread_ts or message.ts)
            replies = session.scalars(
                select(Message).where(
                    Message.channel_id == channel.id,
                    Message.thread_ts == parent.ts,
                    Message.ts != parent.ts,
                    Message.visible_to.is_(None),
                )
            ).all()
            selected = [parent, *sorted(_window(list(replies), args), key=lambda row: float(row.ts))]
            selected = selected[: int(args.get("limit") or 1000)]
            reactions = self.workspace.reactions(session, [row.id for row in selected])
            messages = [row.as_slack(reactions.get(row.id, [])) for row in selected]
        return {"messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    # -- reactions -------------------------------------------------------------------------------

    def api_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        name = args.get("name") or ""
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"))
            message = self._message(session, channel, args.get("timestamp"))
            if session.get(Reaction, (message.id, name, BOT_USER_ID)) is not None:
                raise SlackError("already_reacted")
            session.add(Reaction(message_id=message.id, name=name, user_id=BOT_USER_ID))
            item_user = message.user_id
        self.workspace.changed()
        self.emit(reaction_event("reaction_added", BOT_USER_ID, channel.id, message.ts, name, item_user))
        return {}

    def api_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        name = args.get("name") or ""
        with self.workspace.session() as session:
            channel = self._channel(session, args.get("channel"))
            message = self._message(session, channel, args.get("timestamp"))
            reaction = session.get(Reaction, (message.id, name, BOT_USER_ID))
            if reaction is None:
                raise SlackError("no_reaction")
            session.delete(reaction)
            item_user = message.user_id
        self.workspace.changed()
        self.emit(reaction_event("reaction_removed", BOT_USER_ID, channel.id, message.ts, name, item_user))
        return {}

    # -- views -----------------------------------------------------------------------------------

    def api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view("views.open", args)
        user_id, channel_id = self.triggers.redeem(args.get("trigger_id"))
        with self.workspace.session() as session:
            # A trigger from inside a modal opens a new stack, as Slack does: views.push stacks.
            for old in session.scalars(select(View).where(View.user_id == user_id, View.kind == "modal")):
                session.delete(old)
            self.workspace.add_modal(session, view, user_id, channel_id, position=0)
        self.workspace.changed()
        return {"view": view}

    def api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view("views.push", args)
        user_id, channel_id = self.triggers.redeem(args.get("trigger_id"))
        with self.workspace.session() as session:
            depth = len(session.scalars(select(View.id).where(View.user_id == user_id, View.kind == "modal")).all())
            if depth >= 3:
                raise SlackError("push_limit_reached")
            self.workspace.add_modal(session, view, user_id, channel_id, position=depth)
        self.workspace.changed()
        return {"view": view}

    def api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view("views.update", args)
        with self.workspace.session() as session:
            stored = session.get(View, args.get("view_id") or "")
            if stored is None:
                raise SlackError("not_found")
            view["id"] = stored.id
            stored.body = json.dumps(view)
        self.workspace.changed()
        return {"view": view}

    def api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view("views.publish", args)
        user_id = args.get("user_id") or ""
        with self.workspace.session() as session:
            if session.get(User, user_id) is None:
                raise SlackError("user_not_found")
            for old in session.scalars(select(View).where(View.user_id == user_id, View.kind == "home")):
                session.delete(old)
            session.add(View(id=view["id"], user_id=user_id, kind="home", body=json.dumps(view)))
        self.workspace.changed()
        return {"view": view}


# -- shapes shared with the page's actions -------------------------------------------------------


def reaction_event(kind: str, user_id: str, channel_id: str, ts: str, name: str, item_user: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": user_id,
        "reaction": name,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel_id, "ts": ts},
    }


def permalink(channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    link = f"{WORKSPACE_URL}archives/{channel_id}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel_id}"
    return link


def channel_type(channel: Channel) -> str:
    return "im" if channel.is_im else "group" if channel.is_private else "channel"


def _forbid_unsafe_parsing(args: dict[str, Any]) -> None:
    # Peerlearn must never ask Slack to turn user text into live mentions; Slack would obey.
    if str(args.get("link_names")).lower() in ("1", "true") or args.get("parse") == "full":
        raise SlackError("invalid_arguments", response_metadata={"messages": ["link_names/parse=full on user text"]})


def _json_arg(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise SlackError("invalid_json", response_metadata={"messages": [str(error)]}) from error
    return value


def _window(messages: list[Message], args: dict[str, Any]) -> list[Message]:
    inclusive = str(args.get("inclusive")).lower() in ("1", "true")
    latest = float(args["latest"]) if args.get("latest") else float("inf")
    oldest = float(args["oldest"]) if args.get("oldest") else float("-inf")

    def inside(message: Message) -> bool:
        ts = float(message.ts)
        return oldest <= ts <= latest if inclusive else oldest < ts < latest

    return [message for message in messages if inside(message)]
