"""A Slack 429 part-way through a question's routing, in the job worker: the job goes back to the queue
for the Retry-After, and its rerun resumes the routing it started (the post and the DMs sent are
found by their metadata), so nothing is doubled and the asker is told what really happened, once.
Before, the rerun found the question still `routing` under its own lease, did nothing, and told the
asker it was posted when it was not: the keeper finished it only once the lease ran out."""

from __future__ import annotations

from typing import Any

from runtime.jobs import JobWorker
from storage.db import Database
from tests.conftest import FakeClock
from tests.scenario.test_questions import (  # noqa: F401 (the workspace fixture)
    POST_EVENT,
    ask,
    asks,
    click,
    dms_about,
    questions,
    workspace,
)
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def _posted(slack: SlackDouble, channel: str = "C1") -> list[dict[str, Any]]:
    """Question posts Slack took (`slack.posts()` lists the refused calls too)."""
    return [m for m in slack.channels[channel].messages if (m.get("metadata") or {}).get("event_type") == POST_EVENT]


def test_a_429_on_the_question_post_resumes_the_routing_after_the_retry_after(
    workspace: SlackSender,  # noqa: F811
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    job_worker: JobWorker,
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    before = len(slack.responses)
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    assert _posted(slack) == [] and slack.responses[before:] == []  # turned away: the job waits its turn

    clock.advance(seconds=2)
    job_worker.drain()  # the rerun, after the Retry-After

    (question,) = questions(db)
    assert question.state == "waiting" and question.wave == 1 and len(_posted(slack)) == 1
    assert {a.user_id: a.state for a in asks(db)} == {"U5": "asked", "U6": "asked", "U7": "asked"}
    told = [str(r) for r in slack.responses[before:]]
    assert len(told) == 1 and "asked the 3 colleagues who know #postgres" in told[0], told


def test_a_429_on_the_next_persons_dm_after_not_me_asks_them_after_the_retry_after(
    workspace: SlackSender,  # noqa: F811
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    job_worker: JobWorker,
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    sent = len([p for p in slack.posts() if p["channel"] == "U8"])
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    click(workspace, "U7", "question_not_me", str(question.id))
    assert {a.user_id: a.state for a in asks(db)}.get("U8") == "pending"  # its DM turned away, for now

    clock.advance(seconds=2)
    job_worker.drain()

    assert questions(db)[0].state == "waiting"
    assert {a.user_id: a.state for a in asks(db)} == {"U5": "asked", "U6": "asked", "U7": "declined", "U8": "asked"}
    dms_to_u8 = [m for m in slack.posts() if m["channel"] == "U8"][sent:]
    assert len([m for m in dms_to_u8 if (m.get("metadata") or {}).get("event_type")]) == 2  # refused, then sent
    assert len(_posted(slack)) == 1


def test_a_429_after_still_need_help_posts_the_question_after_the_retry_after(
    workspace: SlackSender,  # noqa: F811
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    job_worker: JobWorker,
) -> None:
    ask(workspace, "How do I see why a postgres query is slow?")
    (question,) = questions(db)
    assert question.state == "suggested"  # a tip answered it first
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    click(workspace, "U1", "question_need_help", str(question.id))
    assert _posted(slack) == []

    clock.advance(seconds=2)
    job_worker.drain()

    assert questions(db)[0].state == "waiting" and len(_posted(slack)) == 1
    assert sorted(a.user_id for a in asks(db) if a.state == "asked") == ["U5", "U6", "U7"]
