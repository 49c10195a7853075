"""OAuth mode: one deployment installed in many workspaces.

Bolt's OAuth flow serves `GET /slack/install` (an *Add to Slack* page) and `GET /slack/oauth_redirect`
(Slack sends the installer back with a code; Bolt exchanges it with `oauth.v2.access` and saves the
installation), with slack_sdk's SQLAlchemy installation and state stores on Peerlearn's own engine
and tables (storage/models/installations.py). Each request is then authorised from the installation
cache (bot/slack/installations.py): no database read and no `auth.test` per request, and the same
locked token refresh as the scheduler's and the job worker's own calls.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.context import BoltContext
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings as BoltOAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.slack.installations import Installations, TokenRefresher
from bot.uninstalled import follow
from runtime.settings import Settings
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)

TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,31}")

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"
STATE_SECONDS = 600  # an install begun on our page must be finished within 10 minutes
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def bot_scopes(manifest: Path = MANIFEST) -> list[str]:
    """The bot scopes an install asks for: manifest.yml's, the one source of truth."""
    data: dict[str, Any] = yaml.safe_load(manifest.read_text())
    return list(data["oauth_config"]["scopes"]["bot"])


def authorization_url(api_url: str) -> str:
    """Slack's consent page beside its Web API (https://slack.com/oauth/v2/authorize), or the
    stand-in's when SLACK_API_URL points at one (the sandbox, the tests' double)."""
    base = api_url[: -len("api/")] if api_url.endswith("/api/") else api_url.rstrip("/") + "/"
    return base + "oauth/v2/authorize"


class PeerlearnInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store on our engine; the installation cache hears of every save at once."""

    def __init__(self, installations: Installations, db: Database) -> None:
        super().__init__(client_id=installations.client_id, engine=db.engine, logger=log)
        self.known = installations  # (slack_sdk's own `installations` is its table)

    def save(self, installation: Installation) -> None:
        super().save(installation)
        team_id = None if installation.is_enterprise_install else installation.team_id
        self.known.saved(team_id, installation.enterprise_id)


class SignedStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store on our engine; with SLACK_STATE_SECRET each state also carries its
    HMAC, so a state we never issued is refused before any database read."""

    def __init__(self, db: Database, secret: str | None, expiration_seconds: int = STATE_SECONDS) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=db.engine, logger=log)
        self._secret = secret.encode() if secret else None

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = str(super().issue(*args, **kwargs))
        return state if self._secret is None else f"{state}.{self._signature(state)}"

    def consume(self, state: str) -> bool:
        if self._secret is not None:
            state, _, signature = state.rpartition(".")
            if not state or not hmac.compare_digest(signature, self._signature(state)):
                log.warning("OAuth state refused: not signed by this deployment")
                return False
        return bool(super().consume(state))

    def _signature(self, state: str) -> str:
        assert self._secret is not None
        return hmac.new(self._secret, state.encode(), hashlib.sha256).hexdigest()[:32]


class PeerlearnAuthorize(Authorize):
    """Bolt's authorisation of each request, from the installation cache (no auth.test per request)."""

    def __init__(self, installations: Installations) -> None:
        self.installations = installations

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        bot = self.installations.bot_for(team_id, enterprise_id)
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id or enterprise_id,
            team_id=team_id,  # the request's workspace, also under an organisation-wide install
            team=bot.team_name,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.token,
            bot_scopes=bot.scopes,
        )


class PeerlearnOAuthFlow(OAuthFlow):
    """Bolt's flow, with Peerlearn's pages, and installs begun in Slack accepted.

    An install started from Slack's app directory (or the app settings' Install button) comes back
    with a code and no `state`: there is no state of ours to hold it to. A `state` that is present
    is checked in full (issued here, once, in this browser), as Bolt does.
    """

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        return install_page(url)

    def build_authorize_url(self, state: str, request: BoltRequest) -> str:
        """`/slack/install?team=T…` preselects a workspace on Slack's consent page. Bolt pastes the
        value into the URL as it came, so `team=T1%26scope%3Dadmin` would add parameters to the
        consent request: only a well-formed team or organisation id is passed on."""
        asked = request.query.get("team") or [""]
        team = asked[0] if TEAM_ID.fullmatch(asked[0]) else None
        return self.settings.authorize_url_generator.generate(state=state, team=team)

    def handle_callback(self, request: BoltRequest) -> BoltResponse:
        query = request.query
        began_in_slack = not query.get("state") and not query.get("error") and query.get("code")
        if not began_in_slack:
            return super().handle_callback(request)
        installation = self.run_installation(str(query["code"][0]))
        if installation is None:
            return self._failed(request, "invalid_code", 401)
        try:
            self.store_installation(request, installation)
        except Exception as error:  # the database refused it: say so, keep the page
            log.exception("installation could not be saved")
            return self._failed(request, "storage_error", 500, error)
        return self.success_handler(
            SuccessArgs(
                request=request,
                installation=installation,
                settings=self.settings,
                default=self.default_callback_options,
            )
        )

    def _failed(self, request: BoltRequest, reason: str, status: int, error: Exception | None = None) -> BoltResponse:
        return self.failure_handler(
            FailureArgs(
                request=request,
                reason=reason,
                error=error,
                suggested_status_code=status,
                settings=self.settings,
                default=self.default_callback_options,
            )
        )


