"""The job queue on both databases: claims under concurrency, leases, retries, failures."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from bot.retry import Attempt, RetryPolicy
from bot.slack.ratelimits import RateLimited
from runtime.jobs import JobQueue, JobWorker
from runtime.maintenance import forget_request_keys
from storage import jobs
from storage.db import Database
from storage.jobs import ClaimedJob, NewJob
from storage.models import Job, utcnow
from tests.conftest import FakeClock, beat_by_hand


@pytest.fixture
def db(db: Database) -> Database:
    """The job queue's database: the app's on PostgreSQL, a file of its own beside it on SQLite."""
    return db.queue


def enqueue(db: Database, clock: FakeClock, count: int = 1, listener: str = "work") -> None:
    queue = JobQueue(db, clock)
    for n in range(count):
        queue.enqueue(NewJob("T0TEST", listener, "http", "application/x-www-form-urlencoded", f"n={n}"))


def rows(db: Database) -> list[Job]:
    with db.snapshot() as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def test_two_workers_never_run_a_job_twice(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock, 300)
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        with lock:
            ran[job.id] += 1

    workers = [JobWorker(db, run, threads=4, clock=clock, holder=f"w{n}") for n in range(2)]
    with ThreadPoolExecutor(2) as pool:
        drained = list(pool.map(lambda worker: worker.drain(), workers))

    assert sum(drained) == 300 and len(ran) == 300 and set(ran.values()) == {1}
    assert rows(db) == []


def test_a_job_whose_worker_died_is_claimed_again_when_its_lease_runs_out(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock)
    with db.writing() as connection:
        (lost,) = jobs.claim(connection, "dead-worker", clock(), timedelta(minutes=5), 10)
    ran: list[int] = []

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        ran.append(job.attempts)

    survivor = JobWorker(db, run, threads=1, clock=clock)
    clock.advance(minutes=4)
    assert survivor.drain() == 0 and ran == []
    clock.advance(minutes=2)
    assert survivor.drain() == 1 and ran == [2]
    assert rows(db) == []
    with db.writing() as connection:
        assert not jobs.finish(connection, lost)  # the dead worker's claim can settle nothing


def transient() -> OperationalError:
    return OperationalError("INSERT INTO tips", {}, Exception("database is locked"))


def test_a_transient_failure_is_retried_with_backoff_then_succeeds(
    db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue(db, clock)
    outcomes = [transient(), None]

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        if error := outcomes.pop(0):
            attempt.will_retry(error)

    worker = JobWorker(db, run, threads=1, clock=clock, policy=RetryPolicy(first_delay=timedelta(seconds=10)))
    with caplog.at_level(logging.WARNING, "runtime.jobs"):
        assert worker.drain() == 1
    (waiting,) = rows(db)
    assert waiting.state == "queued" and waiting.attempts == 1 and "database is locked" in str(waiting.last_error)
    assert "attempt 1 failed" in caplog.text and "retrying in 10.0 s" in caplog.text
    clock.advance(seconds=9)
    assert worker.drain() == 0
    clock.advance(seconds=1)
    assert worker.drain() == 1 and outcomes == [] and rows(db) == []


def test_retries_run_out_and_the_job_is_marked_failed_and_logged(
    db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue(db, clock)
    finals: list[bool] = []

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        finals.append(attempt.final)
        attempt.will_retry(transient())

    worker = JobWorker(db, run, threads=1, clock=clock, policy=RetryPolicy(max_attempts=3))
    with caplog.at_level(logging.WARNING, "runtime.jobs"):
        for _ in range(5):
            worker.drain()
            clock.advance(minutes=10)

    assert finals == [False, False, True]
    (failed,) = rows(db)
    assert failed.state == "failed" and failed.due_at is None and failed.attempts == 3
    assert "failed for good after 3 attempt(s)" in caplog.text and "database is locked" in caplog.text


def test_a_bug_is_not_retried(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock)
    calls: list[int] = []

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        calls.append(job.attempts)
        attempt.will_retry(KeyError("user_id"))

    worker = JobWorker(db, run, threads=1, clock=clock)
    worker.drain()
    clock.advance(hours=1)
    worker.drain()

    assert calls == [1] and rows(db)[0].state == "failed"


def test_a_job_that_keeps_killing_its_worker_is_given_up(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock)
    for _ in range(3):
        with db.writing() as connection:
            assert jobs.claim(connection, "crashing", clock(), timedelta(minutes=5), 1)
        clock.advance(minutes=6)
    ran: list[int] = []
    worker = JobWorker(db, lambda job, attempt: ran.append(job.id), threads=1, clock=clock, policy=RetryPolicy(3))

    worker.drain()

    assert ran == [] and rows(db)[0].state == "failed"
    assert "stopped while running it 3 times" in str(rows(db)[0].last_error)


def test_a_job_no_listener_takes_is_failed(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock, listener="renamed_since")
    worker = JobWorker(db, lambda job, attempt: f"no listener named {job.listener}", threads=1, clock=clock)

    worker.drain()

    assert rows(db)[0].state == "failed" and "renamed_since" in str(rows(db)[0].last_error)


def test_a_worker_runs_jobs_until_stopped(db: Database) -> None:
    ran = threading.Event()

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        ran.set()

    worker = JobWorker(db, run, threads=2)
    stop = threading.Event()
    loop = threading.Thread(target=worker.run_until, args=(stop,))
    loop.start()
    JobQueue(db).enqueue(NewJob("T0TEST", "work", "http", None, "x=1"))
    assert ran.wait(5)
    stop.set()
    loop.join(5)
    assert not loop.is_alive() and rows(db) == []


def test_failed_jobs_are_forgotten_after_a_while(db: Database, clock: FakeClock) -> None:
    enqueue(db, clock, 2)
    with db.writing() as connection:
        first, _ = jobs.claim(connection, "w", clock(), timedelta(minutes=5), 2)
        jobs.fail(connection, first, "boom")
    with db.transaction() as session:
        assert jobs.forget_failed_before(session, clock() + timedelta(seconds=1)) == 1
    with db.writing() as connection:
        assert jobs.backlog(connection) == {"running": 1}


def test_concurrent_requests_each_return_once_their_job_is_committed(db: Database, clock: FakeClock) -> None:
    queue = JobQueue(db, clock)

    def request(n: int) -> bool:
        queue.enqueue(NewJob("T0TEST", "work", "http", None, f"n={n}"))
        with db.snapshot() as session:  # another connection: sees only what was committed
            return session.scalar(select(Job.id).where(Job.body == f"n={n}")) is not None

    with ThreadPoolExecutor(16) as pool:
        committed = list(pool.map(request, range(200)))

    assert all(committed) and len(rows(db)) == 200


def test_a_request_whose_job_cannot_be_stored_fails_and_the_next_is_stored(db: Database, clock: FakeClock) -> None:
    queue = JobQueue(db, clock)
    too_long = "x" * 200  # listener is VARCHAR(128): PostgreSQL refuses it; SQLite does not check lengths
    if db.dialect == "sqlite":
        pytest.skip("SQLite stores over-long strings")
    with pytest.raises(Exception, match="too long"):
        queue.enqueue(NewJob("T0TEST", too_long, "http", None, "x=1"))
    queue.enqueue(NewJob("T0TEST", "work", "http", None, "x=2"))
    assert [job.body for job in rows(db)] == ["x=2"]


def test_a_request_seen_before_is_not_queued_again_and_spoils_no_other_job_of_its_batch(
    db: Database, clock: FakeClock
) -> None:
    queue = JobQueue(db, clock)

    def request(n: int) -> None:  # 100 requests, each arriving twice (a replay), all at once
        queue.enqueue(NewJob("T0TEST", "work", "http", None, f"n={n // 2}", key=f"t:{n // 2}:work"))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(request, range(200)))

    assert sorted(job.body for job in rows(db)) == sorted(f"n={n}" for n in range(100))


def test_a_large_batch_queues_each_new_key_once_in_order(db: Database, clock: FakeClock) -> None:
    enqueuer = jobs.DriverEnqueuer(db.engine.dialect)

    def job(n: int) -> NewJob:
        return NewJob("T0TEST", "work", "http", None, f"n={n}", key=f"t:{n}:work")

    with db.driver_transaction() as cursor:
        assert enqueuer.enqueue_many(cursor, [job(n) for n in range(0, 150)], clock()) == 150
    with db.driver_transaction() as cursor:  # 100 seen before, one twice in the batch, 150 new
        batch = [job(n) for n in range(50, 300)] + [job(299)]
        assert enqueuer.enqueue_many(cursor, batch, clock()) == 150

    assert [job.body for job in rows(db)] == [f"n={n}" for n in range(300)]
    assert {job.state for job in rows(db)} == {"queued"}


def test_a_request_key_outlives_its_job_until_the_upkeep_forgets_it(db: Database, clock: FakeClock) -> None:
    queue = JobQueue(db, clock)
    worker = JobWorker(db, lambda job, attempt: setattr(attempt, "started", True), threads=1, clock=clock)
    queue.enqueue(NewJob("T0TEST", "work", "http", None, "x=1", key="e:1:work"))
    assert worker.drain() == 1 and rows(db) == []  # done, and deleted

    clock.advance(minutes=5)  # the end of Slack's replay window
    queue.enqueue(NewJob("T0TEST", "work", "http", None, "x=1", key="e:1:work"))
    queue.enqueue(NewJob("T0TEST", "other", "http", None, "x=1", key="e:1:other"))  # another listener's job
    assert [job.listener for job in rows(db)] == ["other"]

    clock.advance(minutes=6)
    assert forget_request_keys(db, clock()) == 1  # `other`'s key is younger
    queue.enqueue(NewJob("T0TEST", "work", "http", None, "x=1", key="e:1:work"))
    assert [job.listener for job in rows(db)] == ["other", "work"]


def run_in_background(worker: JobWorker) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    loop = threading.Thread(target=worker.run_until, args=(stop,))
    loop.start()
    return stop, loop


def wait_until_empty(db: Database, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while rows(db) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_busy_worker_claims_and_settles_jobs_in_batches(db: Database) -> None:
    """The queue's own writes are not the work: one transaction settles the jobs just finished and
    claims the next ones, a batch at a time (before: a claim, and a delete, for every job)."""
    enqueue(db, FakeClock(utcnow()), 96)
    ran: Counter[int] = Counter()
    transactions: list[int] = []
    event.listen(db.engine, "commit", lambda _connection: transactions.append(1))

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        time.sleep(0.002)  # a job's own work: the others go on meanwhile
        ran[job.id] += 1

    worker = JobWorker(db, run, threads=16)
    stop, loop = run_in_background(worker)
    wait_until_empty(db)
    stop.set()
    loop.join(10)

    assert len(ran) == 96 and set(ran.values()) == {1} and rows(db) == []
    assert len(transactions) <= 96 // 2, f"{len(transactions)} transactions for 96 jobs"


def test_a_worker_waits_out_a_database_that_is_away_for_a_moment(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Claims and settles that fail are tried again: nothing run is lost or run twice, and the worker
    does not die with the database's blip."""
    enqueue(db, FakeClock(utcnow()), 3)
    claim, finish_many = jobs.claim, jobs.finish_many
    failures = {"claim": 2, "finish_many": 2}

    def flaky(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if failures[name]:
                failures[name] -= 1
                raise transient()
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(jobs, "claim", flaky("claim", claim))
    monkeypatch.setattr(jobs, "finish_many", flaky("finish_many", finish_many))
    ran: Counter[int] = Counter()

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        ran[job.id] += 1

    with caplog.at_level(logging.WARNING, "runtime.jobs"):
        stop, loop = run_in_background(JobWorker(db, run, threads=2))
        wait_until_empty(db)
        stop.set()
        loop.join(10)

    assert not loop.is_alive() and failures == {"claim": 0, "finish_many": 0}
    assert len(ran) == 3 and set(ran.values()) == {1} and rows(db) == []
    assert "cannot reach the queue" in caplog.text


def test_a_worker_on_a_deep_queue_claims_ahead_in_larger_batches(db: Database) -> None:
    """While the queue is deep, a worker claims twice its usual batch while all its threads are
    still busy: the jobs wait in hand (held) for the next thread free, never more than half its
    threads' worth beyond them, and the queue is written about once per half the threads' jobs."""
    enqueue(db, FakeClock(utcnow()), 192)
    ran: Counter[int] = Counter()
    transactions: list[int] = []
    in_hand: list[int] = []
    event.listen(db.engine, "commit", lambda _connection: transactions.append(1))

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        with db.snapshot() as session:
            in_hand.append(len(list(session.scalars(select(Job.id).where(Job.state == "running")))))
        time.sleep(0.005)
        ran[job.id] += 1

    worker = JobWorker(db, run, threads=16)
    stop, loop = run_in_background(worker)
    wait_until_empty(db)
    stop.set()
    loop.join(10)

    assert len(ran) == 192 and set(ran.values()) == {1} and rows(db) == []
    assert 16 < max(in_hand) <= 16 + worker.deep_batch, max(in_hand)
    assert len(transactions) <= 192 // worker.deep_batch + 4, f"{len(transactions)} transactions for 192 jobs"


def test_a_job_whose_lease_was_lost_while_it_waited_in_hand_is_not_started(db: Database, clock: FakeClock) -> None:
    # Claimed ahead, a job waits in hand for a thread; if the queue was away for longer than its lease
    # meanwhile, another worker claims it and the next beat says so: starting it would run it twice.
    enqueue(db, clock)
    ran: list[int] = []

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        ran.append(job.id)

    worker = JobWorker(db, run, threads=1, clock=clock, holder="slow")
    beat_by_hand(worker.heartbeat)
    with db.writing() as connection:
        (in_hand,) = jobs.claim(connection, worker.holder, clock(), worker.heartbeat.lease, 10)
    worker.heartbeat.hold(jobs.renew, in_hand.id)
    clock.advance(seconds=worker.heartbeat.lease.total_seconds() + 1)
    with db.writing() as connection:
        (taken,) = jobs.claim(connection, "other", clock(), worker.heartbeat.lease, 10)
    worker.heartbeat.beat()  # the database says the lease is no longer "slow"'s

    outcome = worker._execute(in_hand)
    assert outcome.lost and ran == []
    assert worker._settle_and_claim([outcome], 0) == []
    (row,) = rows(db)
    assert (row.id, row.state, row.attempts) == (taken.id, "running", taken.attempts)  # the other's claim stands


def test_a_rate_limited_job_goes_back_uncounted_and_holds_only_its_workspace(db: Database, clock: FakeClock) -> None:
    """A 429 (RateLimited) puts the job back for its Retry-After without using an attempt, and the
    worker claims none of that workspace's jobs meanwhile; another workspace's run at once."""
    queue = JobQueue(db, clock)
    for team, n in (("T0BUSY", 0), ("T0BUSY", 1), ("T0QUIET", 2)):
        queue.enqueue(NewJob(team, "work", "http", "application/x-www-form-urlencoded", f"n={n}"))
    ran: list[tuple[str, int]] = []
    limited = [True]

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        ran.append((job.team_id, job.attempts))
        if job.team_id == "T0BUSY" and limited[0]:
            limited[0] = False
            attempt.will_retry(RateLimited("chat.postMessage", 30, job.team_id))

    worker = JobWorker(db, run, threads=1, clock=clock)
    assert worker.drain() == 3  # claimed together: the busy workspace's second job is not run
    assert ran == [("T0BUSY", 1), ("T0QUIET", 1)]
    busy = [job for job in rows(db) if job.team_id == "T0BUSY"]
    assert [(job.state, job.attempts, job.due_at) for job in busy] == [
        ("queued", 0, clock() + timedelta(seconds=30))
    ] * 2
    clock.advance(seconds=10)
    queue.enqueue(NewJob("T0BUSY", "work", "http", "application/x-www-form-urlencoded", "n=3"))
    assert worker.drain() == 0  # due, but its workspace is held: not claimed
    clock.advance(seconds=20)
    assert worker.drain() == 3 and rows(db) == []
    assert sorted(ran[2:]) == [("T0BUSY", 1)] * 3  # the 429 used no attempt


def test_a_job_put_back_due_at_once_and_claimed_again_in_the_same_write_runs(db: Database, clock: FakeClock) -> None:
    """Retry-After: 0 puts the job back due now, and the transaction that settles it claims it again:
    its new claim is held (renewed), not released with the old one's settling (which left it 'lost')."""
    enqueue(db, clock)
    ran: list[int] = []

    def run(job: ClaimedJob, attempt: Attempt) -> None:
        attempt.started = True
        ran.append(job.attempts)
        if len(ran) == 1:
            attempt.will_retry(RateLimited("files.getUploadURLExternal", 0, job.team_id))

    assert JobWorker(db, run, threads=1, clock=clock).drain() == 2
    assert ran == [1, 1] and rows(db) == []
