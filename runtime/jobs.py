"""The job queue's two ends, Slack-agnostic: the web side enqueues, job workers claim and run.

A worker claims due jobs under a short lease that its heartbeat renews while they run (one UPDATE
per beat for all the jobs in hand; storage/leases.py), runs each through `run` (which rebuilds the
Slack request and hands it to the same listeners; see runtime/serving.py), then settles it: done
(deleted), retried later with backoff when the failure looks transient, or failed for good (logged,
row kept for a while; the request key `given_back` names for it forgotten in the same transaction,
so the person's next click is queued again instead of taken for a double click). A worker that
dies stops renewing: its jobs are claimed again by another within JOB_LEASE. Work therefore runs
at least once; a retried or re-claimed job repeats only what its listener did before failing, and
event deliveries are deduplicated by event_id in the same transaction as their effect
(storage/events.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError

from bot.retry import Attempt, RetryPolicy, is_transient
from bot.slack.ratelimits import deferring_rate_limits, retry_after
from runtime.maintenance import forget_request_keys
from storage import jobs
from storage.db import Database
from storage.jobs import ClaimedJob, NewJob
from storage.leases import JOB_LEASE, Heartbeat
from storage.models import utcnow

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # idle workers look for due jobs this often (a read; claiming writes)
DRAIN_CLAIM = 8  # `drain` claims at least this many at a time, as `run_until` does with 32 threads
SETTLE_SECONDS = 0.05  # a finished job's row waits at most this long to be written with others'
PRUNE_SECONDS = 60.0  # running workers forget old request keys this often (runtime/maintenance.py)
# A job Slack answers 429 goes back to the queue for the Retry-After, not counted as an attempt,
# while it is younger than this; past it a 429 counts like any passing failure (a job whose own
# calls keep running into the limit ends).
DEFER_RATE_LIMITED_FOR = timedelta(minutes=15)


class _Batch:
    def __init__(self) -> None:
        self.jobs: list[NewJob] = []
        self.done = threading.Event()
        self.error: BaseException | None = None


class JobQueue:
    """The web side: a job is committed before its request's ack goes out, once per request (a job
    whose key was queued in the last minutes, see storage/jobs.py DriverEnqueuer, is not queued again).

    Requests arriving together share one transaction (group commit). The first job of a batch makes
    its request the batch's writer: it waits for the write before it to end, meanwhile the jobs of
    other requests join its batch, then it closes the batch and writes it for all. The others only
    wait for that write (an event, no lock). Each request still waits for its own job's commit, but
    the web process takes the database's write lock once per batch instead of once per request (on
    SQLite it shares that lock with the job worker, whose turns it would otherwise wait behind each
    time).
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
            writes = len(batch.jobs) == 1
        if writes:
            with self._writing:
                with self._gathering:
                    self._batch = _Batch()  # later arrivals gather in the next one
                try:
                    self._write(batch)
                finally:
                    batch.done.set()
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error

    def _write(self, batch: _Batch) -> None:
        try:
            with self.db.driver_transaction() as cursor:
                queued = self._enqueuer.enqueue_many(cursor, batch.jobs, self.clock())
        except BaseException as error:
            batch.error = error
            return
        if queued < len(batch.jobs):
            replays = len(batch.jobs) - queued
            log.info("%s request(s) seen before (replayed or delivered again): acknowledged, not queued again", replays)


# Runs one claimed job; returns a problem when no listener ran it (the listener's own failure is
# recorded on the Attempt instead).
RunJob = Callable[[ClaimedJob, Attempt], str | None]
# The request key a job gives back when it fails for good (None: its key keeps deduplicating).
GivenBack = Callable[[ClaimedJob], str | None]


@dataclass(frozen=True)
class Outcome:
    """What running a job came to, for the transaction that settles it with others."""

    job: ClaimedJob
    error: str | None = None  # None: done
    retry_at: datetime | None = None  # with an error: tried again then; without: failed for good
    counted: bool = True  # False: turned away by a 429 (retry_at: after its Retry-After), no attempt used
    lost: bool = False  # not started: its lease was lost while it waited in hand (not ours to settle)


