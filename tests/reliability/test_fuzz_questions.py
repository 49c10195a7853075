"""Asking the workspace, fed hostile input (tests/reliability/fuzz.py): `/ask`'s and `/peerlearn
questions|stats`' parsers and the question detector give only their typed results within bounds;
then signed `/ask` commands, question-channel messages, thread replies, deletions and every
question button with odd values: never a 5xx, and no listener left with an unhandled error."""

from __future__ import annotations

import logging
import re
from typing import get_args

import pytest

from bot.questions.blocks import (
    ANSWERED_BY_TIP_ACTION,
    CAN_HELP,
    CLOSE,
    MARK_ANSWERED,
    NEED_HELP,
    NOT_ME,
    PICK_REPLY,
    SAVE_AS_TIP,
)
from bot.questions.commands import (
    MAX_ID,
    AskCommand,
    AskQuestion,
    CloseQuestion,
    QuestionsAdminCommand,
    is_questions_admin,
    parse_ask_command,
    parse_questions_admin,
)
from bot.questions.rules import MAX_QUESTION_LENGTH, reads_as_question, topic_candidates
from tests.reliability.figures import answered, tried
from tests.reliability.fuzz import Fuzz
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

RUNS = 500
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def test_ask_and_questions_admin_parsers() -> None:
    fuzz = Fuzz(21)
    for _ in range(RUNS):
        text = fuzz.command(["mine", "close", "help", "questions", "stats", "how", "why"])
        command = parse_ask_command(text)
        assert isinstance(command, get_args(AskCommand)), command
        if isinstance(command, AskQuestion):
            assert 0 < len(command.text) <= MAX_QUESTION_LENGTH and not CONTROL.search(command.text)
            assert len(command.text.split()) >= 2
        if isinstance(command, CloseQuestion):
            assert 1 <= command.question_id <= MAX_ID
        if is_questions_admin(text):
            assert isinstance(parse_questions_admin(text), get_args(QuestionsAdminCommand))
        assert isinstance(reads_as_question(text), bool)
        assert all(0 < len(topic) <= 50 for topic in topic_candidates(text))
        tried()


HTTP_RUNS = 120
BUTTONS = [ANSWERED_BY_TIP_ACTION, NEED_HELP, MARK_ANSWERED, PICK_REPLY, CLOSE, SAVE_AS_TIP, CAN_HELP, NOT_ME]


def test_signed_questions_with_odd_values_never_get_a_5xx(
    sender: SlackSender, slack: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    fuzz = Fuzz(22)
    sender.command("questions <#C1|general> on", user="U9ADMIN", command="/peerlearn")
    sender.command("How do I tune autovacuum for postgres tables?", user="U1", command="/ask")
    parent = slack.posts("C1")[-1]
    thread = str(slack.channels["C1"].messages[-1]["ts"])

    def one_request() -> int:
        user = fuzz.pick(["U1", "U2", "U4", "U9ADMIN", "UNOBODY"])
        roll = fuzz.random.random()
        text = re.sub(r"[\ud800-\udfff]", "", fuzz.command(["how", "why", "mine", "close", "help"]))
        if roll < 0.3:
            channel = fuzz.pick(["C1", "CNOBOT", "CPRIV", "CARCH", "D1", "G1"])
            return sender.command(text, user=user, command="/ask", channel=channel).status
        if roll < 0.4:
            admin = re.sub(r"[\ud800-\udfff]", "", fuzz.command(["questions", "stats"]))
            return sender.command(admin, user=user, command="/peerlearn").status
        if roll < 0.7:
            # JSON carries lone surrogates as escapes: Slack's events may too.
            event = {"type": "message", "channel": "C1", "user": user, "text": fuzz.pick([text, fuzz.text()])[:4000],
                     "ts": f"{fuzz.random.randint(1, 2**31)}.000100"}  # fmt: skip
            kind = fuzz.random.random()
            if kind < 0.3:
                event["thread_ts"] = fuzz.pick([thread, fuzz.text()[:40], "1.1"])
            elif kind < 0.5:
                event = {"type": "message", "subtype": "message_deleted", "channel": "C1",
                         "deleted_ts": fuzz.pick([fuzz.text()[:40], "1.000001", thread])}  # fmt: skip
            return sender.event(event).status
        value = fuzz.pick([fuzz.text(), "1", "1:1", "1:1.000001", "0", "-1", "1e309", "99999999999999999999999:1",
                           "1:9999999999", "1:2147483648", "1:99999999999.1"])  # fmt: skip
        return sender.button(user=user, action_id=fuzz.pick(BUTTONS), value=value[:2000], channel="C1").status

    assert parent is not None
    statuses = []
    with caplog.at_level(logging.ERROR, logger="peerlearn"):
        for _ in range(HTTP_RUNS):
            statuses.append(answered(one_request()))
            tried()
    unhandled = [r.getMessage()[:300] for r in caplog.records if "unhandled error" in r.getMessage()]
    assert [s for s in statuses if s >= 500] == []
    assert unhandled == [], f"{len(unhandled)} listener errors, e.g. {unhandled[:3]}"
    slack.take_problems()  # ephemeral answers in conversations the bot is not in: Slack refuses those, and says so
