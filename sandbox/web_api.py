"""The Slack Web API, answered from a workspace store as Slack answers: the one emulation behind both
the sandbox and the tests' double (tests/slack_double.py).

Same URL scheme (`POST /api/<method>`, form or JSON body, Bearer token), same `ok`/`error` shapes,
and the refusals Slack makes, held to Slack's references rather than to our assumptions:
- the token, then the method's bot scopes as the manifest grants them (sandbox/reference.py), per
  conversation type where Slack decides by type: `missing_scope` with `needed` and `provided`;
- the arguments the reference marks required (`invalid_arguments`, or `no_text` for a message);
- conversation types (public and private channels, DMs, group DMs) and membership: a conversation
  the bot is not in is `channel_not_found` unless public, where acting needs it to join first;
- archived channels, expired `trigger_id`s, messages that are not the bot's;
- Block Kit through slack_sdk's models and our own checks (sandbox/block_kit.py);
- file uploads as Slack takes them: an upload URL, the bytes POSTed there, then the upload completed
  and shared in a conversation (`receive_upload`, `download` serve the two URLs).
What Slack would refuse because the app asked wrongly (blocks, arguments, scopes, unsafe parsing)
is also recorded as a problem: the sandbox page lists them, the tests fail on them.
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
from sandbox.manifest import Manifest
from sandbox.reference import Reference, slack_reference
from sandbox.workspace import Channel, File, Member, Message, Reaction, User, View, Workspace, accepted_view

log = logging.getLogger("peerlearn.sandbox")

TRIGGER_LIFETIME = 3.0  # seconds, as on Slack: a modal must be opened within 3 s of the click
EventSink = Callable[[dict[str, Any]], None]
# Refusals that mean the app asked wrongly, not that the workspace said no: recorded as problems.
APP_MISTAKES = frozenset({"missing_scope", "invalid_arguments", "invalid_blocks", "no_text", "invalid_json"})
_TRUE = ("1", "true", "True", True)


class SlackError(Exception):
    def __init__(self, code: str, *, details: list[str] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code, self.extra = code, extra
        self.details = details or []


class Triggers:
    """trigger_id -> who clicked where, valid for `lifetime` seconds and for one views.open."""

    def __init__(self, lifetime: float = TRIGGER_LIFETIME) -> None:
        self.lifetime = lifetime
        self._issued: dict[str, tuple[float, str, str | None]] = {}
        self._lock = threading.Lock()

    def issue(self, user_id: str, channel_id: str | None) -> str:
        trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(8)}"
        with self._lock:
            now = time.monotonic()
            self._issued = {key: value for key, value in self._issued.items() if now - value[0] < self.lifetime}
            self._issued[trigger] = (now, user_id, channel_id)
        return trigger

    def redeem(self, trigger: str | None) -> tuple[str, str | None]:
        with self._lock:
            issued = self._issued.pop(trigger or "", None)
        if issued is None or time.monotonic() - issued[0] > self.lifetime:
            raise SlackError("expired_trigger_id")
        return issued[1], issued[2]


class WebApi:
    def __init__(
        self,
        workspace: Workspace,
        bot_token: str,
        triggers: Triggers,
        emit: EventSink,
        *,
        manifest: Manifest | None = None,
        scopes: frozenset[str] | None = None,
        reference: Reference | None = None,
        token_check: Callable[[str], str | None] | None = None,
        files_url: str = "http://127.0.0.1/",
    ) -> None:
        self.workspace = workspace
        # Where upload and download URLs point: the server that answers `receive_upload` and `download`.
        self.files_url = files_url
        self.team = workspace.team
        self.bot = workspace.team.bot_user_id
        self.bot_token = bot_token
        self.triggers = triggers
        self.emit = emit
        self.manifest = manifest or Manifest.load()
        self.scopes = self.manifest.bot_scopes if scopes is None else scopes
        self.reference = reference or slack_reference()
        # Whether a token is good here: Slack's error for it, or None. Default: `bot_token` alone;
        # installed through OAuth (sandbox/oauth.py), the tokens Slack issued for this workspace.
        self.token_check = token_check

    def handle(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """The JSON body Slack would answer with (always HTTP 200, as Slack does for API errors).

        Arguments of the wrong type get Slack's `invalid_arguments`; any other failure is the
        emulation's own bug, logged and answered as Slack answers its own: `internal_error`."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        refused = self.token_check(token) if self.token_check else None if token == self.bot_token else "invalid_auth"
        if refused is not None:
            return {"ok": False, "error": refused}
        implementation = getattr(self, "api_" + method.replace(".", "_"), None)
        if implementation is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            self._check_method_scope(method)
            self._check_arguments(method, args)
            return {"ok": True, **implementation(args)}
        except SlackError as error:
            if error.code in APP_MISTAKES:
                self.workspace.record_problem(method, error.code, error.details or [error.code])
            return {"ok": False, "error": error.code, **error.extra}
        except (ValueError, TypeError) as error:
            self.workspace.record_problem(method, "invalid_arguments", [str(error)])
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [str(error)]}}
        except Exception:  # the one boundary between the app and the emulation's own code
            log.exception("sandbox Web API %s failed", method)
            return {"ok": False, "error": "internal_error"}

    # -- what Slack checks before it acts ----------------------------------------------------------

    def _check_method_scope(self, method: str) -> None:
        reference = self.reference.method(method)
        if reference is None or not reference.bot_scopes or reference.scoped_by_conversation_type:
            return  # by type: checked once the conversation is known (_conversation, _require_scope)
        if not set(reference.bot_scopes) & self.scopes:
            self._missing_scope(method, ",".join(reference.bot_scopes))

    def _require_scope(self, method: str, kind: str) -> None:
        """The scope `method` needs on a conversation of this kind (im:history for a DM's history)."""
        reference = self.reference.method(method)
        if reference is None or not reference.scoped_by_conversation_type:
            return
        needed = reference.scope_for(kind)
        if needed is not None and needed not in self.scopes:
            self._missing_scope(method, needed, f" on a conversation of type {kind}")

    def _missing_scope(self, method: str, needed: str, where: str = "") -> None:
        provided = ",".join(sorted(self.scopes))
        raise SlackError(
            "missing_scope",
            details=[f"{method} needs the bot scope {needed}{where}; manifest.yml grants {provided}"],
            needed=needed,
            provided=provided,
        )

    def _check_arguments(self, method: str, args: dict[str, Any]) -> None:
        reference = self.reference.method(method)
        if reference is None:
            return
        missing = [name for name in reference.required if _absent(args.get(name))]
        for group in reference.one_of:
            if all(_absent(args.get(name)) for name in group):
                if method.startswith("chat."):
                    raise SlackError("no_text", details=[f"{method} needs one of {', '.join(group)}"])
                missing.append(" or ".join(group))
        if missing:
            messages = [f"[ERROR] missing required field: {name}" for name in missing]
            raise SlackError("invalid_arguments", details=messages, response_metadata={"messages": messages})

    # -- lookups ---------------------------------------------------------------------------------

    def _conversation(self, session: Session, channel_id: Any, method: str, *, need_member: bool = True) -> Channel:
        """The conversation a call names, as the bot may see it: a user id means the app's DM with them."""
        channel_id = str(channel_id or "")
        if channel_id.startswith(("U", "W")):
            user = session.get(User, channel_id)
            if user is None or user.deleted:
                raise SlackError("channel_not_found")
            if user.is_bot or (user.extra or {}).get("dms_closed"):
                raise SlackError("cannot_dm_bot")
            if not self.manifest.messages_tab:
                raise SlackError("messages_tab_disabled")
            channel = self.workspace.im_with(session, channel_id)
        else:
            found = session.get(Channel, channel_id)
            if found is None:
                raise SlackError("channel_not_found")
            channel = found
        is_member = session.get(Member, (channel.id, self.bot)) is not None
        if channel.kind != "public_channel" and not is_member:
            raise SlackError("channel_not_found")  # private, DM, group DM: invisible to non-members
        self._require_scope(method, channel.kind)
        if need_member and not is_member:
            raise SlackError("not_in_channel")
        return channel

    def _message(self, session: Session, channel: Channel, ts: str | None) -> Message:
        message = self.workspace.message(session, channel.id, ts or "")
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _blocks(self, args: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
        """The message's blocks, once Slack would accept them and the text's parsing is safe."""
        _forbid_unsafe_parsing(args)
        blocks = _json_arg(args.get("blocks"))
        if blocks is None:
            return []
        problems = block_kit_problems(blocks, limit)
        if problems:
            raise SlackError("invalid_blocks", details=problems, errors=problems)
        return list(blocks)

    def _view(self, args: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = _json_arg(args.get("view"))
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", details=["view must be a JSON object"])
        problems = view_problems(view)
        if problems:
            raise SlackError("invalid_arguments", details=problems, response_metadata={"messages": problems})
        return accepted_view(view, self.team, view_id)

    def _as_slack(self, session: Session, rows: list[Message], *, with_metadata: bool = False) -> list[dict[str, Any]]:
        reactions = self.workspace.reactions(session, [row.id for row in rows])
        return [row.as_slack(reactions.get(row.id, []), self.team, with_metadata=with_metadata) for row in rows]

    # -- auth and users ----------------------------------------------------------------------------

    def api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.team.url,
            "team": self.team.name,
            "user": "peerlearn",
            "team_id": self.team.id,
            "user_id": self.bot,
            "bot_id": self.team.bot_id,
            "app_id": self.team.app_id,
            "is_enterprise_install": False,
        }

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            user = session.get(User, args.get("user") or "")
            if user is None:
                raise SlackError("user_not_found")
            return {"user": user.as_slack(self.team)}

    def api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 200)
        with self.workspace.session() as session:
            users = list(session.scalars(select(User).order_by(User.id)))
            page = [user.as_slack(self.team) for user in users[start : start + limit]]
        following = str(start + limit) if start + limit < len(users) else ""
        return {"members": page, "response_metadata": {"next_cursor": following}}

    # -- messages --------------------------------------------------------------------------------

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = self._blocks(args)
        metadata = _json_arg(args.get("metadata"))
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "chat.postMessage")
            if channel.is_archived:
                raise SlackError("is_archived")
            thread_ts = args.get("thread_ts") or None
            if thread_ts:
                self._message(session, channel, thread_ts)
            message = self.workspace.add_message(
                session, channel.id, self.bot, args.get("text") or "", blocks=blocks, thread_ts=thread_ts,
                metadata=metadata,
            )  # fmt: skip
            posted = message.as_slack([], self.team)
            kind = channel.event_channel_type
        self.workspace.changed()
        self.emit({"type": "message", "channel": channel.id, "channel_type": kind, **posted})
        return {"channel": channel.id, "ts": posted["ts"], "message": posted}

    def api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = self._blocks(args)
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "chat.postEphemeral")
            if channel.is_archived:
                raise SlackError("is_archived")
            user_id = str(args.get("user") or "")
            if user_id not in self.workspace.members(session, channel.id):
                raise SlackError("user_not_in_channel")
            ts = self.workspace.add_message(
                session, channel.id, self.bot, args.get("text") or "", blocks=blocks,
                thread_ts=args.get("thread_ts") or None, visible_to=user_id,
            ).ts  # fmt: skip
        self.workspace.changed()
        return {"message_ts": ts}

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        blocks = self._blocks(args)
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "chat.update")
            message = self._message(session, channel, args.get("ts"))
            if message.user_id != self.bot:
                raise SlackError("cant_update_message")
            message.text = args.get("text") or message.text
            message.blocks = json.dumps(blocks)
            message.edited = True
        self.workspace.changed()
        return {"channel": channel.id, "ts": message.ts, "text": message.text}

    def api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "chat.delete")
            message = self._message(session, channel, args.get("ts"))
            if message.user_id != self.bot:
                raise SlackError("cant_delete_message")
            session.delete(message)
        self.workspace.changed()
        return {"channel": channel.id, "ts": message.ts}

    def api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "chat.getPermalink", need_member=False)
            message = self._message(session, channel, args.get("message_ts"))
        return {"channel": channel.id, "permalink": permalink(self.team.url, channel.id, message.ts, message.thread_ts)}

    # -- conversations ---------------------------------------------------------------------------

    def api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "conversations.info", need_member=False)
            return {"channel": channel.as_slack(self.workspace.members(session, channel.id), self.team)}

    def api_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "conversations.members", need_member=False)
            members = sorted(self.workspace.members(session, channel.id))
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = [kind.strip() for kind in str(args.get("types") or "public_channel").split(",") if kind.strip()]
        for kind in wanted:
            if kind not in ("public_channel", "private_channel", "im", "mpim"):
                raise SlackError("invalid_types", details=[f"unknown conversation type {kind!r}"])
            self._require_scope("conversations.list", kind)
        exclude_archived = args.get("exclude_archived") in _TRUE
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        if not 0 < limit < 1000:  # Slack: "under 1000"
            raise SlackError("invalid_limit")
        listed = []
        with self.workspace.session() as session:
            for channel in session.scalars(select(Channel).order_by(Channel.name, Channel.id)):
                members = self.workspace.members(session, channel.id)
                if channel.kind not in wanted or (channel.kind != "public_channel" and self.bot not in members):
                    continue
                if exclude_archived and channel.is_archived:
                    continue
                listed.append(channel.as_slack(members, self.team))
        following = str(start + limit) if start + limit < len(listed) else ""
        return {"channels": listed[start : start + limit], "response_metadata": {"next_cursor": following}}

    def api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = session.get(Channel, args.get("channel") or "")
            if channel is None:
                raise SlackError("channel_not_found")
            if channel.kind != "public_channel":
                raise SlackError("method_not_supported_for_channel_type")
            if channel.is_archived:
                raise SlackError("is_archived")
            newly = session.get(Member, (channel.id, self.bot)) is None
            if newly:
                session.add(Member(channel_id=channel.id, user_id=self.bot))
                session.flush()
            joined = channel.as_slack(self.workspace.members(session, channel.id), self.team)
        self.workspace.changed()
        if newly:
            self.emit(member_joined_event(self.bot, channel.id, self.team.id))
        return {"channel": joined}

    def api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [user for user in str(args.get("users") or "").split(",") if user]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise SlackError("too_many_users")  # a group DM holds at most 8 people besides the app
        if len(users) > 1:
            self._require_scope("conversations.open", "mpim")
            with self.workspace.session() as session:
                for user_id in users:
                    found = session.get(User, user_id)
                    if found is None:
                        raise SlackError("user_not_found")
                    if found.is_bot:
                        raise SlackError("cannot_dm_bot")
                channel = self.workspace.group_dm_with(session, users)
            self.workspace.changed()
            return {"channel": {"id": channel.id}}
        self._require_scope("conversations.open", "im")
        with self.workspace.session() as session:
            user = session.get(User, users[0])
            if user is None:
                raise SlackError("user_not_found")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            return {"channel": {"id": self.workspace.im_with(session, users[0]).id}}

    def api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        limit = int(args.get("limit") or 100)
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "conversations.history")
            rows = session.scalars(
                select(Message).where(Message.channel_id == channel.id, Message.visible_to.is_(None))
            ).all()
            top_level = [row for row in rows if row.thread_ts in (None, row.ts)]
            newest_first = sorted(_window(top_level, args), key=lambda row: float(row.ts), reverse=True)
            with_metadata = args.get("include_all_metadata") in _TRUE
            messages = self._as_slack(session, newest_first[:limit], with_metadata=with_metadata)
        return {"messages": messages, "has_more": len(newest_first) > limit, "response_metadata": {"next_cursor": ""}}

    def api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        limit = int(args.get("limit") or 1000)
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "conversations.replies")
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
            selected = [parent, *sorted(_window(list(replies), args), key=lambda row: float(row.ts))][:limit]
            with_metadata = args.get("include_all_metadata") in _TRUE
            messages = self._as_slack(session, selected, with_metadata=with_metadata)  # the parent first
        return {"messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    # -- reactions -------------------------------------------------------------------------------

    def api_reactions_get(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "reactions.get")
            message = self._message(session, channel, args.get("timestamp"))
            (shown,) = self._as_slack(session, [message])
        return {"type": "message", "channel": channel.id, "message": shown}

    def api_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "reactions.add")
            if channel.is_archived:
                raise SlackError("is_archived")
            message = self._message(session, channel, args.get("timestamp"))
            if session.get(Reaction, (message.id, name, self.bot)) is not None:
                raise SlackError("already_reacted")
            self.workspace.add_reaction(session, message.id, name, self.bot)
            item_user = message.user_id
        self.workspace.changed()
        self.emit(reaction_event("reaction_added", self.bot, channel.id, message.ts, name, item_user))
        return {}

    def api_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        with self.workspace.session() as session:
            channel = self._conversation(session, args.get("channel"), "reactions.remove")
            message = self._message(session, channel, args.get("timestamp"))
            reaction = session.get(Reaction, (message.id, name, self.bot))
            if reaction is None:
                raise SlackError("no_reaction")
            session.delete(reaction)
            item_user = message.user_id
        self.workspace.changed()
        self.emit(reaction_event("reaction_removed", self.bot, channel.id, message.ts, name, item_user))
        return {}

    # -- views -----------------------------------------------------------------------------------

    def api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view(args)
        user_id, channel_id = self.triggers.redeem(args.get("trigger_id"))
        with self.workspace.session() as session:
            # A trigger from inside a modal opens a new stack, as Slack does: views.push stacks.
            for old in session.scalars(select(View).where(View.user_id == user_id, View.kind == "modal")):
                session.delete(old)
            self.workspace.add_modal(session, view, user_id, channel_id, position=0)
        self.workspace.changed()
        return {"view": view}

    def api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view(args)
        user_id, channel_id = self.triggers.redeem(args.get("trigger_id"))
        with self.workspace.session() as session:
            depth = len(session.scalars(select(View.id).where(View.user_id == user_id, View.kind == "modal")).all())
            if depth >= 3:
                raise SlackError("push_limit_reached")
            self.workspace.add_modal(session, view, user_id, channel_id, position=depth)
        self.workspace.changed()
        return {"view": view}

    def api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.workspace.session() as session:
            if args.get("view_id"):
                stored = session.get(View, args.get("view_id") or "")
            else:  # the app's own name for the view, given when it was opened
                wanted = args.get("external_id") or ""
                modals = session.scalars(select(View).where(View.kind == "modal"))
                stored = next((v for v in modals if wanted and json.loads(v.body).get("external_id") == wanted), None)
            if stored is None:
                raise SlackError("not_found")
            view = self._view(args, stored.id)
            stored.body = json.dumps(view)
        self.workspace.changed()
        return {"view": view}

    def api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view(args)
        user_id = str(args.get("user_id") or "")
        with self.workspace.session() as session:
            if session.get(User, user_id) is None:
                raise SlackError("user_not_found")
            for old in session.scalars(select(View).where(View.user_id == user_id, View.kind == "home")):
                session.delete(old)
            session.add(View(id=view["id"], user_id=user_id, kind="home", body=json.dumps(view)))
        self.workspace.changed()
        return {"view": view}

    # -- files -------------------------------------------------------------------------------------

    def api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args["filename"])
        length = int(args["length"])  # not a number: invalid_arguments, as Slack answers
        if length <= 0:
            raise SlackError("missing_argument")  # Slack's answer to a length of 0
        if len(filename) > 255 or "/" in filename:
            raise SlackError("invalid_arguments", details=[f"filename {filename[:60]!r} is not a file name"])
        file_id, token = "F" + secrets.token_hex(5).upper(), secrets.token_urlsafe(24)
        with self.workspace.session() as session:
            session.add(
                File(id=file_id, upload_token=token, name=filename, length=length, user_id=self.bot,
                     created=int(self.workspace.now()))
            )  # fmt: skip
        return {"upload_url": f"{self.files_url}upload/v1/{token}", "file_id": file_id}

    def receive_upload(self, token: str, content: bytes) -> tuple[int, str]:
        """The POST of a file's bytes to its upload URL: (HTTP status, Slack's plain-text answer)."""
        with self.workspace.session() as session:
            file = session.scalars(select(File).where(File.upload_token == token)).first()
            if file is None or file.completed:
                return 404, "Not Found"
            file.content = content
            declared = file.length
        if len(content) != declared:
            self.workspace.record_problem(
                "upload", "invalid_arguments",
                [f"{len(content)} bytes were uploaded; files.getUploadURLExternal was told length={declared}"],
            )  # fmt: skip
        return 200, f"OK - {len(content)}"

    def api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = _json_arg(args.get("files"))
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise SlackError("invalid_arguments", details=["files must be a JSON array of {id, title}"])
        comment = str(args.get("initial_comment") or "")
        blocks = [] if comment else self._blocks(args)  # Slack ignores blocks when there is a comment
        with self.workspace.session() as session:
            files = []
            for entry in entries:
                file = session.get(File, str(entry.get("id") or ""))
                if file is None or file.completed or file.content is None:
                    raise SlackError("file_not_found")  # no upload ticket, or its bytes never arrived
                files.append((file, str(entry.get("title") or "")))
            channel = None
            if args.get("channel_id"):
                channel = self._conversation(session, args["channel_id"], "files.completeUploadExternal")
                if channel.is_archived:
                    raise SlackError("is_archived")
            for file, title in files:
                file.completed, file.title = True, title or file.name
            shared = None
            if channel is not None:
                message = self.workspace.add_message(
                    session, channel.id, self.bot, comment, blocks=blocks, thread_ts=args.get("thread_ts") or None,
                    extra={"files": [file.as_slack(self.team, self.files_url) for file, _ in files], "upload": True},
                )  # fmt: skip
                for file, _ in files:
                    file.channel_id, file.ts = channel.id, message.ts
                shared = (channel.id, channel.event_channel_type, message.as_slack([], self.team))
            answer = [{"id": file.id, "title": file.title} for file, _ in files]
        if shared is not None:
            self.workspace.changed()
            channel_id, kind, posted = shared
            event = {"type": "message", "subtype": "file_share", "channel": channel_id, "channel_type": kind}
            self.emit(event | posted)
        return {"files": answer}

    def download(self, file_id: str) -> tuple[str, bytes] | None:
        """A shared file's name and bytes (its url_private_download), None when there is no such file."""
        with self.workspace.session() as session:
            file = session.get(File, file_id)
            if file is None or not file.completed or file.content is None:
                return None
            return file.name, file.content


