"""The scheduler role as deployed: separate processes, a shared database, exactly one post per period."""

from __future__ import annotations

import signal
import time
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage.db import Database
from storage.models import Schedule, ScheduledPost, SchedulerLease
from tests.process.test_app_process import run_app
from tests.slack_double import BOT_TOKEN, TEAM_ID, SlackDouble
from tests.slack_sender import SIGNING_SECRET

CHANNELS = 30


def due_schedules(db: Database, count: int) -> None:
    """`count` daily prompt schedules whose time today was five minutes ago (UTC)."""
    now = datetime.now(UTC)
    fired = now - timedelta(minutes=5)
    with db.transaction() as session:
        for n in range(count):
            session.add(
                Schedule(
                    team_id=TEAM_ID, channel_id=f"C{n:04d}", kind="prompt", cadence="daily", weekday=None,
                    at_time=fired.strftime("%H:%M"), zone="UTC", anchor=None, scope="workspace",
                    configured_by="U4", created_at=now - timedelta(days=1), updated_at=now - timedelta(days=1),
                )
            )  # fmt: skip


@pytest.fixture
def scheduler_db(database_url: str, db: Database) -> Database:
    # Through `db`, which empties every table afterwards: the schedules this test leaves once made
    # the next file that adds the same ones fail at its setup, when no `db` test ran in between.
    with db.transaction() as session:
        session.execute(ScheduledPost.__table__.delete())
        session.execute(Schedule.__table__.delete())
    return db


def test_two_scheduler_processes_post_each_period_exactly_once(
    tmp_path: Path, database_url: str, scheduler_db: Database
) -> None:
    if datetime.now(UTC).strftime("%H:%M") < "00:06" or date.today() != datetime.now(UTC).date():
        pytest.skip("too close to midnight UTC for 'five minutes ago today'")
    double = SlackDouble().start()
    for n in range(CHANNELS):
        double.add_channel(f"C{n:04d}", f"team-{n}")
    due_schedules(scheduler_db, CHANNELS)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": database_url,
        "PEERLEARN_ROLE": "scheduler",
    }
    processes = [run_app(env, tmp_path), run_app(env, tmp_path)]
    try:
        double.wait_for(lambda: len(double.posts()) >= CHANNELS, timeout=60, message="every channel's prompt")
        time.sleep(2)  # time for a duplicate to show up, if there were to be one
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=30) for process in processes]
        double.stop()

    assert [process.returncode for process in processes] == [0, 0], outputs
    per_channel = sorted(post["channel"] for post in double.posts())
    assert per_channel == [f"C{n:04d}" for n in range(CHANNELS)]
    with scheduler_db.snapshot() as session:
        posted = session.scalar(select(func.count()).select_from(ScheduledPost).where(ScheduledPost.status == "posted"))
    assert posted == CHANNELS
    assert all("Traceback" not in stderr for _, stderr in outputs)


def test_scheduler_role_flag_ticks_at_start_and_stops_on_sigterm(tmp_path: Path) -> None:
    double = SlackDouble().start()
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double.api_url,
        "DATABASE_URL": url,
    }
    process = run_app(env, tmp_path, "--role", "scheduler")
    fresh = Database.connect(url)
    try:
        # The first tick runs at start and takes the lease: proof the scheduler is alive.
        deadline = time.monotonic() + 30
        holders: list[str] = []
        while not holders and time.monotonic() < deadline:
            time.sleep(0.2)
            with suppress(OperationalError), fresh.snapshot() as session:  # tables appear while it migrates
                holders = list(session.scalars(select(SchedulerLease.holder)))
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        double.stop()
        fresh.dispose()

    assert holders and f":{process.pid}:" in holders[0]
    assert process.returncode == 0, stderr
    assert "scheduler role" in stderr and "scheduler stopped" in stderr
