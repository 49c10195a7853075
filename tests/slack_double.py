"""The tests' Slack: the sandbox's Web API emulation (sandbox/web_api.py) over an in-memory workspace,
behind an HTTP server on a free port, with call recording and fault injection.

The rules (tokens, scopes from manifest.yml per method and conversation type, required arguments,
public and private channels, DMs and group DMs with membership, archived channels, Block Kit checked
by slack_sdk's models and ours) are the sandbox's own, so the tests and the sandbox cannot drift.
This module only adds what tests need around them:

- a workspace to arrange: `add_user`, `add_channel`, `add_dm`, `add_group_dm`, `add_message`;
  `users[...]` and `channels[...]` read and write through to it (`channels["C1"].is_archived = True`);
- what the app did: `calls` / `calls_to(method)` / `posts(channel)`, `responses` (bodies POSTed to
  response_urls), `message(channel, ts)`, `events` (what Slack would have sent the app back);
- what Slack refused because the app asked wrongly: `problems` (every one: Block Kit, arguments,
  scopes, unsafe parsing) and `block_errors` (their details); the `slack` fixture fails a test that
  leaves any, unless the test takes them with `take_problems()`;
- faults: `fail_next` (an error code, 429 with Retry-After, 5xx; `method="*"` for any method),
  `slow_next` (the answer comes late), `drop_next` (the call takes effect, then the connection
  drops with no answer) and `time_out_next` (the call takes effect, the answer comes only after a
  delay longer than the client waits); `revoke_token()` makes every call `token_revoked`. The POST
  of a file's bytes to its upload URL is the method `"upload"` for all of these;
- more workspaces behind the same server (`add_workspace`), each with its own people, channels,
  token, calls and faults: a call is answered by the workspace its token belongs to;
- installing through OAuth (`enable_oauth`): `GET /oauth/v2/authorize` answers as a person clicking
  *Allow* on Slack's consent page (for `installing`), and `oauth.v2.access` exchanges the code for a
  token of that workspace, or refreshes a rotating one (sandbox/oauth.py).
- files the app shared: `shared_files(channel)`, each with the bytes that were uploaded;
The app under test reaches it only through `SLACK_API_URL`, as it would reach Slack.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from sqlalchemy import select

from sandbox.block_kit import block_kit_problems, view_problems
from sandbox.manifest import Manifest
from sandbox.oauth import Enterprise, OAuthServer
from sandbox.response_urls import refusal
from sandbox.web_api import Triggers, WebApi
from sandbox.workspace import Channel as StoredChannel
from sandbox.workspace import File, Member, Message, Problem, Team, User, Workspace

BOT_TOKEN = "xoxb-test-000-peerlearn"
TEAM = Team(
    id="T0TEST", name="Peerlearn Test", domain="peerlearn-test", bot_user_id="UBOT", bot_id="BBOT", app_id="A0TEST"
)
TEAM_ID = TEAM.id
BOT_USER_ID = TEAM.bot_user_id
WORKSPACE_URL = TEAM.url
DROP = 0  # handle()'s status for "close the connection without an answer"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float


@dataclass(frozen=True)
class SharedFile:
    id: str
    name: str
    title: str
    content: bytes
    channel_id: str
    ts: str


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0  # answer normally, but only after this many seconds
    after_effect: str | None = None  # "drop" or "late": the call takes effect, then no timely answer
    late_by: float = 0.0


@dataclass
class _Faults:
    queued: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    limited: dict[str, float] = field(default_factory=dict)  # method -> until (monotonic): every call 429
    revoked: str | None = None  # every call answers this error (token_revoked, invalid_auth, ...)

    def take(self, method: str) -> Fault | None:
        for key in (method, "*"):
            if self.queued[key]:
                return self.queued[key].popleft()
        return None


class SlackDouble:
    def __init__(
        self,
        *,
        scopes: frozenset[str] | None = None,
        trigger_lifetime: float = 3.0,
        team: Team = TEAM,
        bot_token: str | None = BOT_TOKEN,
        enterprise: Enterprise | None = None,
        host: SlackDouble | None = None,
    ) -> None:
        self.team = team
        self.enterprise = enterprise
        self.bot_token = bot_token  # None: installed only through OAuth (enable_oauth)
        self.host = host  # the double whose server answers for this workspace too (add_workspace)
        self.workspace = Workspace(None, team, problems_kept=1000)
        self.manifest = _project_manifest()
        self.triggers = Triggers(lifetime=trigger_lifetime)
        self.events: list[dict[str, Any]] = []  # what Slack would send the app after its own calls
        self.web_api = WebApi(
            self.workspace,
            bot_token or "",
            self.triggers,
            self.events.append,
            manifest=self.manifest,
            scopes=scopes,
            token_check=self._token_check,
        )
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response_urls that Slack took
        self._faults = _Faults()
        self._lock = threading.RLock()
        self._counter = 0
        self.tenants: dict[str, SlackDouble] = {}  # the other workspaces this server answers for
        self.oauth: OAuthServer | None = None
        self.installing: SlackDouble = self  # whose consent page the next install goes through
        self.installer = "U1"
        self.org_wide = False  # the next install is organisation-wide (Enterprise Grid)
        self.redirect_url: str | None = None  # the app's Redirect URL setting (when the install names none)
        self.consents: list[dict[str, str]] = []  # what each consent page was asked
        if host is None:
            self._server = _Server(("127.0.0.1", 0), _handler_for(self))
            self.web_api.files_url = self.url + "/"  # upload and download URLs lead back here
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
            )
        self.add_user(team.bot_user_id, "peerlearn", is_bot=True)
        self.socket_mode_url = "ws://127.0.0.1:9/link"  # nothing listens: Socket Mode tests stop at opening

    # -- more workspaces, and installing through OAuth -----------------------------------------
    @property
    def root(self) -> SlackDouble:
        return self.host.root if self.host is not None else self

    def add_workspace(
        self, team: Team, *, bot_token: str | None = None, enterprise: Enterprise | None = None
    ) -> SlackDouble:
        """Another workspace behind the same Slack: its own people, channels, token, calls and faults."""
        root = self.root
        other = SlackDouble(team=team, bot_token=bot_token, enterprise=enterprise, host=root)
        other.web_api.files_url = f"{root.url}/t/{team.id}/"  # its files' upload and download URLs
        root.tenants[team.id] = other
        return other

    def enable_oauth(self, client_id: str, client_secret: str, *, rotation_seconds: int | None = None) -> OAuthServer:
        self.root.oauth = OAuthServer(client_id, client_secret, rotation_seconds=rotation_seconds)
        return self.root.oauth

    def workspaces(self) -> list[SlackDouble]:
        root = self.root
        return [root, *root.tenants.values()]

    def _token_check(self, token: str) -> str | None:
        if self.bot_token is not None and token == self.bot_token:
            return None
        oauth = self.root.oauth
        if oauth is None:
            return "invalid_auth"
        grant, refused = oauth.grant(token)
        if grant is None:
            return refused
        mine = grant.team_id == self.team.id or (
            grant.team_id is None and self.enterprise is not None and grant.enterprise_id == self.enterprise.id
        )
        return None if mine else "invalid_auth"

    def _owner_of(self, token: str | None, args: dict[str, Any]) -> SlackDouble:
        """The workspace a call is answered by: the token's (an organisation-wide token's: the one
        that has the channel or person the call names)."""
        doubles = self.workspaces()
        for double in doubles:
            if token and double.bot_token == token:
                return double
        grant = self.oauth.grant(token or "")[0] if self.oauth is not None else None
        if grant is None:
            return self
        if grant.team_id is not None:
            return next((d for d in doubles if d.team.id == grant.team_id), self)
        members = [d for d in doubles if d.enterprise is not None and d.enterprise.id == grant.enterprise_id]
        named = {str(args.get(key) or "") for key in ("team_id", "channel", "user", "users")} - {""}
        for double in members:
            if double.team.id in named or double.knows(named):
                return double
        return members[0] if members else self

    def knows(self, ids: set[str]) -> bool:
        with self.workspace.session() as session:
            return any(session.get(StoredChannel, i) is not None or session.get(User, i) is not None for i in ids)

    def consent(self, query: dict[str, str]) -> str | None:
        """Slack's consent page, the person clicking *Allow*: where the browser goes next (the
        app's redirect with a code and the state), or None when Slack would not show it."""
        oauth = self.root.oauth
        if oauth is None or query.get("client_id") != oauth.client_id:
            return None
        self.consents.append(query)
        installing = self.installing
        code = oauth.consent(
            installing.team,
            installer=self.installer,
            scopes=query.get("scope", ""),
            enterprise=installing.enterprise,
            org_wide=self.org_wide,
        )
        target = query.get("redirect_uri") or self.redirect_url
        if target is None:
            return None
        answer = {"code": code, **({"state": query["state"]} if query.get("state") else {})}
        return target + ("&" if "?" in target else "?") + urlencode(answer)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SlackDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering; what happened stays readable (the workspace lives as long as the double)."""
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        if self.host is not None:
            return self.host.url
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self) -> str:
        where = "" if self.host is None else f"{self.team.id}/"
        return f"{self.url}/response/{where}{self._next()}"

    def trigger_id(self, user: str = "", channel: str | None = None) -> str:
        """A trigger_id as Slack sends with a command or click: good for one views.open within 3 s."""
        return self.triggers.issue(user, channel)

    # -- arranging the workspace -------------------------------------------------------------
    @property
    def users(self) -> Mapping[str, dict[str, Any]]:
        """users.info's `user` objects; `users["U3"]["tz"] = ...` changes the person."""
        return _Users(self.workspace)

    @property
    def channels(self) -> Mapping[str, ChannelView]:
        """Every conversation; `channels["C1"].is_archived = True` archives it."""
        return _Channels(self.workspace)

    def add_user(self, user_id: str, name: str, **fields: Any) -> None:
        fields.setdefault("tz", "Europe/Berlin")
        with self.workspace.session() as session:
            self.workspace.add_user(session, user_id, name, **fields)

    def add_channel(
        self, channel_id: str, name: str, *, members: tuple[str, ...] = (), bot: bool = True, **flags: Any
    ) -> ChannelView:
        """A conversation (flags: is_private, is_archived, is_im, is_mpim, topic); the bot is a member
        unless `bot=False`."""
        with self.workspace.session() as session:
            bot_user = self.team.bot_user_id
            self.workspace.add_channel(session, channel_id, name, {*members, *([bot_user] if bot else [])}, **flags)
        return ChannelView(self.workspace, channel_id)

    def add_dm(self, user: str, other: str | None = None) -> str:
        """A DM: the app's with `user` by default (its Messages tab), else between two people."""
        other = other or self.team.bot_user_id
        with self.workspace.session() as session:
            if other == self.team.bot_user_id:
                return self.workspace.im_with(session, user).id
            channel_id = f"D{user[1:]}{other[1:]}"
            self.workspace.add_channel(session, channel_id, user, {user, other}, is_im=True)
            return channel_id

    def add_group_dm(self, channel_id: str, members: tuple[str, ...], *, bot: bool = False) -> str:
        """A group DM between `members` (the app in it only with `bot=True`)."""
        name = "mpdm-" + "--".join(members) + "-1"
        self.add_channel(channel_id, name, members=members, bot=bot, is_mpim=True, is_private=True)
        return channel_id

    def add_message(self, channel_id: str, user: str, text: str, *, thread_ts: str | None = None, **extra: Any) -> str:
        """A message someone wrote (extra: reactions=[{name, users}], subtype, files, ...); its ts."""
        reactions = extra.pop("reactions", [])
        with self.workspace.session() as session:
            message = self.workspace.add_message(session, channel_id, user, text, thread_ts=thread_ts, extra=extra)
            for reaction in reactions:
                for reactor in reaction["users"]:
                    self.workspace.add_reaction(session, message.id, reaction["name"], reactor)
            return message.ts

    def shared_files(self, channel_id: str | None = None) -> list[SharedFile]:
        """Files the app uploaded and shared (in `channel_id`, else anywhere), oldest first, with their bytes."""
        with self.workspace.session() as session:
            query = select(File).where(File.completed.is_(True), File.channel_id.is_not(None))
            if channel_id is not None:
                query = query.where(File.channel_id == channel_id)
            return [
                SharedFile(f.id, f.name, f.title, f.content or b"", str(f.channel_id), str(f.ts))
                for f in session.scalars(query.order_by(File.created, File.ts))
            ]

    def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels[channel_id].messages if m["ts"] == ts), None)

    # -- observing ---------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call.args for call in self.calls if call.method == method]

    def posts(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.calls_to("chat.postMessage") if channel_id is None or a.get("channel") == channel_id]

    @property
    def all_problems(self) -> list[tuple[str, str, list[str]]]:
        """The problems of every workspace behind this server."""
        return [problem for double in self.workspaces() for problem in double.problems]

    @property
    def problems(self) -> list[tuple[str, str, list[str]]]:
        """What Slack refused because the app asked wrongly: (method, error, details), oldest first."""
        with self.workspace.session() as session:
            rows = session.scalars(select(Problem).order_by(Problem.id)).all()
            return [(row.method, row.error, json.loads(row.details)) for row in rows]

    @property
    def block_errors(self) -> list[str]:
        """The details of every refusal of Block Kit or arguments (empty when Slack took everything)."""
        return [detail for _, error, details in self.problems if error != "missing_scope" for detail in details]

    def take_problems(self) -> list[tuple[str, str, list[str]]]:
        """The problems so far, forgotten: for a test that provokes them on purpose."""
        taken = self.problems
        with self.workspace.session() as session:
            session.execute(Problem.__table__.delete())
        return taken

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
        """The next call(s) of `method` ("*": any) fail without effect: `error` (HTTP 200, as Slack
        answers API errors), or `status` 429 (with `retry_after`) / 5xx."""
        with self._lock:
            for _ in range(times):
                self._faults.queued[method].append(Fault(status=status, error=error, retry_after=retry_after))

    def rate_limit(self, method: str, seconds: float) -> None:
        """For the next `seconds`, every call of `method` is refused with 429, its Retry-After the
        seconds left (rounded up), as Slack refuses a workspace over a method's limit until its
        window has passed."""
        with self._lock:
            self._faults.limited[method] = time.monotonic() + seconds

    def slow_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next call(s) wait `seconds`, then take effect and answer."""
        with self._lock:
            for _ in range(times):
                self._faults.queued[method].append(Fault(delay=seconds))

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """The next call(s) take effect, then the connection closes with no answer (a network cut)."""
        with self._lock:
            for _ in range(times):
                self._faults.queued[method].append(Fault(after_effect="drop"))

    def time_out_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next call(s) take effect, but the answer only leaves after `seconds`: a client that
        waits less gives up on a call that happened."""
        with self._lock:
            for _ in range(times):
                self._faults.queued[method].append(Fault(after_effect="late", late_by=seconds))

    def answer_late_next(self, method: str, seconds: float) -> None:
        """The same as time_out_next (the name some tests use)."""
        self.time_out_next(method, seconds)

    def revoke_token(self, error: str = "token_revoked") -> None:
        """Every call from now on answers `error` (token_revoked, invalid_auth, account_inactive)."""
        self._faults.revoked = error

    # -- dispatch ----------------------------------------------------------------------------
    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answer as Slack: (status, headers, JSON body), by the workspace the token is of; status
        DROP means the connection closes unanswered."""
        return self._owner_of(token, args)._answer(method, args, token)

    def oauth_access(self, args: dict[str, Any], authorization: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        """oauth.v2.access, the app's own call (client id and secret, no token)."""
        oauth = self.root.oauth
        return self._answer(
            "oauth.v2.access",
            args,
            None,
            lambda: oauth.access(args, authorization) if oauth else {"ok": False, "error": "invalid_client_id"},
        )

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None, answer: Any = None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Record the call, apply a queued fault, and answer as Slack."""
        with self._lock:
            self.calls.append(Call(method, args, time.monotonic()))
            left = self._faults.limited.get(method, 0.0) - time.monotonic()
            fault = Fault(status=429, retry_after=math.ceil(left)) if left > 0 else self._faults.take(method)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        elif fault is not None and fault.after_effect is None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.status != 200:
                error = "ratelimited" if fault.status == 429 else "internal_error"
                return fault.status, headers, {"ok": False, "error": error}
            return 200, headers, {"ok": False, "error": fault.error}
        if self._faults.revoked and token:
            return 200, {}, {"ok": False, "error": self._faults.revoked}
        if method == "apps.connections.open":  # the one method called with the app-level token
            if not token or not token.startswith("xapp-"):
                return 200, {}, {"ok": False, "error": "not_allowed_token_type"}
            return 200, {}, {"ok": True, "url": self.socket_mode_url}
        body = answer() if answer is not None else self.web_api.handle(method, args, token)
        if fault is not None and fault.after_effect == "drop":
            return DROP, {}, body
        if fault is not None and fault.after_effect == "late":
            time.sleep(fault.late_by)
        return 200, {}, body

    def upload(self, token: str, content: bytes) -> tuple[int, dict[str, str], bytes]:
        """The bytes of a file POSTed to its upload URL (recorded as the method "upload"), faults applied."""
        with self._lock:
            self.calls.append(Call("upload", {"token": token, "length": len(content)}, time.monotonic()))
            fault = self._faults.take("upload")
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        elif fault is not None and fault.after_effect is None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return fault.status if fault.status != 200 else 500, headers, b"error"
        status, answer = self.web_api.receive_upload(token, content)
        if fault is not None and fault.after_effect == "drop":
            return DROP, {}, b""
        if fault is not None and fault.after_effect == "late":
            time.sleep(fault.late_by)
        return status, {}, answer.encode()

    def respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A body the app POSTed to a response_url: taken (recorded) unless Slack would refuse it."""
        refused = refusal(self.workspace, body)
        if refused is not None:
            return refused
        with self._lock:
            self.responses.append(body)
        return 200, {"ok": True}

    def check_ack(self, payload: bytes) -> None:
        """Hold what the app answered a request with (an ack's blocks, a form's next view) to the same
        Block Kit rules as its Web API calls: Slack would show an error instead of either."""
        try:
            answer = json.loads(payload) if payload else None
        except ValueError:
            return  # a plain-text ack
        if not isinstance(answer, dict):
            return
        if answer.get("blocks") is not None and (problems := block_kit_problems(answer["blocks"], 50)):
            self.workspace.record_problem("ack", "invalid_blocks", problems)
        if answer.get("response_action") in ("update", "push") and (problems := view_problems(answer.get("view"))):
            self.workspace.record_problem(
                f"ack response_action={answer['response_action']}", "invalid_arguments", problems
            )

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter


@functools.cache
def _project_manifest() -> Manifest:
    return Manifest.load()


class ChannelView:
    """One conversation of the double's workspace, read from and written to the store."""

    def __init__(self, workspace: Workspace, channel_id: str) -> None:
        self._workspace = workspace
        self.id = channel_id

    def _get(self, attribute: str) -> Any:
        with self._workspace.session() as session:
            channel = session.get(StoredChannel, self.id)
            if channel is None:
                raise KeyError(self.id)
            return getattr(channel, attribute)

    def _set(self, attribute: str, value: Any) -> None:
        with self._workspace.session() as session:
            channel = session.get(StoredChannel, self.id)
            if channel is None:
                raise KeyError(self.id)
            setattr(channel, attribute, value)

    name = property(lambda self: self._get("name"))
    is_private = property(lambda self: self._get("is_private"), lambda self, value: self._set("is_private", value))
    is_archived = property(lambda self: self._get("is_archived"), lambda self, value: self._set("is_archived", value))
    is_im = property(lambda self: self._get("is_im"))
    is_mpim = property(lambda self: self._get("is_mpim"))

    @property
    def members(self) -> set[str]:
        with self._workspace.session() as session:
            return self._workspace.members(session, self.id)

    def add_member(self, user_id: str) -> None:
        with self._workspace.session() as session:
            session.merge(Member(channel_id=self.id, user_id=user_id))

    def remove_member(self, user_id: str) -> None:
        with self._workspace.session() as session:
            member = session.get(Member, (self.id, user_id))
            if member is not None:
                session.delete(member)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message in it (thread replies too, not ephemeral ones), oldest first, as Slack keeps
        them: `blocks` always present, `metadata` when posted with some."""
        team = self._workspace.team
        with self._workspace.session() as session:
            rows = session.scalars(
                select(Message).where(Message.channel_id == self.id, Message.visible_to.is_(None)).order_by(Message.id)
            ).all()
            reactions = self._workspace.reactions(session, [row.id for row in rows])
            shown = []
            for row in rows:
                message = row.as_slack(reactions.get(row.id, []), team, with_metadata=True)
                message.setdefault("blocks", [])
                shown.append(message)
            return shown


class _Channels(Mapping[str, ChannelView]):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def _ids(self) -> list[str]:
        with self._workspace.session() as session:
            return list(session.scalars(select(StoredChannel.id).order_by(StoredChannel.id)))

    def __getitem__(self, channel_id: str) -> ChannelView:
        if channel_id not in self._ids():
            raise KeyError(channel_id)
        return ChannelView(self._workspace, channel_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids())

    def __len__(self) -> int:
        return len(self._ids())


class UserRecord(dict[str, Any]):
    """users.info's `user` object for one person; setting a key changes the person in the store."""

    def __init__(self, workspace: Workspace, user_id: str, shown: dict[str, Any]) -> None:
        super().__init__(shown)
        self._workspace, self._user_id = workspace, user_id

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        with self._workspace.session() as session:
            self._workspace.update_user(session, self._user_id, key, value)

    def update(self, *changes: Any, **more: Any) -> None:  # type: ignore[override]
        for key, value in dict(*changes, **more).items():
            self[key] = value