# -- shapes shared with the page's actions -------------------------------------------------------


def reaction_event(kind: str, user_id: str, channel_id: str, ts: str, name: str, item_user: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": user_id,
        "reaction": name,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel_id, "ts": ts},
    }


def member_joined_event(user_id: str, channel_id: str, team_id: str, inviter: str | None = None) -> dict[str, Any]:
    """`member_joined_channel`: someone (the app too) joined a public channel (the only kind one joins here)."""
    event = {"type": "member_joined_channel", "user": user_id, "channel": channel_id, "channel_type": "C",
             "team": team_id}  # fmt: skip
    if inviter:
        event["inviter"] = inviter
    return event


def permalink(workspace_url: str, channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    link = f"{workspace_url}archives/{channel_id}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel_id}"
    return link


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _forbid_unsafe_parsing(args: dict[str, Any]) -> None:
    # Peerlearn must never ask Slack to turn user text into live mentions; Slack would obey.
    if args.get("link_names") in _TRUE or args.get("parse") == "full":
        problem = "link_names/parse=full would turn what people wrote into live mentions"
        raise SlackError("invalid_arguments", details=[problem], response_metadata={"messages": [problem]})


def _json_arg(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            messages = [str(error)]
            raise SlackError("invalid_json", details=messages, response_metadata={"messages": messages}) from error
    return value


def _window(messages: list[Message], args: dict[str, Any]) -> list[Message]:
    inclusive = args.get("inclusive") in _TRUE
    latest = float(args["latest"]) if args.get("latest") else float("inf")
    oldest = float(args["oldest"]) if args.get("oldest") else float("-inf")

    def inside(message: Message) -> bool:
        ts = float(message.ts)
        return oldest <= ts <= latest if inclusive else oldest < ts < latest

    return [message for message in messages if inside(message)]
