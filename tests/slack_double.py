"""A local stand-in for Slack's Web API: an HTTP server on a free port that answers like Slack.

It keeps a tiny workspace (users, channels, messages, reactions), records every call, checks the
contracts that bite bots in production (auth, membership, archived channels, Block Kit limits,
no `link_names`/`parse=full`), and can be told to fail: `fail_next("chat.postMessage", status=429,
retry_after=1)`. The app under test reaches it only through `SLACK_API_URL`, as it would reach Slack.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from sandbox.block_kit import block_kit_problems, view_problems

BOT_TOKEN = "xoxb-test-000-peerlearn"
TEAM_ID = "T0TEST"
BOT_USER_ID = "UBOT"
WORKSPACE_URL = "https://peerlearn-test.slack.com/"


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0  # answer normally, but only after this many seconds
    after_effect: bool = False  # with delay: the call takes effect at once, only its answer is late


class SlackDouble:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response_urls
        self.block_errors: list[str] = []  # every invalid_blocks answer, for tests to assert on
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.RLock()
        self._ts = itertools.count(1)
        self._last_micros = 0
        self._triggers: set[str] = set()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.add_user(BOT_USER_ID, "peerlearn", is_bot=True)
        self.socket_mode_url = "ws://127.0.0.1:9/link"  # nothing listens: Socket Mode tests stop at opening

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SlackDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ts)}"

    def trigger_id(self) -> str:
        trigger = f"trigger-{next(self._ts)}"
        self._triggers.add(trigger)
        return trigger

    # -- workspace ---------------------------------------------------------------------------
    def add_user(self, user_id: str, name: str, **fields: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": name.title(),
            "tz": fields.pop("tz", "Europe/Berlin"),
            "deleted": False,
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "profile": {"display_name": name, "real_name": name.title()},
            **fields,
        }

    def add_channel(
        self, channel_id: str, name: str, *, members: tuple[str, ...] = (), bot: bool = True, **flags: Any
    ) -> Channel:
        channel = Channel(channel_id, name, members=set(members) | ({BOT_USER_ID} if bot else set()), **flags)
        self.channels[channel_id] = channel
        return channel

    def add_message(self, channel_id: str, user: str, text: str, *, thread_ts: str | None = None, **extra: Any) -> str:
        ts = self._next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.channels[channel_id].messages.append(message)
        return ts

    def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels[channel_id].messages if m["ts"] == ts), None)

    # -- observing ---------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call.args for call in self.calls if call.method == method]

    def posts(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.calls_to("chat.postMessage") if channel_id is None or a.get("channel") == channel_id]

    def wait_for(self, predicate: Any, timeout: float = 5.0, message: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.01)
        raise AssertionError(f"timed out after {timeout}s waiting for {message}")

    # -- faults ------------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self._faults[method].append(Fault(status=status, error=error, retry_after=retry_after))

    def slow_next(self, method: str, seconds: float) -> None:
        self._faults[method].append(Fault(delay=seconds))

    def answer_late_next(self, method: str, seconds: float) -> None:
        """The next call takes effect (a post is posted) but is answered only after `seconds`: a
        client whose timeout is shorter sees a timeout for a call that Slack carried out."""
        self._faults[method].append(Fault(delay=seconds, after_effect=True))

    # -- dispatch ----------------------------------------------------------------------------
    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(method, args, time.monotonic()))
            fault = self._faults[method].popleft() if self._faults[method] else None
        if fault is not None and fault.after_effect:
            answer = self._answer(method, args, token, None)
            time.sleep(fault.delay)
            return answer
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
            fault = None
        return self._answer(method, args, token, fault)

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None, fault: Fault | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            if fault is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                if fault.status != 200:
                    body = {"ok": False, "error": "ratelimited" if fault.status == 429 else "internal_error"}
                    return fault.status, headers, body
                return 200, headers, {"ok": False, "error": fault.error}
            if token is None:
                return 200, {}, {"ok": False, "error": "not_authed"}
            if method == "apps.connections.open":  # the one method called with the app-level token
                if not token.startswith("xapp-"):
                    return 200, {}, {"ok": False, "error": "not_allowed_token_type"}
                return 200, {}, {"ok": True, "url": self.socket_mode_url}
            if token != BOT_TOKEN:
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            implementation = getattr(self, "api_" + method.replace(".", "_"), None)
            if implementation is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            try:
                return 200, {}, {"ok": True, **implementation(args)}
            except SlackError as error:
                return 200, {}, {"ok": False, "error": error.code, **error.extra}

    def _next_ts(self) -> str:
        # Like Slack's: the wall-clock time of the message, in microseconds, always increasing.
        with self._lock:
            self._last_micros = max(time.time_ns() // 1000, self._last_micros + 1)
            micros = self._last_micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel(self, channel_id: str | None, *, need_member: bool = True) -> Channel:
        if channel_id and channel_id.startswith(("U", "W")) and channel_id in self.users:
            if self.users[channel_id].get("is_bot") or self.users[channel_id].get("dms_closed"):
                raise SlackError("cannot_dm_bot")
            return self._im_with(channel_id)
        channel = self.channels.get(channel_id or "")
        if channel is None or (channel.is_private and BOT_USER_ID not in channel.members):
            raise SlackError("channel_not_found")
        if need_member and BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def _im_with(self, user_id: str) -> Channel:
        channel_id = "D" + user_id[1:]
        if channel_id not in self.channels:
            self.channels[channel_id] = Channel(channel_id, user_id, is_im=True, members={user_id, BOT_USER_ID})
        return self.channels[channel_id]

    def _find(self, channel: Channel, ts: str | None) -> dict[str, Any]:
        message = next((m for m in channel.messages if m["ts"] == ts), None)
        if message is None:
            raise SlackError("message_not_found")
        return message

    # -- Web API methods ---------------------------------------------------------------------
    def api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": WORKSPACE_URL,
            "team": "Peerlearn Test",
            "user": "peerlearn",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": "BBOT",
        }

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        _forbid_unsafe_parsing(args)
        channel = self._channel(args.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        blocks = _parse_json(args.get("blocks"))
        if not args.get("text") and not blocks:
            raise SlackError("no_text")
        self._check_blocks(blocks, limit=50)
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": "BBOT",
            "text": args.get("text", ""),
            "ts": ts,
            "blocks": blocks or [],
        }
        if args.get("metadata"):
            message["metadata"] = _parse_json(args["metadata"])
        if args.get("thread_ts"):
            self._find(channel, args["thread_ts"])
            message["thread_ts"] = args["thread_ts"]
        channel.messages.append(message)
        return {"channel": channel.id, "ts": ts, "message": message}

    def api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        _forbid_unsafe_parsing(args)
        channel = self._channel(args.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        if args.get("user") not in channel.members and not channel.is_im:
            raise SlackError("user_not_in_channel")
        self._check_blocks(_parse_json(args.get("blocks")), limit=50)
        return {"message_ts": self._next_ts()}

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        _forbid_unsafe_parsing(args)
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("ts"))
        if message.get("user") != BOT_USER_ID:
            raise SlackError("cant_update_message")
        blocks = _parse_json(args.get("blocks"))
        self._check_blocks(blocks, limit=50)
        message.update(text=args.get("text", message["text"]), blocks=blocks or [])
        return {"channel": channel.id, "ts": message["ts"]}

    def api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("ts"))
        if message.get("user") != BOT_USER_ID:
            raise SlackError("cant_delete_message")
        channel.messages.remove(message)
        return {"channel": channel.id, "ts": message["ts"]}

    def api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), need_member=False)
        ts = self._find(channel, args.get("message_ts"))["ts"]
        return {
            "channel": channel.id,
            "permalink": f"{WORKSPACE_URL}archives/{channel.id}/p{ts.replace('.', '')}",
        }

    def api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(args.get("channel") or "")
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.is_private or channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise SlackError("is_archived")
        channel.members.add(BOT_USER_ID)
        return {"channel": _channel_json(channel)}

    def api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": _channel_json(self._channel(args.get("channel"), need_member=False))}

    def api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = (args.get("users") or "").split(",")[0]
        if user not in self.users:
            raise SlackError("user_not_found")
        if self.users[user].get("is_bot"):
            raise SlackError("cannot_dm_bot")
        return {"channel": {"id": self._im_with(user).id}}

    def api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        top_level = [m for m in channel.messages if m.get("thread_ts") in (None, m["ts"])]
        selected = _window(top_level, args)
        selected.sort(key=lambda m: float(m["ts"]), reverse=True)
        if str(args.get("include_all_metadata")).lower() not in ("1", "true"):
            selected = [{k: v for k, v in m.items() if k != "metadata"} for m in selected]
        return {"messages": selected[: int(args.get("limit") or 100)], "has_more": False}

    def api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        visible = [
            c
            for c in self.channels.values()
            if not c.is_im and (not c.is_private or BOT_USER_ID in c.members) and not c.is_archived
        ]
        # Pages as Slack does: `limit` (default 100, under 1000) channels, then a cursor to the rest.
        limit = int(args.get("limit") or 100)
        if not 0 < limit < 1000:
            raise SlackError("invalid_limit")
        start = int(args.get("cursor") or 0)
        following = str(start + limit) if start + limit < len(visible) else ""
        page = visible[start : start + limit]
        return {"channels": [_channel_json(c) for c in page], "response_metadata": {"next_cursor": following}}

    def api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("ts"))
        parent_ts = message.get("thread_ts") or message["ts"]
        parent = self._find(channel, parent_ts)
        replies = [m for m in channel.messages if m.get("thread_ts") == parent_ts and m["ts"] != parent_ts]
        selected = [parent, *_window(replies, args)]  # Slack always puts the parent first
        return {"messages": selected[: int(args.get("limit") or 1000)], "has_more": False}

    def api_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("timestamp"))
        reaction = next((r for r in message.setdefault("reactions", []) if r["name"] == args.get("name")), None)
        if reaction and BOT_USER_ID in reaction["users"]:
            raise SlackError("already_reacted")
        if reaction is None:
            reaction = {"name": args.get("name"), "users": [], "count": 0}
            message["reactions"].append(reaction)
        reaction["users"].append(BOT_USER_ID)
        reaction["count"] += 1
        return {}

    def api_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("timestamp"))
        reaction = next((r for r in message.get("reactions", []) if r["name"] == args.get("name")), None)
        if reaction is None or BOT_USER_ID not in reaction["users"]:
            raise SlackError("no_reaction")
        reaction["users"].remove(BOT_USER_ID)
        reaction["count"] -= 1
        return {}

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user") or "")
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        everyone = sorted(self.users)
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 200)
        page = everyone[start : start + limit]
        following = str(start + limit) if start + limit < len(everyone) else ""
        return {"members": [self.users[u] for u in page], "response_metadata": {"next_cursor": following}}

    def api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("trigger_id") not in self._triggers:
            raise SlackError("expired_trigger_id")
        self._triggers.discard(args["trigger_id"])
        view = _parse_json(args.get("view")) or {}
        self._check_view(view)
        return {"view": {"id": f"V{next(self._ts)}", **view}}

    def api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = _parse_json(args.get("view")) or {}
        self._check_view(view)
        return {"view": {"id": f"V{next(self._ts)}", **view}}

    # -- Block Kit ---------------------------------------------------------------------------
    def _check_blocks(self, blocks: Any, limit: int) -> None:
        if blocks is None:
            return
        problems = block_kit_problems(blocks, limit)
        if problems:
            self.block_errors.extend(problems)
            raise SlackError("invalid_blocks", errors=problems)

    def _check_view(self, view: dict[str, Any]) -> None:
        problems = view_problems(view)
        if problems:
            self.block_errors.extend(problems)
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections under load


class SlackError(Exception):
    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code, self.extra = code, extra


def _forbid_unsafe_parsing(args: dict[str, Any]) -> None:
    # Peerlearn must never ask Slack to turn user text into live mentions.
    if str(args.get("link_names")).lower() in ("1", "true") or args.get("parse") == "full":
        raise AssertionError(f"unsafe parsing requested: {args}")


def _parse_json(value: Any) -> Any:
    if value is None or value == "":
        return None
    return json.loads(value) if isinstance(value, str) else value


def _window(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    inclusive = str(args.get("inclusive")).lower() in ("1", "true")
    latest = float(args["latest"]) if args.get("latest") else float("inf")
    oldest = float(args["oldest"]) if args.get("oldest") else float("-inf")

    def inside(message: dict[str, Any]) -> bool:
        ts = float(message["ts"])
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [m for m in messages if inside(m)]


def _channel_json(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private and not channel.is_im,
        "is_private": channel.is_private,
        "is_im": channel.is_im,
        "is_archived": channel.is_archived,
        "is_member": BOT_USER_ID in channel.members,
    }


def _handler_for(double: SlackDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            path = urlparse(self.path).path
            if path.startswith("/response/"):
                with double._lock:
                    double.responses.append(json.loads(raw or "{}"))
                self._send(200, {}, b"ok", "text/plain")
                return
            if self.headers.get("Content-Type", "").startswith("application/json"):
                args = json.loads(raw or "{}")
            else:
                args = {key: values[0] for key, values in parse_qs(raw).items()}
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
            status, headers, body = double.handle(path.removeprefix("/api/"), args, token)
            self._send(status, headers, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, headers: dict[str, str], body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler
