"""Token rotation (manifest.oauth.yml): bot tokens expire, and Peerlearn refreshes them before they do,
for Slack's requests and for the scheduler's and job worker's own calls; two processes refreshing at
once make one refresh, and a refresh Slack refuses stores nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.schedules.posting import ScheduledPoster
from bot.slack.installations import Installations, Refreshed, TokenRefresher
from bot.uninstalled import UNINSTALLED
from runtime.factory import build_schedulers
from storage.db import Database
from storage.installations import naive
from storage.models import Schedule, SlackBot, SlackInstallation
from tests.conftest import FakeClock, beat_by_hand
from tests.scenario.test_schedules import MONDAY_0730, peerlearn, prompt_posts
from tests.scenario.workspaces import CLIENT_ID, CLIENT_SECRET, TEAM_B, World, build_world
from tests.slack_double import SlackDouble

TWELVE_HOURS = 12 * 3600


@pytest.fixture
def rotating(slack: SlackDouble, db: Database, clock: FakeClock, database_url: str) -> Iterator[World]:
    """Both workspaces installed by OAuth, with token rotation on (tokens last 12 hours)."""
    world = build_world(slack, db, clock, database_url, rotation_seconds=TWELVE_HOURS)
    world.installations.clock = clock
    for double in (world.a, world.b):
        assert world.install(double).status == 200
    yield world
    world.poster.release_leadership()


def stored(db: Database, team_id: str = TEAM_B.id) -> SlackBot:
    with db.snapshot() as session:
        bot = session.scalars(select(SlackBot).where(SlackBot.team_id == team_id)).one()
        session.expunge(bot)
        return bot


def expiring_in(db: Database, clock: FakeClock, minutes: float, team_id: str = TEAM_B.id) -> None:
    """The stored token of the workspace now expires this soon (as if 12 hours had nearly passed)."""
    with db.transaction() as session:
        session.execute(
            update(SlackBot)
            .where(SlackBot.team_id == team_id)
            .values(bot_token_expires_at=naive(clock.now + timedelta(minutes=minutes)))
        )


def accepted(slack: SlackDouble, token: str) -> bool:
    return bool(WebClient(token=token, base_url=slack.api_url).auth_test()["ok"])


def test_installing_with_rotation_stores_a_refresh_token_and_the_expiry(rotating: World, db: Database) -> None:
    bot = stored(db)
    assert bot.bot_token is not None and bot.bot_token.startswith("xoxe.xoxb-")
    assert bot.bot_refresh_token is not None and bot.bot_refresh_token.startswith("xoxe-1-")
    assert bot.bot_token_expires_at is not None


def test_the_scheduler_refreshes_an_expiring_token_before_it_posts(
    rotating: World, db: Database, clock: FakeClock
) -> None:
    clock.now = MONDAY_0730
    peerlearn(rotating.sender_b, "prompts <#C1|general> mon 09:00 Europe/Berlin")
    old = stored(db)
    expiring_in(db, clock, minutes=90)
    rotating.installations.forget_all()  # as the scheduler's own process would find it
    clock.advance(minutes=30, seconds=5)

    report = rotating.poster.run_due()

    assert report.posted == 1 and len(prompt_posts(rotating.b)) == 1
    new = stored(db)
    assert rotating.a.oauth is not None and rotating.a.oauth.refreshes == 1
    assert new.bot_token != old.bot_token and new.bot_refresh_token != old.bot_refresh_token
    assert new.bot_token_expires_at is not None and new.bot_token_expires_at > naive(clock.now + timedelta(hours=11))
    assert accepted(rotating.a, new.bot_token or "")
    with db.snapshot() as session:  # slack_sdk reads the installation row too: it has the new token
        assert session.scalar(select(SlackInstallation.bot_token).where(SlackInstallation.team_id == TEAM_B.id)) == (
            new.bot_token
        )


def test_a_request_refreshes_an_expiring_token_before_its_work_runs(
    rotating: World, db: Database, clock: FakeClock
) -> None:
    old = stored(db)
    expiring_in(db, clock, minutes=10)
    rotating.installations.forget_all()

    rotating.sender_b.command("Rotated before this was posted #ops", channel="C1")

    assert len(rotating.b.posts("C1")) == 1
    assert stored(db).bot_token != old.bot_token
    assert rotating.a.oauth is not None and rotating.a.oauth.refreshes == 1


@pytest.mark.parametrize("racers", [2, 4])
def test_processes_refreshing_at_once_make_one_refresh_and_store_a_good_token(
    rotating: World, db: Database, clock: FakeClock, database_url: str, racers: int
) -> None:
    """Each racer has its own engine and cache, as processes do; Slack answers the refresh slowly, so
    all of them are after the same expiring token at the same moment."""
    expiring_in(db, clock, minutes=5)
    old = stored(db)
    databases = [Database.connect(database_url) for _ in range(racers)]
    caches = [
        Installations(
            own, CLIENT_ID, refresher=TokenRefresher(CLIENT_ID, CLIENT_SECRET, rotating.a.api_url), clock=clock
        )
        for own in databases
    ]
    rotating.a.slow_next("oauth.v2.access", 0.4)
    start, tokens = threading.Barrier(racers), [""] * racers

    def race(index: int) -> None:
        start.wait()
        tokens[index] = caches[index].bot_token(TEAM_B.id) or ""

    threads = [threading.Thread(target=race, args=(index,)) for index in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for own in databases:
        own.dispose()

    oauth = rotating.a.oauth
    assert oauth is not None and (oauth.refreshes, oauth.refused_refreshes) == (1, 0)
    new = stored(db)
    assert new.bot_token != old.bot_token
    assert set(tokens) == {new.bot_token}  # every racer uses the one stored token
    assert accepted(rotating.a, new.bot_token or "")


def test_a_refresh_slack_refuses_stores_nothing_and_an_expired_token_serves_nobody(
    rotating: World, db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    old = stored(db)
    expiring_in(db, clock, minutes=30)
    rotating.installations.forget_all()
    rotating.a.fail_next("oauth.v2.access", error="invalid_refresh_token")

    assert rotating.installations.bot_token(TEAM_B.id) == old.bot_token  # still good for 30 minutes
    assert stored(db).bot_token == old.bot_token  # nothing stored
    assert "token refresh failed (invalid_refresh_token)" in caplog.text

    expiring_in(db, clock, minutes=-1)  # now expired; Slack's refusal is not asked again at once
    rotating.installations.forget_all()
    calls = len(rotating.b.calls) + len(rotating.a.calls)

    rotating.sender_b.command("Nobody's token may post this #ops", channel="C1")

    assert rotating.b.posts() == [] and rotating.a.posts() == []
    assert len(rotating.b.calls) + len(rotating.a.calls) == calls  # no call, with any token
    assert stored(db).bot_token == old.bot_token

    later = rotating.installations.monotonic() + 61  # a minute on, the refresh is tried again
    rotating.installations.monotonic = lambda: later
    rotating.sender_b.command("Posted once the token is refreshed #ops", channel="C1")

    assert len(rotating.b.posts("C1")) == 1
    assert stored(db).bot_token != old.bot_token


def paused_reason(db: Database, team_id: str = TEAM_B.id) -> str | None:
    with db.snapshot() as session:
        return session.scalar(select(Schedule.paused_reason).where(Schedule.team_id == team_id))


def a_minute_on(world: World) -> None:
    """The installation cache's clock a minute on: a failed refresh is tried again."""
    later = world.installations.monotonic() + 61
    world.installations.monotonic = lambda: later


