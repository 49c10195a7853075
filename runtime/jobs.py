"""The job queue's two ends, Slack-agnostic: the web side enqueues, job workers claim and run.

A worker claims due jobs under a short lease that its heartbeat renews while they run (one UPDATE
per beat for all the jobs in hand; storage/leases.py), runs each through `run` (which rebuilds the
Slack request and hands it to the same listeners; see runtime/serving.py), then settles it: done
(deleted), retried later with backoff when the failure looks transient, or failed for good (logged,
row kept for a while). A worker that dies stops renewing: its jobs are claimed again by another
within JOB_LEASE. Work therefore runs at least once; a retried or re-claimed job repeats only what
its listener did before failing, and event deliveries are deduplicated by event_id in the same
transaction as their effect (storage/events.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.retry import Attempt, RetryPolicy, is_transient
from runtime.maintenance import forget_request_keys
from storage import jobs
from storage.db import Database
from storage.jobs import ClaimedJob, NewJob
from storage.leases import JOB_LEASE, Heartbeat
from storage.models import Job, utcnow

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # idle workers look for due jobs this often (a read; claiming writes)
PRUNE_SECONDS = 60.0  # running workers forget old request keys this often (runtime/maintenance.py)


class _Batch:
    def __init__(self) -> None:
        self.jobs: list[NewJob] = []
        self.written = False
        self.error: BaseException | None = None


class JobQueue:
    """The web side: a job is committed before its request's ack goes out, once per request (a job
    whose key was queued in the last minutes, see storage/jobs.py DriverEnqueuer, is not queued again).

    Requests arriving together share one transaction (group commit): while one thread writes, the
    jobs of the others gather in the next batch, which the first of them to get the turn writes for
    all. Each request still waits for its own job's commit, but the web process takes the database's
    write lock once per batch instead of once per request (on SQLite it shares that lock with the
    job worker, whose turns it would otherwise wait behind each time).
    """

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._enqueuer = jobs.DriverEnqueuer(db.engine.dialect)
        self._gathering = threading.Lock()
        self._batch = _Batch()
        self._writing = threading.Lock()

    def enqueue(self, job: NewJob) -> None:
        with self._gathering:
            batch = self._batch
            batch.jobs.append(job)
        with self._writing:
            if not batch.written and batch.error is None:
                with self._gathering:
                    self._batch = _Batch()  # later arrivals gather in the next one
                self._write(batch)
        if batch.error is not None:
            raise batch.error

    def _write(self, batch: _Batch) -> None:
        try:
            with self.db.driver_transaction() as cursor:
                queued = self._enqueuer.enqueue_many(cursor, batch.jobs, self.clock())
        except BaseException as error:
            batch.error = error
            raise
        batch.written = True
        if queued < len(batch.jobs):
            replays = len(batch.jobs) - queued
            log.info("%s request(s) seen before (replayed or delivered again): acknowledged, not queued again", replays)


# Runs one claimed job; returns a problem when no listener ran it (the listener's own failure is
# recorded on the Attempt instead).
RunJob = Callable[[ClaimedJob, Attempt], str | None]


class JobWorker:
    def __init__(
        self,
        db: Database,
        run: RunJob,
        *,
        threads: int,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = JOB_LEASE,
        policy: RetryPolicy | None = None,
        holder: str | None = None,
    ) -> None:
        self.db = db
        self._run = run
        self.threads = threads
        self.clock = clock
        self.policy = policy or RetryPolicy()
        # Renews the lease of every job in hand; a job claimed is held until it is settled.
        self.heartbeat = Heartbeat(db, holder, lease=lease, clock=clock)
        self.holder = self.heartbeat.holder
        self._idle = threading.Condition()
        self._running = 0

    def run_until(self, stop: threading.Event) -> None:
        """Claim and run jobs, `threads` at a time, until `stop` is set; jobs in hand are finished."""
        log.info("job worker %s: %s threads", self.holder, self.threads)
        next_prune = time.monotonic()
        with ThreadPoolExecutor(self.threads, thread_name_prefix="job") as pool:
            while not stop.is_set():
                if time.monotonic() >= next_prune:
                    forget_request_keys(self.db, self.clock())
                    next_prune = time.monotonic() + PRUNE_SECONDS
                with self._idle:
                    free = self.threads - self._running
                    if not free:
                        self._idle.wait(POLL_SECONDS)
                        continue
                claimed = self._claim(free) if self._anything_due() else []
                if not claimed:
                    stop.wait(POLL_SECONDS)
                    continue
                with self._idle:
                    self._running += len(claimed)
                for job in claimed:
                    pool.submit(self._run_counted, job)
        log.info("job worker %s stopped", self.holder)

    def drain(self) -> int:
        """Run every job due now, and those they enqueue, before returning (tests, benchmarks).

        With one thread the jobs run in the calling thread, so its CPU time is theirs.
        """
        ran = 0
        with ThreadPoolExecutor(self.threads, thread_name_prefix="job-drain") as pool:
            while claimed := self._claim(self.threads):
                if self.threads == 1:
                    self.run_one(claimed[0])
                else:
                    list(pool.map(self.run_one, claimed))
                ran += len(claimed)
        return ran

    def _run_counted(self, job: ClaimedJob) -> None:
        try:
            self.run_one(job)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify()

    def _anything_due(self) -> bool:
        with self.db.snapshot() as session:
            return session.scalar(select(Job.id).where(Job.due_at <= self.clock()).limit(1)) is not None

    def _claim(self, limit: int) -> list[ClaimedJob]:
        with self.db.writing() as connection:
            claimed = jobs.claim(connection, self.holder, self.clock(), self.heartbeat.lease, limit)
        for job in claimed:
            self.heartbeat.hold(jobs.renew, job.id)
        return claimed

    def run_one(self, job: ClaimedJob) -> None:
        try:
            self._run_and_settle(job)
        finally:
            self.heartbeat.release(jobs.renew, job.id)

    def _run_and_settle(self, job: ClaimedJob) -> None:
        if job.attempts > self.policy.max_attempts:  # claimed again after workers died running it
            self._fail(job, f"its worker stopped while running it {job.attempts - 1} times")
            return
        attempt = Attempt(number=job.attempts, final=job.attempts >= self.policy.max_attempts)
        try:
            problem = self._run(job, attempt)
        except Exception as error:  # the dispatch machinery itself (listeners' errors land on `attempt`)
            log.exception("job %s (%s) could not be dispatched", job.id, job.listener)
            attempt.will_retry(error)
            problem = None
        if problem is not None:
            self._fail(job, problem)
        elif attempt.error is None:
            with self.db.writing() as connection:
                finished = jobs.finish(connection, job)
            if not finished:
                log.warning(
                    "job %s (%s) ran, but its lease had run out and another worker claimed it: it may run again",
                    job.id, job.listener,
                )  # fmt: skip
        elif attempt.final or not is_transient(attempt.error):
            self._fail(job, repr(attempt.error))
        else:
            delay = self.policy.delay(attempt.number)
            with self.db.writing() as connection:
                jobs.retry_at(connection, job, self.clock() + delay, repr(attempt.error))
            log.warning(
                "job %s (%s) team=%s attempt %s failed: %r; retrying in %s s",
                job.id, job.listener, job.team_id, attempt.number, attempt.error, delay.total_seconds(),
            )  # fmt: skip

    def _fail(self, job: ClaimedJob, error: str) -> None:
        with self.db.writing() as connection:
            jobs.fail(connection, job, error)
        log.error(
            "job %s (%s) team=%s failed for good after %s attempt(s): %s",
            job.id, job.listener, job.team_id, job.attempts, error,
        )  # fmt: skip
