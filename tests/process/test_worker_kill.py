"""kill -9 a job worker (`app.py --role worker`) holding jobs: another worker, running beside it all
along, never takes them while it lives, and finishes them within a minute of its death."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import Job
from tests.process.test_app_process import free_port, run_app
from tests.process.test_worker_process import app_env
from tests.scenario.helpers import all_tips
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

JOBS = 6
LEASE_SECONDS = 2  # PEERLEARN_JOB_LEASE_SECONDS: short, to keep the test fast (the default is 30)
SLOW_READ = 8.0  # each job's two Slack reads (the message, its permalink) take this long, before any effect


class Worker:
    """`app.py --role worker` in a subprocess, its log lines collected as they come."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = run_app({**env, "PEERLEARN_JOB_LEASE_SECONDS": str(LEASE_SECONDS)}, cwd, "--role", "worker")
        self.lines: list[str] = []
        assert self.process.stderr is not None
        stream = self.process.stderr
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True).start()

    def wait_started(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any("job worker" in line and "threads" in line for line in self.lines):
            assert self.process.poll() is None and time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.05)

    @property
    def holder_tag(self) -> str:
        return f":{self.process.pid}:"


def holders(db: Database) -> Counter[str]:
    with db.queue.snapshot() as session:
        return Counter(str(job.holder) for job in session.scalars(select(Job)))


def remaining(db: Database) -> int:
    with db.queue.snapshot() as session:
        return len(list(session.scalars(select(Job.id))))


def test_a_killed_workers_jobs_are_finished_by_another_within_a_minute(
    tmp_path: Path, database_url: str, db: Database, slack: SlackDouble, sender: SlackSender
) -> None:
    env = app_env(slack, database_url, free_port())
    workers = [Worker(env, tmp_path), Worker(env, tmp_path)]
    try:
        for worker in workers:
            worker.wait_started()
        for _ in range(JOBS):
            slack.slow_next("conversations.history", SLOW_READ)
            slack.slow_next("chat.getPermalink", SLOW_READ)
        sender.concurrent = True  # the in-process web side only queues; the two workers run the jobs
        for n in range(JOBS):
            ts = slack.add_message("C1", "U2", f"Lesson {n}: write the failing test before the fix")
            sender.reaction("reaction_added", "U3", "C1", ts, "bulb")
        slack.wait_for(lambda: len(slack.calls_to("conversations.history")) == JOBS, 20, "every job under way")
        claimed = holders(db)

        time.sleep(2.5 * LEASE_SECONDS)  # the jobs outlive their leases; both workers live
        assert holders(db) == claimed  # nobody lost a job (heartbeats), nobody took one
        victim = max(workers, key=lambda worker: sum(n for h, n in claimed.items() if worker.holder_tag in h))
        survivor = next(worker for worker in workers if worker is not victim)
        victim.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        victim.process.wait(10)

        deadline = killed_at + 60
        while remaining(db) and time.monotonic() < deadline:
            time.sleep(0.1)
        finished_after = time.monotonic() - killed_at
        survivor.process.send_signal(signal.SIGTERM)
        survivor.process.wait(30)
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()

    assert remaining(db) == 0 and finished_after < 60, f"jobs left {finished_after:.0f} s after the kill"
    tips = all_tips(db)
    assert len(tips) == JOBS and len({tip.message_ts for tip in tips}) == JOBS  # each message once
    log = "".join(survivor.lines)
    assert survivor.process.returncode == 0 and "Traceback" not in log and "another worker claimed it" not in log
