"""Token rotation (manifest.oauth.yml): bot tokens expire, and Peerlearn refreshes them before they do,
for Slack's requests and for the scheduler's and job worker's own calls; two processes refreshing at
once make one refresh, and a refresh Slack refuses stores nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.slack.installations import Installations, TokenRefresher
from storage.db import Database
from storage.installations import naive
from storage.models import SlackBot, SlackInstallation
from tests.conftest import FakeClock
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