class JobWorker:
    """Claims due jobs in batches, runs them on `threads` threads, and settles them in batches.

    Claiming and settling are the queue's own writes, not the work: each is one transaction for a
    batch, and the transaction that settles the jobs just finished also claims the next ones. A
    batch is claimed once a quarter of the threads is free (or all of them), so a busy worker writes
    the queue about twice per `threads / 4` jobs instead of three times per job (while the queue is
    deep, once per `threads / 2`, claimed ahead: see run_until), and an idle one
    reads (does anything look due?) every POLL_SECONDS. A finished job waits at most SETTLE_SECONDS
    for its row to go, its lease renewed meanwhile; each settle is still a compare-and-set on its own
    claim, and if the worker dies first the job runs again, as after any crash (its effects are
    made once: see storage/jobs.py and bot/slack/requests.py).
    """

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
        given_back: GivenBack | None = None,
    ) -> None:
        self.db = db
        self._run = run
        self._given_back = given_back
        self.threads = threads
        self.batch = max(1, threads // 4)
        # While the queue is deep: a batch twice that, claimed ahead (see run_until).
        self.deep_batch = max(1, threads // 2)
        self.clock = clock
        self.policy = policy or RetryPolicy()
        # Renews the lease of every job in hand; a job claimed is held until it is settled.
        self.heartbeat = Heartbeat(db, holder, lease=lease, clock=clock)
        self.holder = self.heartbeat.holder
        # Workspaces Slack answered 429, until their Retry-After has passed: none of their jobs is
        # claimed meanwhile, the other workspaces' are (the threads are everyone's).
        self._held: dict[str, datetime] = {}
        self._held_lock = threading.Lock()

    def run_until(self, stop: threading.Event) -> None:
        """Claim and run jobs, `threads` at a time, until `stop` is set; jobs in hand are finished."""
        log.info(
            "job worker %s: %s threads, claiming %s or more at a time (%s ahead while the queue is deep)",
            self.holder, self.threads, self.batch, self.deep_batch,
        )  # fmt: skip
        runners = _Runners(self.threads, self._execute, wake_at=self.batch)
        unsettled: list[Outcome] = []  # finished, their rows not yet written
        next_prune = next_look = since = time.monotonic()
        more = False  # the last claim took all it asked for: more may be waiting
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_prune:
                    next_prune = now + PRUNE_SECONDS
                    self._prune()
                if (finished := runners.take_finished()) and not unsettled:
                    since = now
                unsettled += finished
                # A deep queue (the last claim took all it asked for): claim and settle `deep_batch`
                # at a time, and claim it while as many jobs are still running as there are threads,
                # so the jobs claimed wait in hand (held, their leases renewed) for the threads that
                # free up instead of threads waiting for a claim. Half the queue's writes per job
                # (each costs the more CPU the more threads there are to switch between) and no idle
                # thread; shallow, a batch is claimed once a quarter of the threads is free, so no
                # worker holds jobs another could start.
                batch = self.deep_batch if more else self.batch
                runners.set_wake(batch, self.threads if more else self.threads - self.batch)
                free = max(0, self.threads + (batch if more else 0) - runners.running())
                want = free if free >= batch or free == self.threads else 0
                if want and not more:  # the queue looked empty: a read, now and then, before a write
                    if now < next_look:
                        want = 0
                    elif not self._anything_due():
                        want, next_look = 0, now + POLL_SECONDS
                settle = len(unsettled) >= batch or (unsettled and now - since >= SETTLE_SECONDS)
                if not want and not settle:
                    wake = since + SETTLE_SECONDS if unsettled else (now + POLL_SECONDS if more else next_look)
                    runners.wait(min(max(wake - now, 0.001), POLL_SECONDS))
                    continue
                if settle and more and not want:  # written anyway: the free threads take jobs too
                    want = free
                claimed = self._settle_and_claim(unsettled, want)
                if claimed is None:  # the database is away: the finished stay in hand, held; a moment
                    stop.wait(POLL_SECONDS)
                    continue
                unsettled = []
                if want:  # a settle alone says nothing of the queue's depth
                    more = len(claimed) == want
                if want and not more:
                    next_look = time.monotonic() + POLL_SECONDS
                runners.start(claimed)
        finally:
            runners.close()  # the jobs in hand run to their end
            if self._settle_and_claim(unsettled + runners.take_finished(), 0) is None:
                log.warning("job worker %s stopped with jobs unsettled: they run again after their lease", self.holder)
        log.info("job worker %s stopped", self.holder)

    def drain(self) -> int:
        """Run every job due now, and those they enqueue, before returning (tests, benchmarks).

        With one thread the jobs run in the calling thread, so its CPU time is theirs. Claims are of
        a busy worker's size (DRAIN_CLAIM), so the queue's share of that CPU is a busy worker's too.
        """
        ran = 0
        finished: list[Outcome] = []
        with ThreadPoolExecutor(self.threads, thread_name_prefix="job-drain") as pool:
            while claimed := self._settle_and_claim(finished, max(self.threads, DRAIN_CLAIM), quiet=False):
                finished = (
                    [self._execute(job) for job in claimed]
                    if self.threads == 1
                    else [*pool.map(self._execute, claimed)]
                )
                ran += len(claimed)
        return ran

    def run_one(self, job: ClaimedJob) -> None:
        """Run one job this worker claimed (`_claim`) and settle it at once."""
        self._settle_and_claim([self._execute(job)], 0, quiet=False)

    def _claim(self, limit: int) -> list[ClaimedJob]:
        return self._settle_and_claim([], limit, quiet=False) or []

    def _prune(self) -> None:
        try:
            forget_request_keys(self.db, self.clock())
        except (OperationalError, InterfaceError) as error:
            log.warning("job worker %s could not forget old request keys: %r; next time", self.holder, error)

    def _anything_due(self) -> bool:
        try:
            with self.db.snapshot() as session:
                return jobs.any_due(session, self.clock(), self._held_now())
        except (OperationalError, InterfaceError) as error:
            log.warning("job worker %s cannot read the queue: %r", self.holder, error)
            return False

    def _settle_and_claim(self, finished: list[Outcome], limit: int, *, quiet: bool = True) -> list[ClaimedJob] | None:
        """One write transaction: settle `finished`, then claim up to `limit` due jobs. None when the
        database could not be reached (`quiet`; the finished jobs stay in hand for the next try)."""
        if not finished and not limit:
            return []
        keys = self._keys_given_back(finished)
        try:
            with self.db.writing() as connection:
                gone = jobs.finish_many(connection, [outcome.job for outcome in finished if outcome.error is None])
                for outcome in finished:
                    if outcome.lost:
                        continue
                    if outcome.error is not None and outcome.retry_at is not None and not outcome.counted:
                        jobs.defer(connection, outcome.job, outcome.retry_at, outcome.error)
                    elif outcome.error is not None and outcome.retry_at is not None:
                        jobs.retry_at(connection, outcome.job, outcome.retry_at, outcome.error)
                    elif outcome.error is not None:
                        failed = jobs.fail(connection, outcome.job, outcome.error)
                        if failed and (key := keys.get(outcome.job.id)) is not None:
                            jobs.forget_request_key(connection, key)
                now = self.clock()
                held = self._held_now()
                claimed = jobs.claim(connection, self.holder, now, self.heartbeat.lease, limit, held) if limit else []
        except (OperationalError, InterfaceError) as error:
            if not quiet:
                raise
            log.warning("job worker %s cannot reach the queue: %r; trying again", self.holder, error)
            return None
        for outcome in finished:  # (first: a job put back due now may be claimed again just now)
            self.heartbeat.release(jobs.renew, outcome.job.id)
            self._log(outcome, gone)
        for job in claimed:
            self.heartbeat.hold(jobs.renew, job.id)
        return claimed

    def _keys_given_back(self, finished: list[Outcome]) -> dict[int, str]:
        """{job id: the request key it gives back} for the jobs among `finished` that failed for good."""
        found: dict[int, str] = {}
        for outcome in finished:
            if self._given_back is None or outcome.lost or outcome.error is None or outcome.retry_at is not None:
                continue
            try:
                key = self._given_back(outcome.job)
            except Exception:  # an unreadable body: its key stays, as any key does for its minutes
                log.exception("job %s (%s): its request key could not be read", outcome.job.id, outcome.job.listener)
                continue
            if key is not None:
                found[outcome.job.id] = key
        return found

    def _execute(self, job: ClaimedJob) -> Outcome:
        """Run one job; what to write about it (no write here: see `_settle_and_claim`)."""
        if not self.heartbeat.holds(jobs.renew, job.id):
            # Claimed ahead, it waited in hand while the queue could not be reached for longer than
            # its lease, and a beat found another worker has it: starting it would run it twice.
            return Outcome(job, "its lease ran out before it started", lost=True)
        if job.attempts > self.policy.max_attempts:  # claimed again after workers died running it
            return Outcome(job, f"its worker stopped while running it {job.attempts - 1} times")
        if (held_until := self._held_until(job.team_id)) is not None:
            # Claimed before Slack turned its workspace away: not run before the Retry-After has passed.
            return Outcome(job, "its workspace is rate limited by Slack", held_until, counted=False)
        attempt = Attempt(
            number=job.attempts,
            final=job.attempts >= self.policy.max_attempts,
            may_defer=self.clock() - job.created_at < DEFER_RATE_LIMITED_FOR,
        )
        try:
            # A 429 raises instead of sleeping in this thread, which every workspace's jobs share.
            with deferring_rate_limits():
                problem = self._run(job, attempt)
        except Exception as error:  # the dispatch machinery itself (listeners' errors land on `attempt`)
            if retry_after(error) is None:
                log.exception("job %s (%s) could not be dispatched", job.id, job.listener)
            attempt.will_retry(error)
            problem = None
        if problem is not None:
            return Outcome(job, problem)
        if attempt.error is None:
            return Outcome(job)
        if attempt.deferred and (wait := retry_after(attempt.error)) is not None:
            until = self.clock() + timedelta(seconds=wait)
            self._hold(job.team_id, until)
            return Outcome(job, repr(attempt.error), until, counted=False)
        if attempt.final or not is_transient(attempt.error):
            return Outcome(job, repr(attempt.error))
        return Outcome(job, repr(attempt.error), self.clock() + self.policy.delay(attempt.number))

    def _hold(self, team_id: str, until: datetime) -> None:
        with self._held_lock:
            self._held[team_id] = max(self._held.get(team_id, until), until)

    def _held_until(self, team_id: str) -> datetime | None:
        with self._held_lock:
            until = self._held.get(team_id)
        return until if until is not None and until > self.clock() else None

    def _held_now(self) -> list[str]:
        """The workspaces still held (their Retry-After not passed); the others forgotten."""
        now = self.clock()
        with self._held_lock:
            for team_id in [team for team, until in self._held.items() if until <= now]:
                del self._held[team_id]
            return list(self._held)

    def _log(self, outcome: Outcome, finished: set[int]) -> None:
        job = outcome.job
        if outcome.retry_at is not None and not outcome.counted:
            log.info(
                "job %s (%s) team=%s back in the queue until %s, not counted as an attempt: %s",
                job.id, job.listener, job.team_id, outcome.retry_at.isoformat(), outcome.error,
            )  # fmt: skip
            return
        if outcome.lost:
            log.warning("job %s (%s) not started: %s; another worker has it", job.id, job.listener, outcome.error)
            return
        if outcome.error is None:
            if job.id not in finished:
                log.warning(
                    "job %s (%s) ran, but its lease had run out and another worker claimed it: it may run again",
                    job.id, job.listener,
                )  # fmt: skip
        elif outcome.retry_at is not None:
            delay = self.policy.delay(job.attempts)
            log.warning(
                "job %s (%s) team=%s attempt %s failed: %s; retrying in %s s",
                job.id, job.listener, job.team_id, job.attempts, outcome.error, delay.total_seconds(),
            )  # fmt: skip
        else:
            log.error(
                "job %s (%s) team=%s failed for good after %s attempt(s): %s",
                job.id, job.listener, job.team_id, job.attempts, outcome.error,
            )  # fmt: skip


class _Runners:
    """`count` threads running claimed jobs; what they finished waits in `finished` to be settled.

    They wake the claiming loop only when it has something to do: `wake_at` jobs finished (to
    settle), the jobs in hand down to a number (to claim a batch) or none busy. Waking it at every job took
    the GIL from the busy threads once per job, which cost a third of the queue's share.
    """

    def __init__(self, count: int, execute: Callable[[ClaimedJob], Outcome], wake_at: int) -> None:
        self._execute = execute
        self._count = count
        self._wake_at = wake_at
        self._low_water = count - wake_at
        self._ready: queue.SimpleQueue[ClaimedJob | None] = queue.SimpleQueue()
        self._changed = threading.Condition()
        self._running = 0
        self._finished: list[Outcome] = []
        self._woken = False
        self._threads = [threading.Thread(target=self._serve, name=f"job-{n}", daemon=True) for n in range(count)]
        for thread in self._threads:
            thread.start()

    def running(self) -> int:
        """Jobs started and not finished, those waiting in hand for a thread included."""
        with self._changed:
            return self._running

    def set_wake(self, finished: int, running: int) -> None:
        """Wake the loop once `finished` jobs finished or no more than `running` run."""
        with self._changed:
            self._wake_at, self._low_water = finished, running

    def wait(self, timeout: float) -> None:
        """Until the runners have something for the claiming loop, or `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._woken, timeout)
            self._woken = False

    def start(self, claimed: list[ClaimedJob]) -> None:
        with self._changed:
            self._running += len(claimed)
        for job in claimed:
            self._ready.put(job)

    def take_finished(self) -> list[Outcome]:
        with self._changed:
            finished, self._finished = self._finished, []
        return finished

    def close(self) -> None:
        for _ in self._threads:
            self._ready.put(None)
        for thread in self._threads:
            thread.join()

    def _serve(self) -> None:
        while (job := self._ready.get()) is not None:
            outcome = self._execute(job)
            with self._changed:
                self._finished.append(outcome)
                self._running -= 1
                if len(self._finished) >= self._wake_at or self._running == self._low_water or not self._running:
                    self._woken = True
                    self._changed.notify()