def build_oauth_flow(settings: Settings, installations: Installations, db: Database, client: WebClient) -> OAuthFlow:
    oauth = settings.oauth
    assert oauth is not None
    bolt_settings = BoltOAuthSettings(
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        scopes=bot_scopes(),
        redirect_uri=oauth.redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorization_url(settings.slack_api_url),
        installation_store=PeerlearnInstallationStore(installations, db),
        installation_store_bot_only=True,
        state_store=SignedStateStore(db, oauth.state_secret),
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=_installed_page, failure=_failure_page),
        logger=log,
    )
    return PeerlearnOAuthFlow(client=client, logger=log, settings=bolt_settings)


# -- the pages ---------------------------------------------------------------------------------

_STYLE = """body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d1c1d}
h1{font-size:1.6rem}a.button{display:inline-block;background:#4a154b;color:#fff;padding:.6rem 1.2rem;
border-radius:6px;text-decoration:none;font-weight:600}a.button:focus{outline:3px solid #1d9bd1}
code{background:#f4f4f4;padding:0 .25rem;border-radius:3px}li{margin:.3rem 0}"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def install_page(authorize_url: str) -> str:
    return _page(
        "Add Peerlearn to Slack",
        "<h1>Peerlearn</h1><p>Peer learning for Slack: share tips with <code>/tip</code>, weekly prompts and "
        "digests, learning circles and mentoring pairs, all inside your workspace.</p>"
        f'<p><a class="button" href="{html.escape(authorize_url)}">Add to Slack</a></p>'
        "<p>Slack shows what Peerlearn asks for before anything is installed.</p>",
    )


def _installed_page(args: SuccessArgs) -> BoltResponse:
    installation = args.installation
    where = installation.enterprise_name if installation.is_enterprise_install else installation.team_name
    team = installation.team_id or ""
    open_app = "https://slack.com/app_redirect?" + urlencode({"app": installation.app_id or "", "team": team})
    body = (
        f"<h1>Peerlearn is installed in {html.escape(where or 'your workspace')}</h1>"
        "<p>What to do next:</p><ol>"
        "<li>In any channel, type <code>/tip help</code>, then share something you learned: "
        "<code>/tip Use git worktree to review a PR #git</code>.</li>"
        "<li>Open Peerlearn's <strong>Home</strong> tab (in Slack's sidebar: Apps → Peerlearn) for your tips, "
        "this week's most helpful ones and your learning circles.</li>"
        "<li>Admins: schedule prompts and a digest with <code>/peerlearn prompts #general mon 09:00</code> "
        "and <code>/peerlearn digest #general fri 16:00</code>.</li></ol>"
        f'<p><a class="button" href="{html.escape(open_app)}">Open Peerlearn in Slack</a></p>'
    )
    log.info(
        "installed through the OAuth flow: team=%s enterprise=%s org-wide=%s",
        installation.team_id,
        installation.enterprise_id,
        installation.is_enterprise_install,
    )
    return _page_response(args.settings, 200, _page("Peerlearn is installed", body))


_FAILURES = {
    "access_denied": "The install was cancelled in Slack; nothing was installed.",
    "invalid_state": "This install link has expired or was already used.",
    "invalid_browser": "This install was started in another browser (or its cookie was lost).",
    "invalid_code": "Slack did not accept this install's code (it may have been used already).",
    "missing_code": "Slack sent no install code.",
    "storage_error": "The installation could not be saved; please try again in a moment.",
}


def _failure_page(args: FailureArgs) -> BoltResponse:
    said = _FAILURES.get(args.reason, "Slack could not complete the install.")
    log.warning("install failed: %s", args.reason)
    body = (
        f"<h1>Peerlearn was not installed</h1><p>{html.escape(said)}</p>"
        f'<p><a class="button" href="{INSTALL_PATH}">Start again</a></p>'
    )
    return _page_response(args.settings, args.suggested_status_code, _page("Peerlearn was not installed", body))


def _page_response(settings: BoltOAuthSettings, status: int, page: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=page,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": [settings.state_utils.build_set_cookie_for_deletion()],
        },
    )


def installations_for(settings: Settings, db: Database) -> Installations | None:
    """OAuth mode's installation cache for one process (None for a single-workspace deployment):
    tokens refreshed with the app's credentials, and the schedules following the installations (a
    reinstall, or a refresh that works, resumes what an uninstall or a refused refresh paused)."""
    oauth = settings.oauth
    if oauth is None:
        return None
    refresher = TokenRefresher(oauth.client_id, oauth.client_secret, settings.slack_api_url)
    installations = Installations(db, oauth.client_id, refresher=refresher)
    follow(installations, db, utcnow)
    return installations
