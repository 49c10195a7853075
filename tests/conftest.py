"""Fixtures shared by every suite: a migrated database, the Slack double, and a built app.

The database is SQLite by default; with TEST_DATABASE_URL pointing at a PostgreSQL server, a
scratch database is created for this run (so parallel runs never collide) and dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import create_engine, text

from bot.circles.rounds import CircleRunner
from bot.pairing.outcomes import RoundKeeper
from bot.pairing.rounds import PairingRunner
from bot.schedules.posting import PostingSettings, ScheduledPoster
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.users import UserDirectory
from runtime.factory import build_app, build_job_worker
from runtime.jobs import JobWorker
from runtime.serving import wsgi_app
from runtime.settings import Settings
from storage.db import Database
from storage.leases import Heartbeat
from storage.migrate import upgrade
from storage.models import Base, Job, RequestKey
from tests.slack_double import BOT_TOKEN, SlackDouble
from tests.slack_sender import SIGNING_SECRET, SlackSender

ADMIN_ID = "U9ADMIN"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'peerlearn-test.db'}"
        return
    name = f"peerlearn_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_db(database_url: str) -> Iterator[Database]:
    database = Database.connect(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    yield migrated_db
    with migrated_db.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
    with migrated_db.queue.transaction() as session:  # SQLite keeps the job queue in a file of its own
        session.execute(Job.__table__.delete())
        session.execute(RequestKey.__table__.delete())


@pytest.fixture
def slack(request: pytest.FixtureRequest) -> Iterator[SlackDouble]:
    """The Slack double with a small workspace. A test fails if the app sent anything Slack would
    refuse as wrongly asked (Block Kit, arguments, scopes), unless it took those with take_problems()."""
    double = SlackDouble().start()
    double.add_user("U1", "alice")
    double.add_user("U2", "bob")
    double.add_user("U3", "carol")
    double.add_user("U4", "dave", is_admin=True)
    double.add_user(ADMIN_ID, "erin")
    double.add_channel("C1", "general", members=("U1", "U2", "U3", "U4"))
    double.add_channel("CNOBOT", "random", members=("U1", "U2"), bot=False)
    double.add_channel("CPRIV", "secret", members=("U1",), bot=False, is_private=True)
    double.add_channel("CARCH", "old-news", members=("U1",), is_archived=True)
    yield double
    problems = double.all_problems  # of every workspace behind it
    double.stop()
    if request.node.get_closest_marker("xfail") is None:  # an xfail test shows a known defect
        assert not problems, f"the app sent Slack what it would refuse: {problems}"


@pytest.fixture
def settings(slack: SlackDouble, database_url: str) -> Settings:
    return Settings(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=database_url,
        admin_user_ids=frozenset({ADMIN_ID}),
    )


class FakeClock:
    """The time the app sees; tests move it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def beat_by_hand(*heartbeats: Heartbeat) -> None:
    """For tests that beat by hand while moving a FakeClock: the background thread's beat would read
    the clock between two moves and, late on a loaded machine, write an expiry from the past."""
    for heartbeat in heartbeats:
        heartbeat.interval = 24 * 3600.0  # read by the thread before each sleep, so before its first beat


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(second=0, microsecond=0))


@pytest.fixture
def client(settings: Settings) -> WebClient:
    return build_client(settings.bot_token, settings.slack_api_url, max_retries=2)


@pytest.fixture
def poster(client: WebClient, db: Database, clock: FakeClock) -> Iterator[ScheduledPoster]:
    """The scheduler's poster, unpaced (pacing has its own tests) and on the test clock, with the
    pairing rounds it runs and keeps."""
    gateway = SlackGateway(client)
    rounds = PairingRunner(db, gateway, UserDirectory(client, frozenset({ADMIN_ID})), clock=clock)
    poster = ScheduledPoster(
        db,
        gateway,
        clock=clock,
        pacer=PostPacer(1e6, 0.0),
        settings=PostingSettings(),
        holder="test-1",
        rounds=rounds.start,
        keeper=RoundKeeper(db, gateway, clock=clock).run_due,
    )
    yield poster
    poster.release_leadership()  # else its heartbeat renews it into the next test


@pytest.fixture
def circle_runner(client: WebClient, db: Database, clock: FakeClock) -> CircleRunner:
    """The circle rounds engine, unpaced and on the test clock."""
    return CircleRunner(
        db, SlackGateway(client), UserDirectory(client, frozenset()), clock=clock, pacer=PostPacer(1e6, 0.0)
    )


@pytest.fixture
def app(
    settings: Settings,
    client: WebClient,
    db: Database,
    clock: FakeClock,
    poster: ScheduledPoster,
    circle_runner: CircleRunner,
) -> Any:
    return build_app(settings, client=client, db=db, clock=clock, poster=poster, circles=circle_runner)


@pytest.fixture
def job_worker(
    settings: Settings,
    client: WebClient,
    db: Database,
    clock: FakeClock,
    poster: ScheduledPoster,
    circle_runner: CircleRunner,
) -> JobWorker:
    """The job worker as deployed (its own Bolt app over the same listeners), run on demand by `drain`."""
    return build_job_worker(
        settings, client=client, db=db, clock=clock, poster=poster, circles=circle_runner, threads=8
    )


@pytest.fixture
def sender(app: Any, db: Database, slack: SlackDouble, job_worker: JobWorker, settings: Settings) -> SlackSender:
    """Signed requests to the app; each returns once the job worker has run the work its ack queued."""
    return SlackSender(wsgi_app(app, db, settings.signing_secret), slack, settle=job_worker.drain)
