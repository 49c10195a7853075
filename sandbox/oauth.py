"""Slack's side of installing a distributed app, for the tests' double and the sandbox: the consent
page's answer (a one-time code), `oauth.v2.access` (a code, or with token rotation a refresh token),
and which workspace each token it issued acts for.

As Slack does: a code is good once and for 10 minutes; `oauth.v2.access` wants the app's client id
and secret (HTTP Basic, or as arguments); with rotation on, an access token lasts `rotation_seconds`
and is refused as `token_expired` after, and a refresh token is good for one refresh (a second use
is `invalid_refresh_token`, which is how a test sees two processes refreshing the same token).
An organisation-wide install (Enterprise Grid) gets one token for every workspace of the organisation.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode
from urllib.request import HTTPErrorProcessor, Request, build_opener

from sandbox.workspace import Team

CODE_SECONDS = 600


@dataclass(frozen=True)
class Enterprise:
    id: str
    name: str


@dataclass(frozen=True)
class Grant:
    """What a token acts for: one workspace, or (org-wide) every workspace of an organisation."""

    team_id: str | None
    enterprise_id: str | None
    expires_at: float | None = None


@dataclass
class _Install:
    team: Team
    enterprise: Enterprise | None
    org_wide: bool
    installer: str
    scopes: str
    issued_at: float


@dataclass
class OAuthServer:
    client_id: str
    client_secret: str
    rotation_seconds: int | None = None  # token rotation on: access tokens last this long
    clock: Callable[[], float] = time.time
    refreshes: int = 0  # refresh tokens redeemed (tests count them)
    refused_refreshes: int = 0
    _codes: dict[str, _Install] = field(default_factory=dict)
    _tokens: dict[str, Grant] = field(default_factory=dict)
    _refresh_tokens: dict[str, tuple[Grant, str]] = field(default_factory=dict)  # -> (grant, bot user)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def consent(
        self,
        team: Team,
        *,
        installer: str,
        scopes: str,
        enterprise: Enterprise | None = None,
        org_wide: bool = False,
    ) -> str:
        """The person clicked *Allow* on Slack's consent page: a code for the app's redirect."""
        code = f"{int(self.clock())}.{secrets.token_hex(12)}"
        with self._lock:
            self._codes[code] = _Install(team, enterprise, org_wide, installer, scopes, self.clock())
        return code

    def grant(self, token: str) -> tuple[Grant | None, str | None]:
        """What the token acts for, or the error Slack answers it with."""
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None:
            return None, "invalid_auth"
        if grant.expires_at is not None and self.clock() >= grant.expires_at:
            return None, "token_expired"
        return grant, None

    def token_check(self, team_id: str) -> Callable[[str], str | None]:
        """A workspace's check of a token (sandbox/web_api.py `token_check`): good only if issued for it."""

        def check(token: str) -> str | None:
            grant, refused = self.grant(token)
            if grant is None:
                return refused
            return None if grant.team_id == team_id else "invalid_auth"

        return check

    def revoke(self, team_id: str | None, enterprise_id: str | None = None) -> None:
        """Uninstalled: the tokens of this workspace (or organisation-wide install) stop working."""
        with self._lock:
            for token, grant in list(self._tokens.items()):
                if grant.team_id == team_id and (team_id is not None or grant.enterprise_id == enterprise_id):
                    del self._tokens[token]
            for refresh, (grant, _) in list(self._refresh_tokens.items()):
                if grant.team_id == team_id and (team_id is not None or grant.enterprise_id == enterprise_id):
                    del self._refresh_tokens[refresh]

    def access(self, args: dict[str, Any], authorization: str) -> dict[str, Any]:
        """oauth.v2.access's answer (Slack's shape), for a code or a refresh token."""
        client_id, client_secret = _client_credentials(args, authorization)
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        if args.get("grant_type") == "refresh_token":
            return self._refresh(str(args.get("refresh_token") or ""))
        with self._lock:
            install = self._codes.pop(str(args.get("code") or ""), None)
        if install is None or self.clock() - install.issued_at > CODE_SECONDS:
            return {"ok": False, "error": "invalid_code"}
        team, enterprise = install.team, install.enterprise
        grant = Grant(None if install.org_wide else team.id, enterprise.id if enterprise else None)
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": team.app_id,
            "authed_user": {"id": install.installer},
            "scope": install.scopes,
            "token_type": "bot",
            "bot_user_id": team.bot_user_id,
            "team": None if install.org_wide else {"id": team.id, "name": team.name},
            "enterprise": {"id": enterprise.id, "name": enterprise.name} if enterprise else None,
            "is_enterprise_install": install.org_wide,
        }
        return answer | self._issue(grant, team.bot_user_id)

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        with self._lock:
            issued = self._refresh_tokens.pop(refresh_token, None)
            if issued is None:
                self.refused_refreshes += 1
                return {"ok": False, "error": "invalid_refresh_token"}
            self.refreshes += 1
        grant, bot_user_id = issued
        return {"ok": True, "token_type": "bot", "bot_user_id": bot_user_id} | self._issue(grant, bot_user_id)

    def _issue(self, grant: Grant, bot_user_id: str) -> dict[str, Any]:
        rotating = self.rotation_seconds is not None
        prefix = "xoxe.xoxb-1-" if rotating else "xoxb-"
        token = prefix + secrets.token_hex(16)
        expires_at = self.clock() + self.rotation_seconds if self.rotation_seconds is not None else None
        with self._lock:
            self._tokens[token] = Grant(grant.team_id, grant.enterprise_id, expires_at)
            if not rotating:
                return {"access_token": token}
            refresh = "xoxe-1-" + secrets.token_hex(16)
            self._refresh_tokens[refresh] = (grant, bot_user_id)
        return {"access_token": token, "refresh_token": refresh, "expires_in": self.rotation_seconds}


