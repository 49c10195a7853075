"""This deployment's own workspaces, and the middleware that refuses every other workspace's requests.

One signing secret signs requests for every workspace the Slack app is installed in, so a signature
says "from Slack", not "for us": with one bot token, a request from another workspace would be
served with this workspace's token, its data mixed into ours. So each request's team must be the
token's own, or (Enterprise Grid) of the token's own organisation. In OAuth mode the workspaces
served are those the app is installed in (bot/slack/installations.py), each with its own token.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.error import URLError

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.people.lifecycle import event_time, uninstalled_teams, workspace_reinstalled
from bot.slack.results import error_code
from runtime.settings import ConfigError
from storage.db import Database

log = logging.getLogger(__name__)

NOT_INSTALLED = "Peerlearn is not installed in your workspace, so it cannot answer here."
MAX_BACKOFF_SECONDS = 60.0
# Slack's answers to auth.test that say "try again later", not "this token is wrong".
_TRANSIENT = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"})
_TOKEN_PROBLEMS = {
    "invalid_auth": "the token is not valid; copy the Bot User OAuth Token (OAuth & Permissions) again",
    "token_revoked": "the token was revoked; reinstall the app to the workspace and copy its new Bot User OAuth Token",
    "account_inactive": "the token belongs to a deleted bot or a workspace that no longer exists",
    "token_expired": "the token has expired (token rotation is on for this app); use a token that does not expire",
    "not_authed": "Slack received no token",
    "not_allowed_token_type": "this is not a bot token; use the Bot User OAuth Token (xoxb-…)",
}
_REMEMBERED_TEAMS = 1000  # foreign teams logged once each; past this many, no longer logged


class Served(Protocol):
    """Whose requests this deployment answers."""

    def serves(self, team_id: str | None, enterprise_id: str | None) -> bool: ...


@dataclass(frozen=True)
class Workspace:
    """The team (and Enterprise Grid organisation, if any) the bot token belongs to."""

    team_id: str | None
    enterprise_id: str | None = None

    @classmethod
    def from_auth_test(cls, answer: Mapping[str, Any]) -> Workspace:
        return cls(team_id=answer.get("team_id") or None, enterprise_id=answer.get("enterprise_id") or None)

    def serves(self, team_id: str | None, enterprise_id: str | None) -> bool:
        if self.team_id is not None and team_id == self.team_id:
            return True
        # Enterprise Grid: people of another workspace of the same organisation (in a channel
        # shared across it), or an org-wide installation serving all of its workspaces.
        return self.enterprise_id is not None and enterprise_id == self.enterprise_id

    def __str__(self) -> str:
        return f"team {self.team_id}" + (f" of enterprise {self.enterprise_id}" if self.enterprise_id else "") + " only"


def identify(client: WebClient) -> Workspace:
    """One auth.test: whose token this is."""
    return Workspace.from_auth_test(client.auth_test().data)  # type: ignore[arg-type]


def wait_for_slack(
    token: str,
    api_url: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    max_backoff: float = MAX_BACKOFF_SECONDS,
) -> Workspace:
    """Ask Slack whose the token is, until it answers: while Slack cannot be reached (or answers 5xx,
    429 or a temporary error), try again after 1, 2, 4 … up to `max_backoff` seconds, one log line a
    try. A token Slack refuses is a ConfigError naming SLACK_BOT_TOKEN and Slack's answer."""
    client = WebClient(token=token, base_url=api_url, timeout=10)
    client.retry_handlers = []  # the waiting is ours, said in the log, not hidden in the client
    delay = 1.0
    for attempt in itertools.count(1):
        try:
            return identify(client)
        except SlackApiError as error:
            code = error_code(error)
            status = error.response.status_code
            if status < 500 and status != 429 and code not in _TRANSIENT:
                problem = _TOKEN_PROBLEMS.get(code, "Slack refused the token")
                raise ConfigError("SLACK_BOT_TOKEN", f"Slack answered {code}: {problem}") from None
            reason = f"Slack answered {code}" + (f" (HTTP {status})" if status != 200 else "")
            wait = min(max(delay, _retry_after(error)), max_backoff)
        except (SlackClientError, URLError, TimeoutError, ConnectionError, OSError) as error:
            reason, wait = f"cannot reach Slack: {_connection_problem(error)}", delay
        log.warning("startup: %s at %s (try %d); trying again in %.0f s", reason, api_url, attempt, wait)
        sleep(wait)
        delay = min(delay * 2, max_backoff)
    raise AssertionError("unreachable")  # pragma: no cover - itertools.count never ends