class _Users(Mapping[str, UserRecord]):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def __getitem__(self, user_id: str) -> UserRecord:
        with self._workspace.session() as session:
            user = session.get(User, user_id)
            if user is None:
                raise KeyError(user_id)
            return UserRecord(self._workspace, user_id, user.as_slack(self._workspace.team))

    def __iter__(self) -> Iterator[str]:
        with self._workspace.session() as session:
            return iter(list(session.scalars(select(User.id).order_by(User.id))))

    def __len__(self) -> int:
        return len(list(iter(self)))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections under load

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):  # a client that gave up: fine
            super().handle_error(request, client_address)


def _file_owner(double: SlackDouble, path: str) -> tuple[SlackDouble, str]:
    """Whose file an upload or download URL is: another workspace's are under /t/<team id>/."""
    if path.startswith("/t/"):
        team, _, rest = path.removeprefix("/t/").partition("/")
        return double.tenants.get(team, double), "/" + rest
    return double, path


def _handler_for(double: SlackDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length)
            url = urlparse(self.path)
            owner, path = _file_owner(double, url.path)
            if path.startswith("/upload/v1/"):
                status, headers, uploaded = owner.upload(path.removeprefix("/upload/v1/"), data)
                if status == DROP:
                    self.close_connection = True
                    return
                self._send(status, headers, uploaded, "text/plain")
                return
            raw = data.decode()
            if url.path.startswith("/response/"):
                team = url.path.split("/")[2]
                target = double.tenants.get(team, double)
                status, answer = target.respond(json.loads(raw or "{}"))
                self._send(status, {}, json.dumps(answer).encode())
                return
            args = {key: values[0] for key, values in parse_qs(url.query).items()}
            if self.headers.get("Content-Type", "").startswith("application/json"):
                args.update(json.loads(raw or "{}"))
            else:
                args.update({key: values[0] for key, values in parse_qs(raw).items()})
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
            method = url.path.removeprefix("/api/")
            if method == "oauth.v2.access":
                status, headers, body = double.oauth_access(args, auth)
            else:
                status, headers, body = double.handle(method, args, token)
            if status == DROP:
                self.close_connection = True  # the effect happened; the answer never comes
                return
            self._send(status, headers, json.dumps(body).encode())

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/oauth/v2/authorize":
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                location = double.consent(query)
                if location is None:
                    self._send(400, {}, json.dumps({"error": "invalid_client_id"}).encode())
                    return
                self._send(302, {"Location": location}, b"")
                return
            owner, path = _file_owner(double, url.path)
            parts = path.split("/")  # /files/<id>/<name>
            found = owner.web_api.download(parts[2]) if len(parts) == 4 and parts[1] == "files" else None
            if found is None:
                self._send(404, {}, b"{}")
            else:
                self._send(200, {}, found[1], "application/octet-stream")

        def _send(
            self, status: int, headers: dict[str, str], body: bytes, content_type: str = "application/json"
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler
