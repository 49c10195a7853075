"""One deployment, several workspaces: the app in OAuth mode against the Slack double holding two
workspaces (A, the double's own, and B), each installed through the real OAuth flow.

`world` builds the app as app.py does in OAuth mode (installation cache, per-workspace clients for
requests, the job worker and the scheduler); `install` walks the flow a browser walks: our install
page, Slack's consent page (the double's), our redirect, with the state cookie in between.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlparse
from urllib.request import HTTPErrorProcessor, Request, build_opener

import pytest

from bot import uninstalled
from bot.circles.rounds import CircleRunner
from bot.pairing.outcomes import RoundKeeper
from bot.pairing.rounds import PairingRunner
from bot.schedules.posting import PostingSettings, ScheduledPoster
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.installations import Installations, TokenRefresher
from bot.slack.pacing import PostPacer
from bot.slack.users import UserDirectory
from bot.slack.workspaces import SlackClients, TeamClient
from runtime.factory import build_app, build_job_worker, each_in_turn, question_desk
from runtime.jobs import JobWorker
from runtime.serving import wsgi_app
from runtime.settings import OAuthSettings, Settings
from sandbox.workspace import Team
from storage.db import Database
from storage.models import utcnow
from tests.conftest import ADMIN_ID, FakeClock
from tests.slack_double import SlackDouble
from tests.slack_sender import SIGNING_SECRET, SlackSender

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
PUBLIC_URL = "https://peerlearn.test"
TEAM_B = Team(id="T0BETA", name="Beta Corp", domain="beta-corp", bot_user_id="UBOTB", bot_id="BBOTB", app_id="A0TEST")


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class World:
    settings: Settings
    installations: Installations
    wsgi: Any
    worker: JobWorker
    poster: ScheduledPoster
    circles: CircleRunner
    a: SlackDouble
    b: SlackDouble
    sender_a: SlackSender
    sender_b: SlackSender

    def install(self, double: SlackDouble, **flow: Any) -> Page:
        return install(self, double, **flow)


def wsgi_get(app: Any, path: str, *, cookie: str = "") -> Page:
    url = urlparse(path)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": url.path,
        "QUERY_STRING": url.query,
        "SERVER_NAME": "peerlearn.test",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "https",
        "HTTP_COOKIE": cookie,
    }
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = {}
        for key, value in headers:  # Set-Cookie may repeat: keep them all
            previous = captured["headers"].get(key.lower())
            captured["headers"][key.lower()] = value if previous is None else f"{previous}\n{value}"

    body = b"".join(app(environ, start_response)).decode()
    return Page(captured["status"], captured["headers"], body)


class _NoRedirects(HTTPErrorProcessor):
    def http_response(self, request: Request, response: Any) -> Any:
        return response

    https_response = http_response


def consent(authorize_url: str) -> str:
    """Open Slack's consent page (the double's), as a browser: where it sends the person next."""
    response = build_opener(_NoRedirects()).open(authorize_url)
    assert response.status == 302, response.read()
    return str(response.headers["Location"])


def install(world: World, double: SlackDouble, *, with_cookie: bool = True, state: str | None = None) -> Page:
    """The whole flow: our install page, Slack's consent (for `double`), our redirect."""
    page = wsgi_get(world.wsgi, "/slack/install")
    assert page.status == 200, page.body
    authorize = re.search(r'href="([^"]+/oauth/v2/authorize[^"]*)"', page.body)
    assert authorize is not None, page.body
    cookie = SimpleCookie(page.headers.get("set-cookie", ""))
    double.root.installing = double
    redirect = consent(authorize.group(1).replace("&amp;", "&"))
    if state is not None:
        query = {k: v[0] for k, v in parse_qs(urlparse(redirect).query).items()}
        redirect = f"{PUBLIC_URL}/slack/oauth_redirect?code={query['code']}&state={state}"
    jar = "; ".join(f"{key}={morsel.value}" for key, morsel in cookie.items()) if with_cookie else ""
    return wsgi_get(world.wsgi, redirect.removeprefix(PUBLIC_URL), cookie=jar)


