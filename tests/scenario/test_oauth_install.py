"""OAuth mode, end to end against the Slack double: the install page, Slack's consent, the state,
the redirect, oauth.v2.access, the stored installation, and signed requests of each workspace served
with that workspace's own token."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

from sqlalchemy import select

from runtime.oauth import SignedStateStore, bot_scopes
from runtime.workspace import NOT_INSTALLED
from storage.db import Database
from storage.models import SlackBot, SlackInstallation, SlackOAuthState, Tip
from tests.conftest import FakeClock
from tests.scenario.workspaces import (
    CLIENT_ID,
    PUBLIC_URL,
    TEAM_B,
    World,
    build_world,
    consent,
    installed,
    world,
    wsgi_get,
)
from tests.slack_double import TEAM_ID, SlackDouble

__all__ = ["installed", "world"]  # fixtures


def bots(db: Database) -> list[SlackBot]:
    with db.snapshot() as session:
        return list(session.scalars(select(SlackBot).order_by(SlackBot.id)))


def test_the_install_page_offers_add_to_slack_with_our_scopes_and_a_fresh_state(world: World, db: Database) -> None:
    page = wsgi_get(world.wsgi, "/slack/install")

    assert page.status == 200 and "Add to Slack" in page.body
    link = page.body.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link.startswith(world.a.url + "/oauth/v2/authorize?")
    query = {key: values[0] for key, values in parse_qs(urlparse(link).query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["scope"].split(",") == bot_scopes()
    assert query["redirect_uri"] == f"{PUBLIC_URL}/slack/oauth_redirect"
    assert query["state"] in page.headers["set-cookie"]  # held to this browser
    with db.snapshot() as session:
        assert session.scalar(select(SlackOAuthState.state)) == query["state"]


def test_installing_stores_the_installation_and_says_what_to_do_next(world: World, db: Database) -> None:
    page = world.install(world.b)

    assert page.status == 200
    assert "Peerlearn is installed in Beta Corp" in page.body
    assert "/tip help" in page.body and "Home" in page.body
    assert "slack.com/app_redirect?app=A0TEST&amp;team=T0BETA" in page.body
    (bot,) = bots(db)
    assert (bot.team_id, bot.bot_user_id, bot.bot_id) == (TEAM_B.id, "UBOTB", "BBOTB")
    assert bot.bot_token and bot.bot_token.startswith("xoxb-")
    assert world.b.calls_to("auth.test")  # Bolt asked whose the new token is, with that token
    with db.snapshot() as session:
        assert session.scalar(select(SlackInstallation.user_id)) == "U1"  # who installed it
        assert session.scalar(select(SlackOAuthState.id)) is None  # the state was used up
    assert world.installations.serves_team(TEAM_B.id)


def test_each_workspace_is_served_with_its_own_token(installed: World, db: Database) -> None:
    installed.sender_b.command("Beta's tip: pin your dependencies #python", channel="C1")
    installed.sender_a.command("Alpha's tip: write the test first #testing", channel="C1")

    (beta_post,) = installed.b.posts("C1")
    (alpha_post,) = installed.a.posts("C1")  # each in its own workspace's #general, by its own token
    assert "pin your dependencies" in str(beta_post) and "write the test first" in str(alpha_post)
    with db.snapshot() as session:
        assert sorted((tip.team_id, tip.author_id) for tip in session.scalars(select(Tip))) == [
            (TEAM_B.id, "U1"),
            (TEAM_ID, "U1"),
        ]


def test_an_install_begun_in_slack_without_a_state_works(world: World, db: Database) -> None:
    """Slack's app directory (or the app settings' Install button) sends the installer back with a
    code and no state: there is nothing of ours to hold it to."""
    world.a.installing = world.b
    world.a.redirect_url = f"{PUBLIC_URL}/slack/oauth_redirect"
    code = parse_qs(urlparse(consent(f"{world.a.url}/oauth/v2/authorize?client_id={CLIENT_ID}&scope=commands")).query)

    page = wsgi_get(world.wsgi, f"/slack/oauth_redirect?code={code['code'][0]}")

    assert page.status == 200 and "installed in Beta Corp" in page.body
    assert [bot.team_id for bot in bots(db)] == [TEAM_B.id]


def test_a_state_we_did_not_issue_installs_nothing(world: World, db: Database) -> None:
    page = world.install(world.b, state="forged-state")

    assert page.status in (400, 401) and "was not installed" in page.body
    assert bots(db) == []


def test_a_state_from_another_browser_installs_nothing(world: World, db: Database) -> None:
    page = world.install(world.b, with_cookie=False)

    assert page.status == 400 and "another browser" in page.body
    assert bots(db) == []


def test_a_cancelled_install_says_so(world: World, db: Database) -> None:
    page = wsgi_get(world.wsgi, "/slack/oauth_redirect?error=access_denied&state=x")

    assert page.status == 200 and "cancelled" in page.body
    assert bots(db) == []


def test_a_workspace_that_has_not_installed_the_app_is_told_so(world: World, db: Database) -> None:
    world.install(world.a)

    answer = world.sender_b.command("Copy this into their workspace", channel="C1")

    assert answer.json() == {"response_type": "ephemeral", "text": NOT_INSTALLED}
    assert world.b.posts() == [] and world.a.posts() == []
    with db.snapshot() as session:
        assert session.scalar(select(Tip.id)) is None


def test_a_reinstall_replaces_the_token(installed: World, db: Database) -> None:
    first = bots(installed.installations.db)[-1].bot_token

    installed.install(installed.b)
    installed.sender_b.command("After the reinstall: still served #ops", channel="C1")

    assert bots(db)[-1].bot_token != first
    assert len(installed.b.posts("C1")) == 1


def consent_query(world: World, path: str) -> dict[str, list[str]]:
    page = wsgi_get(world.wsgi, path)
    assert page.status == 200
    link = page.body.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return parse_qs(urlparse(link).query)


def test_an_install_link_for_one_workspace_preselects_it(world: World) -> None:
    assert consent_query(world, f"/slack/install?team={TEAM_B.id}")["team"] == [TEAM_B.id]


def test_a_crafted_team_cannot_add_parameters_to_slacks_consent_request(world: World) -> None:
    injected = "T0BETA&scope=admin,channels:history&user_scope=admin&redirect_uri=https://evil.example/cb"
    query = consent_query(world, "/slack/install?team=" + quote(injected, safe=""))

    assert "team" not in query and "user_scope" not in query
    assert query["scope"] == [",".join(bot_scopes())]
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/slack/oauth_redirect"]


def test_with_a_state_secret_the_flow_installs_and_a_state_not_signed_by_us_is_refused(
    slack: SlackDouble, db: Database, clock: FakeClock, database_url: str
) -> None:
    """SLACK_STATE_SECRET set: each state carries its HMAC; the flow works as without it."""
    world = build_world(slack, db, clock, database_url, state_secret="s" * 32)
    try:
        assert world.install(world.b).status == 200
        with db.snapshot() as session:
            assert session.scalars(select(SlackBot.team_id)).all() == [TEAM_B.id]
        assert world.install(world.a, state="abc.0123456789abcdef0123456789abcdef").status != 200
        world.sender_b.command("Signed states work #oauth", channel="C1")
        assert len(world.b.posts("C1")) == 1
    finally:
        world.poster.release_leadership()

    store = SignedStateStore(db, "s" * 32)
    state = store.issue()
    issued, _, signature = state.rpartition(".")
    assert issued and len(signature) == 32
    assert not store.consume(issued)  # issued, in the table, but without our signature
    assert not store.consume(f"{issued}.{'0' * 32}")
    assert store.consume(state)
    assert not store.consume(state)  # once