def due_with_an_expired_token(world: World, db: Database, clock: FakeClock) -> None:
    """B's prompt is due now, and B's token expired while the deployment was down."""
    clock.now = MONDAY_0730
    assert "every Monday" in peerlearn(world.sender_b, "prompts <#C1|general> mon 09:00 Europe/Berlin")
    clock.advance(minutes=30, seconds=5)  # 09:00 Berlin
    expiring_in(db, clock, minutes=-5)
    world.installations.forget_all()


@pytest.mark.parametrize(
    "fault",
    [{"status": 503}, {"status": 429, "retry_after": 1}, {"error": "internal_error"}],
    ids=["5xx", "429", "internal_error"],
)
def test_a_refresh_that_fails_for_now_pauses_nothing_and_the_post_goes_out_once_it_works(
    rotating: World, db: Database, clock: FakeClock, fault: dict[str, Any]
) -> None:
    """A failure that says nothing about the installation (found by review: one 503 paused the
    workspace as "not installed", for good): this tick can't post in B, and nothing is paused."""
    due_with_an_expired_token(rotating, db, clock)
    rotating.a.fail_next("oauth.v2.access", **fault)

    rotating.poster.run_due()

    assert prompt_posts(rotating.b) == [] and paused_reason(db) is None
    a_minute_on(rotating)
    clock.advance(minutes=1)
    rotating.poster.run_due()  # the refresh is tried again and works: the post is still owed
    assert len(prompt_posts(rotating.b)) == 1 and paused_reason(db) is None


@pytest.mark.parametrize("error", ["invalid_refresh_token", "token_revoked"])
def test_slack_refusing_to_refresh_an_expired_token_pauses_the_workspace_until_a_refresh_works(
    rotating: World, db: Database, clock: FakeClock, error: str
) -> None:
    """A definite answer: B can't be served until it is installed again, so its schedules pause with
    the reason that says so; a refresh that works later (the refusal has cleared) resumes them."""
    due_with_an_expired_token(rotating, db, clock)
    rotating.a.fail_next("oauth.v2.access", error=error)

    rotating.poster.run_due()

    assert prompt_posts(rotating.b) == [] and paused_reason(db) == UNINSTALLED
    a_minute_on(rotating)
    assert rotating.installations.bot_token(TEAM_B.id) is not None
    assert paused_reason(db) is None
    clock.advance(days=7)
    rotating.poster.run_due()
    assert len(prompt_posts(rotating.b)) == 1