def _client_credentials(args: dict[str, Any], authorization: str) -> tuple[str, str]:
    if authorization.startswith("Basic "):
        try:
            decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
        except ValueError:
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(args.get("client_id") or ""), str(args.get("client_secret") or "")


def consent_page(team: Team, query: dict[str, str]) -> str:
    """Slack's consent page: which workspace, what the app asks for, Allow or Cancel."""
    scopes = "".join(
        f"<li><code>{html.escape(scope)}</code></li>" for scope in query.get("scope", "").split(",") if scope
    )
    fields = "".join(
        f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
        for key, value in query.items()
        if key in ("client_id", "scope", "state", "redirect_uri", "team")
    )
    back = query.get("redirect_uri", "")
    cancel = f"{back}{'&' if '?' in back else '?'}error=access_denied&state={quote(query.get('state', ''))}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Install Peerlearn</title>'
        '<link rel="icon" href="data:,"><style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;'
        "margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:0;"
        "background:#007a5a;color:#fff;font-weight:600}a{margin-left:1rem}</style></head><body>"
        f"<p>local pretend Slack</p><h1>Peerlearn is requesting permission to access the "
        f"<em>{html.escape(team.name)}</em> workspace</h1>"
        f"<p>It asks for these bot scopes:</p><ul>{scopes}</ul>"
        f'<form method="post" action="/oauth/v2/authorize">{fields}<button type="submit">Allow</button>'
        f'<a href="{html.escape(cancel)}">Cancel</a></form></body></html>\n'
    )


def install_through_oauth(app_url: str, team_id: str, timeout: float = 30.0) -> str:
    """Install the app in one workspace as a person would in a browser: the app's install page, its
    *Add to Slack* link to the consent page, *Allow*, and back to the app's redirect (with the state
    cookie the install page set). The app's answer page."""
    opener = build_opener(_NoRedirects())
    page = opener.open(f"{app_url}/slack/install?team={quote(team_id)}", timeout=timeout)
    cookie = "; ".join(header.split(";", 1)[0] for header in page.headers.get_all("Set-Cookie") or [] if "=" in header)
    link = re.search(r'class="button" href="([^"]+)"', page.read().decode())
    if link is None:
        raise RuntimeError("the app's install page has no Add to Slack link")
    authorize = html.unescape(link.group(1))
    consent = opener.open(authorize, timeout=timeout).read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', consent))
    form = urlencode({key: html.unescape(value) for key, value in fields.items()}).encode()
    consent_url = _http(authorize.split("?", 1)[0])
    allowed = opener.open(Request(consent_url, data=form, method="POST"), timeout=timeout)  # noqa: S310 - http(s) only
    redirect = allowed.headers["Location"]
    if not redirect:
        raise RuntimeError("the consent page sent the installer nowhere")
    answer = opener.open(Request(_http(redirect), headers={"Cookie": cookie}), timeout=timeout)  # noqa: S310
    body = str(answer.read().decode())
    if answer.status != 200:
        raise RuntimeError(f"the app refused the install ({answer.status})")
    return body


def _http(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise RuntimeError(f"not an http(s) URL: {url[:80]!r}")
    return url


class _NoRedirects(HTTPErrorProcessor):
    """Hand back every answer as it is (redirects and errors too): the walk follows them itself."""

    def http_response(self, request: Request, response: Any) -> Any:
        return response

    https_response = http_response
