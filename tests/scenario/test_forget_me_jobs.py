"""forget-me and the job queue: a job that failed for good keeps its Slack request (a /tip's or an
/ask's text) for operators for 14 days; forget-me deletes those whose request names the person, in
their workspace, and leaves everyone else's and every job still queued or running."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.people.blocks import FORGET_DELETE
from storage.db import Database
from storage.jobs import NewJob
from storage.models import Job
from tests.conftest import FakeClock
from tests.scenario.people_seed import seed
from tests.scenario.test_forget_me import confirmation, press
from tests.scenario.test_job_queue import tips_table_fails
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


def kept_jobs(db: Database) -> list[tuple[str, str, str]]:
    """(team, state, body) of every job in the queue."""
    with db.queue.snapshot() as session:
        return [(job.team_id, job.state, job.body) for job in session.scalars(select(Job).order_by(Job.id))]


def add_job(db: Database, team_id: str, state: str, body: str, now: datetime) -> None:
    """A job as the queue keeps it: failed for good, or queued for a retry an hour from `now`."""
    job = NewJob(team_id, "run_tip_command", "http", "application/x-www-form-urlencoded", body)
    due_at, attempts = (None, 4) if state == "failed" else (now + timedelta(hours=1), 1)
    with db.queue.transaction() as session:
        session.add(Job(team_id=job.team_id, listener=job.listener, mode=job.mode, content_type=job.content_type,
                        body=job.body, state=state, attempts=attempts, due_at=due_at, created_at=now))  # fmt: skip


def test_their_failed_requests_go_and_nobody_elses(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    seed(sender, slack, db, clock.now)
    with tips_table_fails(db, times=99):
        sender.command("My private rant about the deploy", user="U1")  # each fails for good at once...
        sender.command("A colleague's tip that failed too", user="U2")
        for _ in range(4):
            clock.advance(minutes=5)
            sender.settle()  # type: ignore[misc]
    add_job(db, TEAM_ID, "queued", "command=%2Ftip&user_id=U1&text=still+to+run", clock.now)  # a retry to come
    add_job(db, "T0OTHER", "failed", "command=%2Ftip&user_id=U1&text=another+workspace", clock.now)
    failed = [body for _, state, body in kept_jobs(db) if state == "failed"]
    assert len(failed) == 3 and any("private+rant" in body for body in failed)

    press(sender, "U1", confirmation(sender)[FORGET_DELETE])

    left = kept_jobs(db)
    assert not any("private+rant" in body for _, _, body in left)
    assert [(team, state) for team, state, body in left if "colleague" in body] == [(TEAM_ID, "failed")]
    assert [state for _, state, body in left if "still+to+run" in body] == ["queued"]
    assert [team for team, _, body in left if "another+workspace" in body] == ["T0OTHER"]
