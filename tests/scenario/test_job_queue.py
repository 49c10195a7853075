"""The work after each ack goes through the job queue: retries, failures, stale requests, trust."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from bot.notices import something_went_wrong
from storage.db import Database
from storage.models import Job
from tests.conftest import FakeClock
from tests.scenario.helpers import all_tips
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


@contextmanager
def tips_table_fails(db: Database, times: int) -> Iterator[list[int]]:
    """The next `times` inserts into tips fail as a locked or unreachable database would."""
    failed: list[int] = []

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO tips") and len(failed) < times:
            failed.append(1)
            raise OperationalError(statement, {}, Exception("database is locked"))

    event.listen(db.engine, "before_cursor_execute", fail)
    try:
        yield failed
    finally:
        event.remove(db.engine, "before_cursor_execute", fail)


def jobs(db: Database) -> list[Job]:
    with db.queue.snapshot() as session:
        return list(session.scalars(select(Job)))


def test_a_share_that_meets_a_transient_failure_is_retried_and_posted_once(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    with tips_table_fails(db, times=1) as failed:
        assert sender.command("Retry with backoff, not in a tight loop").status == 200
        assert failed and all_tips(db) == [] and jobs(db)[0].state == "queued"
        clock.advance(seconds=10)
        sender.settle()  # type: ignore[misc]

    assert [tip.text for tip in all_tips(db)] == ["Retry with backoff, not in a tight loop"]
    assert len(slack.posts("C1")) == 1 and jobs(db) == []
    assert slack.responses == []  # the person was never told of a failure that healed itself


def test_when_retries_run_out_the_person_is_told_and_the_job_kept_as_failed(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), tips_table_fails(db, times=99):
        sender.command("A tip the database will not take")
        for _ in range(4):
            clock.advance(minutes=5)
            sender.settle()  # type: ignore[misc]

    (failed,) = jobs(db)
    assert failed.state == "failed" and failed.attempts == 4 and "database is locked" in str(failed.last_error)
    assert [response["text"] for response in slack.responses] == [something_went_wrong()]
    assert "failed for good after 4 attempt(s)" in caplog.text and all_tips(db) == []


def test_a_job_still_runs_long_after_its_request_was_signed(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    sender.concurrent = True  # acked, not yet run: a backlog
    assert sender.command("Backlogs happen; signatures expire").status == 200
    clock.advance(minutes=10)  # twice Slack's signature window

    sender.settle()  # type: ignore[misc]

    assert len(slack.posts("C1")) == 1 and jobs(db) == []


def test_the_network_cannot_ask_for_listener_work_without_its_ack(sender: SlackSender, db: Database) -> None:
    """Bolt runs one lazy listener alone, skipping the ack, for requests with these headers; a
    signed request carrying them still goes through the ack and the queue."""
    lazy_only = {"X-Slack-Bolt-Lazy-Only": "1", "X-Slack-Bolt-Lazy-Function-Name": "run_tip_command"}
    sender.concurrent = True

    answer = sender.post(
        "team_id=T0TEST&user_id=U1&channel_id=C1&command=%2Ftip&text=help&response_url=x",
        "application/x-www-form-urlencoded",
        headers=lazy_only,
    )

    assert answer.status == 200 and "/tip search" in str(answer.json()["blocks"])
    assert [job.listener for job in jobs(db)] == ["run_tip_command"]
