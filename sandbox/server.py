"""The sandbox's one HTTP server: the page, its JSON actions, the Slack Web API and response_urls.

    GET  /                      the page (static files, no build step)
    GET  /sandbox/state         what one person sees; long-polls with ?since=<version>
    POST /sandbox/<action>      what they do: send, react, shortcut, click, submit, close, join, home,
                                jobs, reload
    POST /api/<method>          Slack's Web API, for the app (SLACK_API_URL points here)
    POST /upload/v1/<token>     a file's bytes, sent by the app to the URL files.getUploadURLExternal gave
    GET  /files/<id>/<name>     a file shared in a conversation, downloaded from the page
    POST /response/<token>      response_url answers from the app
    GET  /healthz               200 while the sandbox and the app both answer
    GET|POST /oauth/v2/authorize  Slack's consent page (two workspaces: the app installs by OAuth)

With two workspaces (PEERLEARN_SANDBOX_WORKSPACES=2) the page's state and actions name the one
(`team`), and each Web API call is answered by the workspace its token was issued for.

A stdlib threading server is enough: it serves one browser and one app on loopback.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from sqlalchemy import select

from sandbox.client import ActionError, SlackClient
from sandbox.jobs import ScheduledJobs
from sandbox.manifest import Manifest
from sandbox.oauth import OAuthServer, consent_page
from sandbox.page_state import page_state
from sandbox.web_api import WebApi
from sandbox.workspace import User, Workspace

log = logging.getLogger("peerlearn.sandbox")

STATIC = Path(__file__).parent / "static"
LONG_POLL_SECONDS = 20.0


@dataclass(frozen=True)
class SandboxTeam:
    """One workspace of the sandbox: its store, its Web API and what its people do."""

    workspace: Workspace
    web_api: WebApi
    client: SlackClient


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        *,
        workspace: Workspace,
        web_api: WebApi,
        client: SlackClient,
        manifest: Manifest,
        jobs: Callable[[], ScheduledJobs | None],
        app_alive: Callable[[], bool],
        others: tuple[SandboxTeam, ...] = (),
        oauth: OAuthServer | None = None,
    ) -> None:
        super().__init__(address, _Handler)
        self.workspace = workspace
        self.web_api = web_api
        self.client = client
        self.manifest = manifest
        self.jobs = jobs
        self.app_alive = app_alive
        self.teams = {team.workspace.team.id: team for team in (SandboxTeam(workspace, web_api, client), *others)}
        self.oauth = oauth

    def team(self, team_id: object) -> SandboxTeam:
        """The workspace the page names (the first when it names none)."""
        return self.teams.get(str(team_id or ""), next(iter(self.teams.values())))

    def web_api_for(self, token: str | None) -> WebApi:
        """The workspace a token was issued for answers its calls (one workspace: that one)."""
        if self.oauth is not None and token:
            grant, _ = self.oauth.grant(token)
            if grant is not None and grant.team_id in self.teams:
                return self.teams[grant.team_id].web_api
        return self.web_api

    def receive_upload(self, token: str, content: bytes) -> tuple[int, str]:
        """A file's bytes to the workspace that issued its upload URL (the tokens are random)."""
        for team in self.teams.values():
            status, answer = team.web_api.receive_upload(token, content)
            if status != 404:
                return status, answer
        return 404, "Not Found"

    def download(self, file_id: str) -> tuple[str, bytes] | None:
        """A shared file from whichever workspace holds it (file ids are random)."""
        for team in self.teams.values():
            if (found := team.web_api.download(file_id)) is not None:
                return found
        return None

    def respond(self, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for team in self.teams.values():
            if team.client.response_urls.knows(token):
                return team.client.response_urls.respond(token, body)
        return self.client.response_urls.respond(token, body)

    def page_host_allowed(self, host: str | None) -> bool:
        """The page's own addresses only: a DNS-rebinding site arrives with its own name in Host."""
        port = self.server_address[1]
        bound = str(self.server_address[0])
        return host in {f"127.0.0.1:{port}", f"localhost:{port}", f"{bound}:{port}", f"[::1]:{port}"}

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that went away mid-request (a closed tab, an aborted long-poll) is not an error."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("sandbox http: %s dropped the connection (%s)", client_address, error.__class__.__name__)
            return
        log.exception("sandbox http: request from %s failed", client_address)

    def serve_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, name="sandbox-http")
        thread.daemon = True
        thread.start()
        return thread

    # -- the page's actions ------------------------------------------------------------------------

    def state(self, query: dict[str, str]) -> dict[str, Any]:
        since = query.get("since")
        if since is not None and since.lstrip("-").isdigit():
            self.workspace.wait_for_change(int(since), LONG_POLL_SECONDS)
        jobs = self.jobs()
        now = jobs.clock() if jobs else None
        clock = {
            "now": now.isoformat(timespec="seconds") if now else None,
            "offset_seconds": jobs.clock.offset.total_seconds() if jobs else 0,
            "app_alive": self.app_alive(),
        }
        team = self.team(query.get("team"))
        state = page_state(
            team.workspace,
            self.manifest,
            user_id=query.get("user", ""),
            channel_id=query.get("channel") or None,
            thread_ts=query.get("thread") or None,
            clock=clock,
        )
        state["team"] = team.workspace.team.id
        state["workspaces"] = [
            {"id": key, "name": value.workspace.team.name, "url": value.workspace.team.url}
            for key, value in self.teams.items()
        ]
        return state

    def act(self, action: str, args: dict[str, Any]) -> dict[str, Any]:
        client, user = self.team(args.get("team")).client, str(args.get("user", ""))
        if action == "send":
            client.send(user, str(args["channel"]), str(args.get("text", "")), args.get("thread_ts") or None)
        elif action == "react":
            added = client.toggle_reaction(user, str(args["channel"]), str(args["ts"]), str(args["name"]))
            return {"ok": True, "added": added}
        elif action == "shortcut":
            client.shortcut(user, str(args["channel"]), str(args["ts"]), str(args["callback_id"]))
        elif action == "click":
            client.click(
                user,
                action_id=str(args["action_id"]),
                block_id=str(args.get("block_id", "")),
                channel_id=args.get("channel"),
                ts=args.get("ts"),
                view_id=args.get("view_id"),
            )
        elif action == "submit":
            errors = client.submit_view(user, str(args["view_id"]), dict(args.get("values") or {}))
            return {"ok": not errors, "errors": errors}
        elif action == "close":
            client.close_view(user, str(args["view_id"]))
        elif action == "join":
            client.join(user, str(args["channel"]))
        elif action == "reload":
            client.close_views(user)  # a reloaded Slack client shows no modal
        elif action == "home":
            client.open_app_home(user, str(args.get("tab", "home")))
        elif action == "jobs":
            jobs = self.jobs()
            if jobs is None:
                raise ActionError("The scheduler is still starting; try again in a moment.")
            before = self._app_messages()
            run = jobs.run_now()
            summary = run.describe()
            if len(self.teams) > 1:  # one clock and one scheduler serve both: say where the posts went
                after = self._app_messages()
                summary += (
                    " New from the app: "
                    + "; ".join(
                        f"{team.workspace.team.name} {_count(after[key] - before[key], 'message')}"
                        for key, team in self.teams.items()
                    )
                    + "."
                )
            return {"ok": True, "summary": summary, "now": run.now.isoformat(timespec="seconds")}
        else:
            raise LookupError(action)
        return {"ok": True}

    def _app_messages(self) -> dict[str, int]:
        return {key: team.workspace.messages_from(team.workspace.team.bot_user_id) for key, team in self.teams.items()}


