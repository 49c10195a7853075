"""The work after each ack goes through the job queue: retries, failures, stale requests, trust."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from bot.notices import something_went_wrong
from bot.retry import JOB_ATTEMPT
from runtime.jobs import JobQueue, JobWorker
from runtime.serving import job_runner
from storage.db import Database
from storage.jobs import NewJob
from storage.models import Job
from tests.conftest import FakeClock
from tests.scenario.helpers import all_tips
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SIGNING_SECRET, SlackSender


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


def command_job(command: str, text: str, *, team_id: str = TEAM_ID, listener: str) -> NewJob:
    form = {"team_id": team_id, "user_id": "U1", "channel_id": "C1", "command": command, "text": text,
            "response_url": "https://hooks.slack.invalid/commands/1", "trigger_id": f"trigger-{text}"}  # fmt: skip
    return NewJob(team_id, listener, "http", "application/x-www-form-urlencoded", urlencode(form))


def button_job(action_id: str, listener: str) -> NewJob:
    payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": "U2", "team_id": TEAM_ID},
               "actions": [{"type": "button", "action_id": action_id, "value": "1"}], "trigger_id": "t"}  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)})
    return NewJob(TEAM_ID, listener, "http", "application/x-www-form-urlencoded", body)


def test_the_worker_runs_any_lazy_listener_registered_as_usual_by_the_name_its_job_gives(
    client: WebClient, db: Database, clock: FakeClock
) -> None:
    """A new command or button needs nothing of the worker: its lazy listener is found by name (a
    name two listeners share, by their matchers), with Bolt's arguments, behind the app's middleware."""
    # As the worker's own app: its requests are rows the web app stored after verifying them.
    app = App(
        client=client, signing_secret=SIGNING_SECRET, process_before_response=True, request_verification_enabled=False
    )
    ran: list[tuple[str, str, Any]] = []

    @app.middleware
    def other_teams_stop_here(body: dict[str, Any], next: Any) -> Any:
        return next() if body.get("team_id", TEAM_ID) == TEAM_ID else BoltResponse(status=200, body="")

    def work(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
        context[JOB_ATTEMPT].started = True
        ran.append(("work", body["text"], (context.team_id, context.user_id, respond.response_url)))

    def answer_a(body: dict[str, Any], context: BoltContext) -> None:
        context[JOB_ATTEMPT].started = True
        ran.append(("a", body["actions"][0]["action_id"], context.user_id))

    def answer_b(body: dict[str, Any], context: BoltContext) -> None:
        context[JOB_ATTEMPT].started = True
        ran.append(("b", body["actions"][0]["action_id"], context.user_id))

    matched: list[str] = []

    def expensive_matcher(body: dict[str, Any]) -> bool:  # e.g. a database read: decided by the ack, once
        matched.append(body["text"])
        return True

    answer_a.__name__ = answer_b.__name__ = "answer"  # one name, two listeners (as pairing's buttons)
    app.command("/brand-new", matchers=[expensive_matcher])(ack=lambda ack: ack(), lazy=[work])
    app.action("first")(ack=lambda ack: ack(), lazy=[answer_a])
    app.action("second")(ack=lambda ack: ack(), lazy=[answer_b])
    queue = JobQueue(db.queue, clock)
    for job in (
        command_job("/brand-new", "hello", listener="work"),
        button_job("second", "answer"),
        command_job("/brand-new", "from elsewhere", team_id="T0OTHER", listener="work"),
        command_job("/brand-new", "renamed since", listener="gone"),
    ):
        queue.enqueue(job)

    JobWorker(db.queue, job_runner(app), threads=1, clock=clock).drain()

    assert ran == [
        ("work", "hello", (TEAM_ID, "U1", "https://hooks.slack.invalid/commands/1")),
        ("b", "second", "U2"),
    ]
    # The job names its listener: no search through the app's matchers, but for a name no listener
    # has any more, which goes through Bolt's whole dispatch (that reports it).
    assert matched == ["renamed since"]
    failed = {job.body.split("text=")[1].split("&")[0]: job.last_error for job in jobs(db)}
    assert set(failed) == {"from+elsewhere", "renamed+since"}
    assert all(job.state == "failed" for job in jobs(db))
    assert "no listener named gone" in str(failed["renamed+since"])
    # Another workspace's job (or one uninstalled while its jobs waited) is refused by the workspace
    # check, and says so rather than blaming a listener.
    assert "not run: workspace T0OTHER is no longer served here" in str(failed["from+elsewhere"])


def _fail_for_good(sender: SlackSender, clock: FakeClock) -> None:
    """Run the queued work through its retries (the tips table refusing each time): 3.5 minutes,
    well within the 10 minutes a request key is kept."""
    for wait in (0, 10, 40, 160):  # RetryPolicy's backoff
        clock.advance(seconds=wait)
        sender.settle()  # type: ignore[misc]


def test_a_share_anyway_click_whose_job_failed_for_good_can_be_clicked_again(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    """A once-per-message button dedupes a double click by its message; but when that click's job
    failed for good, the next click is the person trying again, not a double click: it runs."""
    [actions] = [b for b in sender.command("frobnicate 12").json()["blocks"] if b["type"] == "actions"]
    value = actions["elements"][0]["value"]

    def click() -> None:
        sender.button(user="U1", action_id="tip_share_anyway", value=value, channel="C1", message_ts="1.5")

    with tips_table_fails(db, times=99):
        click()
        _fail_for_good(sender, clock)
    assert [job.state for job in jobs(db)] == ["failed"] and all_tips(db) == []
    assert [response["text"] for response in slack.responses] == [something_went_wrong()]

    click()  # within the key's 10 minutes: the try again works
    assert len(all_tips(db)) == 1 and len(slack.posts("C1")) == 1
    click()  # a click after it succeeded is still the same request: nothing more
    assert len(all_tips(db)) == 1 and len(slack.posts("C1")) == 1


def test_an_event_slack_delivers_again_stays_deduplicated_after_its_job_failed_for_good(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    """Only a person's new click gets a failed job's key back: Slack's own redelivery of an event
    (the same event_id) is never queued again, failed or not."""
    ts = slack.add_message("C1", "U2", "Pin your dependencies with a lock file, always")
    with tips_table_fails(db, times=99):
        sender.reaction("reaction_added", "U1", "C1", ts, "bulb", item_user="U2", event_id="EvFAILED")
        _fail_for_good(sender, clock)
    assert [job.state for job in jobs(db)] == ["failed"] and all_tips(db) == []

    sender.reaction("reaction_added", "U1", "C1", ts, "bulb", item_user="U2", event_id="EvFAILED", retry_num=1)

    assert [job.state for job in jobs(db)] == ["failed"] and all_tips(db) == []
