"""Which workspace a Slack call is for, and that workspace's own client: the one seam through which
every call of one deployment serving many workspaces gets the right bot token.

Whoever starts work for a workspace says so: the app for each request (runtime/factory.py
`PeerlearnApp.dispatch`, also the job worker's), the scheduler's engines for each schedule, post,
circle and round they handle (`with acting_for(team_id):`). A `TeamClient` (what the gateway and the
directory of people are built on) then makes each call with that workspace's token, through a
WebClient of its own (its retries, its pacing). A call made for no workspace is a bug and raises;
a workspace with no installation gets `not_installed` from the client, as Slack would answer a
refused token: never another workspace's token.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack.acting import current_team
from bot.slack.client import build_client
from bot.slack.pacing import PostPacer
from bot.slack.results import error_code

NOT_INSTALLED = "not_installed"
# Slack's answers that say the stored token is no longer good: read it again before the next call.
TOKEN_REFUSED = frozenset({"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed"})


class NoWorkspace(RuntimeError):
    """A Slack call made outside `acting_for`: a code path that forgot to say whose it is."""


class BotTokens(Protocol):
    def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token (refreshed if it is about to expire); None when not installed."""

    def forget(self, team_id: str) -> None:
        """Slack refused the token: read it from the store again before the next call."""


def not_installed(client: WebClient, method: str) -> SlackApiError:
    """What a call for a workspace with no installation fails with: Slack's shape, our code."""
    data = {"ok": False, "error": NOT_INSTALLED}
    response = SlackResponse(
        client=client, http_verb="POST", api_url=method, req_args={}, data=data, headers={}, status_code=200
    )
    return SlackApiError(f"The request to the Slack API failed. (url: {method})", response)  # type: ignore[no-untyped-call]


class SlackClients:
    """Each workspace's own WebClient, made with its current bot token and kept until the token
    changes (a refresh or a reinstall) or Slack refuses it."""

    def __init__(self, tokens: BotTokens, api_url: str, *, pacer: PostPacer | None = None, max_retries: int = 3):
        self.tokens = tokens
        self.api_url = api_url
        self.pacer = pacer
        self.max_retries = max_retries
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def client_for(self, team_id: str) -> WebClient | None:
        token = self.tokens.bot_token(team_id)
        if token is None:
            return None
        with self._lock:
            client = self._clients.get(team_id)
            if client is None or client.token != token:
                client = build_client(token, self.api_url, max_retries=self.max_retries, pacer=self.pacer)
                self._clients[team_id] = client
        return client

    def forget(self, team_id: str) -> None:
        with self._lock:
            self._clients.pop(team_id, None)
        self.tokens.forget(team_id)


class TeamClient(WebClient):
    """A WebClient that makes every call with the token of the workspace being acted for."""

    def __init__(self, clients: SlackClients) -> None:
        super().__init__(base_url=clients.api_url, timeout=10)
        self.clients = clients

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        team_id = current_team()
        if team_id is None:
            raise NoWorkspace(f"{api_method} called for no workspace: wrap the work in acting_for(team_id)")
        own = self.clients.client_for(team_id)  # that workspace's own WebClient
        if own is None:
            raise not_installed(self, api_method)
        try:
            return own.api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        except SlackApiError as error:
            if error_code(error) in TOKEN_REFUSED:
                self.clients.forget(team_id)
            raise