def _count(number: int, noun: str) -> str:
    return "none" if number <= 0 else f"{number} {noun}{'s' if number != 1 else ''}"


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox http: " + format, *args)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/healthz" and not self.server.page_host_allowed(self.headers.get("Host")):
            self._json(403, {"ok": False, "error": "open the sandbox at its own address"})
            return
        if url.path == "/oauth/v2/authorize" and self.server.oauth is not None:
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            if query.get("client_id") != self.server.oauth.client_id:
                self._json(400, {"ok": False, "error": "invalid_client_id"})
                return
            page = consent_page(self.server.team(query.get("team")).workspace.team, query)
            self._send(200, page.encode(), "text/html; charset=utf-8")
        elif url.path == "/sandbox/state":
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            self._json(200, self.server.state(query))
        elif url.path == "/healthz":
            alive = self.server.app_alive()
            self._json(200 if alive else 503, {"ok": alive})
        elif url.path.startswith("/files/") and len(parts := url.path.split("/")) == 4:
            found = self.server.download(parts[2])
            if found is None:
                self._json(404, {"ok": False, "error": "file_not_found"})
            else:
                self._download(*found)
        elif url.path in ("/", "/index.html"):
            self._file(STATIC / "index.html")
        elif url.path.startswith("/static/"):
            name = url.path.removeprefix("/static/")
            path = (STATIC / name).resolve()
            if STATIC.resolve() in path.parents and path.is_file():
                self._file(path)
            else:
                self._json(404, {"ok": False, "error": "not_found"})
        else:
            self._json(404, {"ok": False, "error": "not_found"})

    def do_POST(self) -> None:
        url = urlparse(self.path)
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/upload/v1/"):
            status, answer = self.server.receive_upload(url.path.removeprefix("/upload/v1/"), data)
            self._send(status, answer.encode(), "text/plain; charset=utf-8")
            return
        raw = data.decode()
        if url.path.startswith("/api/"):
            self._web_api(url.path.removeprefix("/api/"), raw)
        elif url.path.startswith("/response/"):
            status, body = self.server.respond(url.path.removeprefix("/response/"), _json_or_empty(raw))
            self._json(status, body)
        elif url.path == "/oauth/v2/authorize" and self.server.oauth is not None:
            self._allow({key: values[0] for key, values in parse_qs(raw).items()})
        elif not self.server.page_host_allowed(self.headers.get("Host")):
            self._json(403, {"ok": False, "error": "open the sandbox at its own address"})
        elif url.path.startswith("/sandbox/"):
            # JSON only: another site's page cannot send that cross-origin without a CORS preflight,
            # which this server never grants, so it cannot act in the sandbox from a visitor's browser.
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                self._json(415, {"ok": False, "error": "send JSON"})
                return
            self._action(url.path.removeprefix("/sandbox/"), raw)
        else:
            self._json(404, {"ok": False, "error": "not_found"})

    def _web_api(self, method: str, raw: str) -> None:
        if self.headers.get("Content-Type", "").startswith("application/json"):
            args = _json_or_empty(raw)
        else:
            args = {key: values[0] for key, values in parse_qs(raw).items()}
        auth = self.headers.get("Authorization", "")
        if method == "oauth.v2.access" and self.server.oauth is not None:
            self._json(200, self.server.oauth.access(args, auth))
            return
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
        self._json(200, self.server.web_api_for(token).handle(method, args, token))

    def _allow(self, form: dict[str, str]) -> None:
        """*Allow* on the consent page: back to the app's redirect URL with a code and the state."""
        oauth = self.server.oauth
        assert oauth is not None
        origin = self.headers.get("Origin")
        if origin and not self.server.page_host_allowed(origin.split("://", 1)[-1]):
            self._json(403, {"ok": False, "error": "allow it on the consent page itself"})
            return
        target = form.get("redirect_uri", "")
        if form.get("client_id") != oauth.client_id or not target.startswith(("http://", "https://")):
            self._json(400, {"ok": False, "error": "invalid_client_id"})
            return
        team = self.server.team(form.get("team")).workspace
        code = oauth.consent(team.team, installer=_installer(team), scopes=form.get("scope", ""))
        answer = {"code": code, **({"state": form["state"]} if form.get("state") else {})}
        location = target + ("&" if "?" in target else "?") + urlencode(answer)
        log.info("sandbox: Peerlearn installed in %s through the consent page", team.team.name)
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _action(self, action: str, raw: str) -> None:
        try:
            self._json(200, self.server.act(action, _json_or_empty(raw)))
        except ActionError as error:
            self._json(200, {"ok": False, "error": str(error)})
        except (KeyError, LookupError) as error:
            self._json(400, {"ok": False, "error": f"bad request: {error}"})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _file(self, path: Path) -> None:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(200, path.read_bytes(), kind + ("; charset=utf-8" if kind.startswith("text/") else ""))

    def _download(self, name: str, content: bytes) -> None:
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        safe = "".join(c for c in name if c.isprintable() and c not in '"\\') or "file"
        self._send(200, content, kind, disposition=f'attachment; filename="{safe}"')

    def _send(self, status: int, body: bytes, content_type: str, *, disposition: str | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if disposition:
                self.send_header("Content-Disposition", disposition)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the page went away mid long-poll: nothing to answer


def _installer(workspace: Workspace) -> str:
    """Who clicks *Allow*: the workspace's first admin (installing takes one, as on Slack)."""
    with workspace.session() as session:
        people = select(User.id).where(User.is_bot.is_(False)).order_by(User.is_admin.desc(), User.id)
        return session.scalars(people).first() or ""


def _json_or_empty(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