def test_a_slow_refresh_holds_no_database_lock_so_another_workspace_is_not_held_up(
    rotating: World, db: Database, clock: FakeClock
) -> None:
    """Found by review on SQLite: the refresh held the database's one write lock while Slack answered,
    so A's /tip waited for B's refresh (3.85 s)."""
    expiring_in(db, clock, minutes=10)
    old = stored(db)
    rotating.installations.forget_all()
    rotating.a.slow_next("oauth.v2.access", 3.0)
    refresher = threading.Thread(target=rotating.installations.bot_token, args=(TEAM_B.id,))
    refresher.start()
    rotating.a.wait_for(lambda: any(call.method == "oauth.v2.access" for call in rotating.a.calls))

    start = time.monotonic()
    rotating.sender_a.command("A's tip while B's token is refreshed #ops", channel="C1")
    took = time.monotonic() - start
    refresher.join(30)

    assert len(rotating.a.posts("C1")) == 1
    assert took < 1.5, f"A's /tip took {took:.2f} s: it waited for B's token refresh"
    assert stored(db).bot_token != old.bot_token


def test_no_database_connection_is_held_while_slack_is_asked_for_a_new_token(
    rotating: World, db: Database, clock: FakeClock
) -> None:
    """No transaction (PostgreSQL's row lock, SQLite's write lock) spans the call to Slack."""
    expiring_in(db, clock, minutes=10)
    old = stored(db)
    rotating.installations.forget_all()
    refresher = rotating.installations.refresher
    assert refresher is not None
    real, held = refresher.refresh, []

    def watched(refresh_token: str) -> Refreshed:
        held.append(db.engine.pool.checkedout())  # type: ignore[attr-defined]
        return real(refresh_token)

    refresher.refresh = watched  # type: ignore[method-assign]
    assert rotating.installations.bot_token(TEAM_B.id) != old.bot_token
    assert held == [0]


def test_a_refresh_whose_answer_is_lost_is_not_sent_again_and_the_workspace_lasts_until_its_token_expires(
    rotating: World, db: Database, clock: FakeClock
) -> None:
    """Slack's refresh tokens are single-use ("the refresh token is then revoked", Slack's token
    rotation guide; the double's too). A refresh whose connection drops after Slack acted (found by
    review: the client retried it, spending the token twice) is sent once. Slack then refuses the
    stored, spent refresh token: the current token serves until it expires, then the workspace is
    paused until it is installed again."""
    due_with_an_expired_token(rotating, db, clock)
    expiring_in(db, clock, minutes=30)  # still good for half an hour
    old = stored(db)
    rotating.a.drop_next("oauth.v2.access")

    assert rotating.installations.bot_token(TEAM_B.id) == old.bot_token

    oauth = rotating.a.oauth
    assert oauth is not None and (oauth.refreshes, oauth.refused_refreshes) == (1, 0)
    rotating.poster.run_due()
    assert len(prompt_posts(rotating.b)) == 1  # on the current token
    expiring_in(db, clock, minutes=-1)
    rotating.installations.forget_all()
    a_minute_on(rotating)
    assert rotating.installations.bot_token(TEAM_B.id) is None  # refused: the refresh token is spent
    assert paused_reason(db) == UNINSTALLED
    assert rotating.install(rotating.b).status == 200
    assert paused_reason(db) is None


def test_two_schedulers_ticking_at_once_on_an_expiring_token_make_one_refresh_and_one_post(
    rotating: World, db: Database, clock: FakeClock, database_url: str
) -> None:
    """Two scheduler processes (own engines, own installation caches) tick at once while B's token
    is about to expire and Slack answers the refresh slowly."""
    clock.now = MONDAY_0730
    assert "every Monday" in peerlearn(rotating.sender_b, "prompts <#C1|general> mon 09:00 Europe/Berlin")
    clock.advance(minutes=30, seconds=5)
    expiring_in(db, clock, minutes=20)
    rotating.a.slow_next("oauth.v2.access", 0.5)
    databases = [Database.connect(database_url) for _ in range(2)]
    posters = []
    for own in databases:
        refresher = TokenRefresher(CLIENT_ID, CLIENT_SECRET, rotating.a.api_url)
        cache = Installations(own, CLIENT_ID, refresher=refresher, clock=clock)
        poster, _ = build_schedulers(rotating.settings, db=own, clock=clock, installations=cache)
        beat_by_hand(poster.heartbeat)
        posters.append(poster)
    start, errors = threading.Barrier(2), []

    def tick(poster: ScheduledPoster) -> None:
        start.wait()
        try:
            poster.run_due()
        except Exception as error:  # the test's own report of either tick's failure
            errors.append(error)

    threads = [threading.Thread(target=tick, args=(poster,)) for poster in posters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for poster in posters:
        poster.release_leadership()
    for own in databases:
        own.dispose()

    assert errors == []
    oauth = rotating.a.oauth
    assert oauth is not None and (oauth.refreshes, oauth.refused_refreshes) == (1, 0)
    assert len(prompt_posts(rotating.b)) == 1
    assert accepted(rotating.a, stored(db).bot_token or "")