def _retry_after(error: SlackApiError) -> float:
    value = str(error.response.headers.get("Retry-After") or error.response.headers.get("retry-after") or "")
    return float(value) if value.isascii() and value.isdigit() else 0.0


def _connection_problem(error: BaseException) -> str:
    reason = getattr(error, "reason", None)  # URLError wraps the socket's error
    return f"{reason or error.__class__.__name__}"[:200]


class OwnWorkspaceOnly(Middleware):
    """Runs before Bolt's authorization: a request of a workspace not served (another one's, or in
    OAuth mode one the app is not installed in) is acknowledged (so Slack does not retry it) and goes
    no further; slash commands are told why. Logged once per team."""

    def __init__(self, workspace: Served) -> None:
        self.workspace = workspace
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        team_id, enterprise_id = _str_or_none(req.context.team_id), _str_or_none(req.context.enterprise_id)
        if self.workspace.serves(team_id, enterprise_id) or _needs_no_team(req.body):
            return next()
        self._log_once(team_id, enterprise_id)
        if req.body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": NOT_INSTALLED})
        return BoltResponse(status=200, body="")

    def _log_once(self, team_id: str | None, enterprise_id: str | None) -> None:
        key = f"{team_id}/{enterprise_id}"
        with self._lock:
            if key in self._seen or len(self._seen) >= _REMEMBERED_TEAMS:
                return
            self._seen.add(key)
        log.warning(
            "refusing requests of team %s (enterprise %s): this deployment serves %s (logged once per team)",
            team_id,
            enterprise_id,
            self.workspace,
        )


LIFECYCLE_EVENTS = frozenset({"app_uninstalled", "tokens_revoked"})


class InstalledAgain(Middleware):
    """A request from a workspace the app was uninstalled from says it is installed again: Slack sends
    nothing for an app that is not installed. (The uninstall events themselves say the opposite, and
    an event that happened before the uninstall, delivered late, says nothing.)

    Which workspaces are uninstalled is read from the database at most every `refresh_seconds` (a
    few rows), not at every request; an uninstall event seen here makes the next request read again.
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        refresh_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db, self.clock, self.refresh_seconds, self._monotonic = db, clock, refresh_seconds, monotonic
        self._uninstalled: dict[str, datetime] = {}
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        event = req.body.get("event") if isinstance(req.body.get("event"), dict) else None
        if event is not None and event.get("type") in LIFECYCLE_EVENTS:
            with self._lock:
                self._read_at = None  # read again at the next request: this workspace is going
            return next()
        team_id = _str_or_none(req.context.team_id)
        since = self._uninstalled_since(team_id) if team_id else None
        if team_id and since is not None:
            at = event_time(req.body.get("event_time")) if event is not None else self.clock()
            if at is not None and at > since:
                try:
                    workspace_reinstalled(self.db, team_id, at)
                except Exception:  # never in the way of the request; the next one tries again
                    log.exception("could not record that team=%s is installed again", team_id)
                with self._lock:
                    self._read_at = None
        return next()

    def _uninstalled_since(self, team_id: str) -> datetime | None:
        with self._lock:
            fresh = self._read_at is not None and self._monotonic() - self._read_at < self.refresh_seconds
            if not fresh:
                try:
                    self._uninstalled = uninstalled_teams(self.db)
                    self._read_at = self._monotonic()
                except Exception:
                    log.exception("could not read which workspaces are uninstalled")
            return self._uninstalled.get(team_id)


def _needs_no_team(body: Mapping[str, Any]) -> bool:
    """Slack's URL check when the Events URL is set, and its SSL check: they carry no team."""
    return body.get("type") == "url_verification" or body.get("ssl_check") == "1"


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
