"""Short leases renewed by a heartbeat: a live process keeps long work, a dead one's work resumes
within a minute. Jobs here; the scheduler's posts, rounds and leadership in test_scheduler_leases."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.retry import Attempt
from runtime.jobs import JobQueue, JobWorker
from storage import jobs
from storage.db import Database
from storage.jobs import ClaimedJob, NewJob
from storage.leases import JOB_LEASE
from storage.models import Job
from tests.conftest import FakeClock, beat_by_hand


@pytest.fixture
def db(db: Database) -> Database:
    return db.queue


def enqueue(db: Database, clock: FakeClock, count: int = 1) -> None:
    queue = JobQueue(db, clock)
    for n in range(count):
        queue.enqueue(NewJob("T0TEST", "work", "http", None, f"n={n}"))


def rows(db: Database) -> list[Job]:
    with db.snapshot() as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def ran_by(log: list[tuple[str, int]], name: str) -> Any:
    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        log.append((name, job.attempts))

    return run


def test_a_dead_workers_jobs_run_again_within_a_minute_by_default() -> None:
    worker = JobWorker(Database.connect("sqlite://"), ran_by([], "w"), threads=1)
    assert worker.heartbeat.lease == JOB_LEASE and JOB_LEASE + timedelta(seconds=1) < timedelta(seconds=60)
    assert worker.heartbeat.interval == JOB_LEASE.total_seconds() / 3


def test_a_live_worker_keeps_a_job_that_runs_longer_than_its_lease(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock, 3)
    ran: list[tuple[str, int]] = []
    busy, other = (
        JobWorker(db, ran_by(ran, "busy"), threads=3, clock=clock),
        JobWorker(db, ran_by(ran, "other"), threads=3, clock=clock),
    )
    beat_by_hand(busy.heartbeat, other.heartbeat)
    in_hand = busy._claim(3)  # running: a long circle round, say

    for _ in range(10):  # five minutes of heartbeats, each one UPDATE for the three jobs
        clock.advance(seconds=30)
        assert busy.heartbeat.beat() == 3
        assert other.drain() == 0
    for job in in_hand:
        busy.run_one(job)

    assert ran == [("busy", 1)] * 3 and rows(db) == []


def test_one_update_per_beat_renews_every_job_in_hand(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock, 20)
    worker = JobWorker(db, ran_by([], "w"), threads=20, clock=clock)
    beat_by_hand(worker.heartbeat)
    worker._claim(20)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if " jobs" in statement:  # on PostgreSQL other tests' schedulers may beat on this engine too
            statements.append(statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        clock.advance(seconds=10)
        assert worker.heartbeat.beat() == 20
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    assert statements.count("UPDATE") == 1 and "SELECT" not in statements
    assert {job.due_at for job in rows(db)} == {clock() + JOB_LEASE}


def test_when_the_heartbeat_stops_another_worker_takes_the_jobs_and_the_first_can_settle_none(
    db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue(db, clock, 2)
    ran: list[tuple[str, int]] = []
    dead = JobWorker(db, ran_by(ran, "dead"), threads=2, clock=clock, holder="dead")
    survivor = JobWorker(db, ran_by(ran, "survivor"), threads=2, clock=clock, holder="survivor")
    beat_by_hand(dead.heartbeat, survivor.heartbeat)
    lost = dead._claim(2)  # then the process hangs or dies: no beat

    clock.advance(seconds=29)
    assert survivor.drain() == 0
    clock.advance(seconds=2)
    taken = survivor._claim(2)
    assert dead.heartbeat.beat() == 0 and not dead.heartbeat.held(jobs.renew)  # compare-and-set on the holder
    assert {job.holder for job in rows(db)} == {"survivor"}
    with caplog.at_level(logging.WARNING, "runtime.jobs"):
        dead.run_one(lost[0])  # it wakes up with one in hand: the beat said it is lost, so not started
    for job in taken:
        survivor.run_one(job)

    assert ran == [("survivor", 2), ("survivor", 2)] and rows(db) == []
    assert "not started: its lease ran out before it started; another worker has it" in caplog.text
    with db.writing() as connection:
        assert not jobs.finish(connection, lost[1])  # and a claim it lost settles nothing


def test_the_heartbeat_thread_renews_while_a_job_runs(db: Database) -> None:
    """Real time: a 0.3 s lease, a job of 1.2 s, and a second worker trying to claim it meanwhile."""
    JobQueue(db).enqueue(NewJob("T0TEST", "work", "http", None, "slow=1"))
    started, claims = threading.Event(), []

    def slow(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        started.set()
        time.sleep(1.2)

    busy = JobWorker(db, slow, threads=1, lease=timedelta(seconds=0.3))
    rival = JobWorker(db, ran_by(claims, "rival"), threads=1, lease=timedelta(seconds=0.3))
    runner = threading.Thread(target=busy.drain)
    runner.start()
    assert started.wait(5)
    while runner.is_alive():
        rival.drain()
        time.sleep(0.05)

    assert claims == [] and rows(db) == []