def oauth_settings(slack: SlackDouble, database_url: str, **oauth: Any) -> Settings:
    return Settings(
        bot_token=None,
        signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=database_url,
        admin_user_ids=frozenset({ADMIN_ID}),
        oauth=OAuthSettings(CLIENT_ID, CLIENT_SECRET, public_url=PUBLIC_URL, **oauth),
    )


def second_workspace(slack: SlackDouble) -> SlackDouble:
    """Workspace B: people and channels named like A's own (U1, C1 ...), so nothing but the
    workspace tells them apart, as between real workspaces."""
    b = slack.add_workspace(TEAM_B)
    b.add_user("U1", "bea")
    b.add_user("U2", "bo")
    b.add_user("U3", "bram")
    b.add_user("U4", "bianca", is_admin=True)
    b.add_channel("C1", "general", members=("U1", "U2", "U3", "U4"))
    b.add_channel("CB2", "beta-only", members=("U1",))
    return b


def build_world(slack: SlackDouble, db: Database, clock: FakeClock, database_url: str, **oauth: Any) -> World:
    slack.enable_oauth(CLIENT_ID, CLIENT_SECRET, rotation_seconds=oauth.pop("rotation_seconds", None))
    b = second_workspace(slack)
    installations = Installations(db, CLIENT_ID, refresher=TokenRefresher(CLIENT_ID, CLIENT_SECRET, slack.api_url))
    # When it was installed: Slack's time, as uninstall events are (not the test's clock for schedules).
    uninstalled.follow(installations, db, utcnow)  # as runtime/oauth.py wires it
    client = build_client(None, slack.api_url, max_retries=2)
    # The scheduler's engines as build_schedulers makes them in OAuth mode (the pairing rounds' and the
    # questions' keepers too), unpaced, on the test clock.
    team_client = TeamClient(SlackClients(installations, slack.api_url, max_retries=2))
    gateway, users = SlackGateway(team_client), UserDirectory(team_client, frozenset({ADMIN_ID}))
    served = installations.serves_team
    settings = oauth_settings(slack, database_url, **oauth)
    questions = question_desk(settings, db=db, slack=gateway, users=users, clock=clock, served=served)
    poster = ScheduledPoster(
        db,
        gateway,
        clock=clock,
        pacer=PostPacer(1e6, 0.0),
        settings=PostingSettings(),
        holder="test-oauth",
        rounds=PairingRunner(db, gateway, users, clock=clock).start,
        keeper=each_in_turn(RoundKeeper(db, gateway, clock=clock, served=served).run_due, questions.keeper.run_due),
        served=served,
    )
    circles = CircleRunner(db, gateway, users, clock=clock, pacer=PostPacer(1e6, 0.0), served=served)
    parts = {"client": client, "db": db, "clock": clock, "poster": poster, "circles": circles}
    app = build_app(settings, installations=installations, **parts)
    worker = build_job_worker(settings, installations=installations, threads=4, **parts)
    wsgi = wsgi_app(app, db, settings.signing_secret)
    return World(
        settings=settings,
        installations=installations,
        wsgi=wsgi,
        worker=worker,
        poster=poster,
        circles=circles,
        a=slack,
        b=b,
        sender_a=SlackSender(wsgi, slack, settle=worker.drain),
        sender_b=SlackSender(wsgi, b, settle=worker.drain, team_id=b.team.id),
    )


@pytest.fixture
def world(slack: SlackDouble, db: Database, clock: FakeClock, database_url: str) -> Iterator[World]:
    built = build_world(slack, db, clock, database_url)
    yield built
    built.poster.release_leadership()


@pytest.fixture
def installed(world: World) -> World:
    """Both workspaces installed through the OAuth flow."""
    for double in (world.a, world.b):
        page = world.install(double)
        assert page.status == 200, page.body
    return world
