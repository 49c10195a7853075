"""Messages that matter to nobody are acknowledged with no database write; replies in a prompt's
thread still become jobs and are counted."""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import select

from handlers.prompt_replies import is_reply_to_us
from storage.db import Database
from storage.models import Job
from tests.scenario.test_schedules import ledger, peerlearn
from tests.slack_double import BOT_USER_ID, SlackDouble
from tests.slack_sender import SlackSender


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every write transaction any Database opens (the app's and the job queue's), by kind."""
    opened: Counter[str] = Counter()
    for name in ("transaction", "writing", "driver_transaction"):
        original = getattr(Database, name)

        def counted(
            self: Database, *args: Any, _name: str = name, _original: Any = original
        ) -> AbstractContextManager[Any]:
            opened[_name] += 1
            return _original(self, *args)  # type: ignore[no-any-return]

        monkeypatch.setattr(Database, name, counted)
    return opened


def jobs(db: Database) -> list[Job]:
    with db.queue.snapshot() as session:
        return list(session.scalars(select(Job)))


def chatter(thread_ts: str) -> list[dict[str, Any]]:
    message = {"type": "message", "channel": "C1", "user": "U2", "text": "lunch?"}
    return [
        *({**message, "ts": f"1800000000.{n:06d}"} for n in range(40)),  # ordinary channel messages
        {**message, "ts": "1800000001.000001", "thread_ts": "1700000000.999999"},  # someone else's thread
        {**message, "ts": "1800000001.000002", "thread_ts": thread_ts, "parent_user_id": "U3"},  # ditto, said so
        {**message, "ts": thread_ts, "thread_ts": thread_ts},  # a thread's parent
        {**message, "subtype": "channel_join", "ts": "1800000001.000003"},
        {**message, "subtype": "bot_message", "bot_id": "B1", "ts": "1800000001.000004", "thread_ts": thread_ts},
        {"type": "message", "channel": "C1", "subtype": "message_changed", "ts": "1800000001.000005",
         "message": {"user": "U2", "text": "edited", "ts": "1800000000.000001", "thread_ts": thread_ts}},
        {**message, "subtype": "message_deleted", "ts": "1800000001.000006", "thread_ts": thread_ts},
    ]  # fmt: skip


def test_a_burst_of_channel_messages_is_acknowledged_without_a_single_write(
    sender: SlackSender, slack: SlackDouble, db: Database, writes: Counter[str]
) -> None:
    sender.concurrent = True  # only what the acks do

    answers = [sender.event(event) for event in chatter("1800000000.000007")]

    assert {(answer.status, answer.body) for answer in answers} == {(200, b"")}
    assert writes == Counter() and jobs(db) == []


def test_replies_in_a_prompts_thread_still_become_jobs_and_count(
    sender: SlackSender, slack: SlackDouble, db: Database, writes: Counter[str]
) -> None:
    peerlearn(sender, "prompt now")
    prompt_ts = str(ledger(db)[0].message_ts)
    sender.concurrent = True
    writes.clear()
    reply = {"type": "message", "channel": "C1", "user": "U2", "thread_ts": prompt_ts, "parent_user_id": BOT_USER_ID}

    for event in chatter(prompt_ts):
        sender.event(event)
    sender.event({**reply, "text": "I learned X", "ts": "1800000002.000001"})
    sender.event({**reply, "text": "", "subtype": "file_share", "ts": "1800000002.000002", "files": [{"id": "F1"}]})
    sender.event({**reply, "text": "also in channel", "subtype": "thread_broadcast", "ts": "1800000002.000003"})

    assert len(jobs(db)) == 3 and writes == Counter(driver_transaction=3)  # one enqueue per reply
    sender.settle()  # type: ignore[misc]
    assert ledger(db)[0].reply_count == 3


@pytest.mark.parametrize(
    ("event", "ours"),
    [
        ({"user": "U2", "ts": "2", "thread_ts": "1"}, True),
        ({"user": "U2", "ts": "2", "thread_ts": "1", "parent_user_id": BOT_USER_ID}, True),
        ({"user": "U2", "ts": "2", "thread_ts": "1", "parent_user_id": "U3"}, False),
        ({"user": "U2", "ts": "2", "thread_ts": "1", "subtype": "file_share"}, True),
        ({"user": "U2", "ts": "2", "thread_ts": "1", "subtype": "thread_broadcast"}, True),
        ({"user": "U2", "ts": "2", "thread_ts": "1", "subtype": "message_replied"}, False),
        ({"user": "U2", "ts": "2"}, False),
        ({"user": "U2", "ts": "1", "thread_ts": "1"}, False),
        ({"user": "U2", "ts": "2", "thread_ts": "1", "bot_id": "B1"}, False),
        ({"ts": "2", "thread_ts": "1"}, False),
    ],
)
def test_which_messages_may_be_replies_to_us(event: dict[str, Any], ours: bool) -> None:
    assert is_reply_to_us(event, BOT_USER_ID) is ours
