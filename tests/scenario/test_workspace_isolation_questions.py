"""Isolation between workspaces for questions (/ask, issue #11), as test_workspace_isolation.py does
for tips, circles, schedules, prompts and profiles: workspace B's /ask, buttons naming A's question
and tip ids, `/ask mine`, `/peerlearn questions` and `stats`, and messages in A's questions channel or
A's question threads reach nothing of A's; and the questions keeper escalates each workspace's
questions with its own token, skipping a workspace that is uninstalled until it is installed again.

B's people carry the same ids as A's (U1 the asker, U2 and U3 the people asked), so nothing but the
workspace tells them apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.questions.routing import ASK_EVENT
from storage.db import Database
from storage.models import Question, QuestionAsk, Tip
from tests.conftest import FakeClock
from tests.scenario.test_mentor import save_profile
from tests.scenario.test_questions import ask, questions, reply_in_thread
from tests.scenario.test_workspace_isolation import button, command, rows_of, what_b_read
from tests.scenario.workspaces import TEAM_B, World, installed, world
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import Response, SlackSender

__all__ = ["installed", "world"]  # fixtures

WEDNESDAY_MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, everyone's zone here
QUESTIONS = "CQA"  # A's questions channel
# What of A's may never show in B: its tip, its questions, the replies in their threads, its channel.
A_SECRETS = ("EXPLAIN ANALYZE", "autovacuum", "replication", "scale factor", "streaming", QUESTIONS)


@dataclass
class Asked:
    """A's questions, made through A's own requests: U2 and U3 teach postgres and U2's tip answers
    `suggested` (U1's, tips offered); `waiting` (U1's) was sent to U2 and U3 and has U3's reply;
    `answered` (U1's) was answered by U2's reply; CQA is A's questions channel."""

    world: World
    tip_id: int
    suggested: Question
    waiting: Question
    answered: Question
    reply_ts: str


def experts(sender: SlackSender, double: SlackDouble, *user_ids: str) -> None:
    levels = ("lead", "senior", "senior", "mid")
    for user_id, level in zip(user_ids, levels, strict=False):
        save_profile(sender, double, user_id, teaches="postgres", level=level, open_to=["mentoring"])


@pytest.fixture
def asked(installed: World, db: Database, clock: FakeClock) -> Asked:
    a, double = installed.sender_a, installed.a
    clock.now = WEDNESDAY_MORNING
    double.add_channel(QUESTIONS, "help", members=("U1", "U2", "U3", "U4"))
    experts(a, double, "U2", "U3")
    a.command("Use EXPLAIN ANALYZE to see why a postgres query is slow #postgres", user="U2")
    a.command(f"questions <#{QUESTIONS}|help> on", user="U4", command="/peerlearn")
    ask(a, "How do I see why a postgres query is slow?")
    ask(a, "How do I tune autovacuum for postgres tables?")
    ask(a, "Which postgres replication setup fits a small team?")
    suggested, waiting, answered = questions(db)
    reply_ts = reply_in_thread(a, double, "C1", str(waiting.post_ts), "U3", "Lower the scale factor")
    reply_in_thread(a, double, "C1", str(answered.post_ts), "U2", "Use streaming replication with one standby")
    a.button(user="U1", action_id="question_answered", value=str(answered.id), channel="C1")
    suggested, waiting, answered = questions(db)
    assert (suggested.state, waiting.state, answered.state) == ("suggested", "waiting", "answered")
    with db.snapshot() as session:
        (tip,) = session.scalars(select(Tip))
        assert {ask.user_id for ask in session.scalars(select(QuestionAsk))} == {"U2", "U3"}
    return Asked(installed, tip.id, suggested, waiting, answered, reply_ts)


def b_says(al: Asked, channel: str, user: str, text: str, **fields: str) -> Response:
    """A message event of B's, by a person, in `channel` (B's ids: they may equal A's)."""
    ts = f"{1900000000 + len(al.world.b.calls)}.000100"
    message = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "channel_type": "channel"}
    return al.world.sender_b.event({**message, **fields})


Act = Callable[[Asked], object]
ROWS: list[tuple[str, Act]] = [
    ("This answered it with A's question and tip ids", lambda al: button(
        al, "U1", "question_tip_answered", f"{al.suggested.id}:{al.tip_id}")),
    ("Still need help on A's question", lambda al: button(
        al, "U1", "question_need_help", str(al.suggested.id))),
    ("I can help on A's question", lambda al: button(al, "U2", "question_can_help", str(al.waiting.id))),
    ("Not me on A's question", lambda al: button(al, "U3", "question_not_me", str(al.waiting.id))),
    ("Answered on A's question", lambda al: button(al, "U1", "question_answered", str(al.waiting.id))),
    ("picking A's reply", lambda al: button(
        al, "U1", "question_pick_reply", f"{al.waiting.id}:{al.reply_ts}")),
    ("Save as tip on A's answered question", lambda al: button(
        al, "U2", "question_save_tip", str(al.answered.id))),
    ("Close on A's question", lambda al: button(al, "U1", "question_close", str(al.waiting.id))),
    ("/ask close A's question id", lambda al: command(al, "/ask", f"close {al.waiting.id}")),
    ("/ask mine (same user id as A's asker)", lambda al: command(al, "/ask", "mine")),
    ("/peerlearn questions #CQA on", lambda al: command(
        al, "/peerlearn", f"questions <#{QUESTIONS}|help> on", "U4")),
    ("/peerlearn questions #CQA off", lambda al: command(
        al, "/peerlearn", f"questions <#{QUESTIONS}|help> off", "U4")),
    ("/peerlearn questions", lambda al: command(al, "/peerlearn", "questions", "U4")),
    ("/peerlearn stats", lambda al: command(al, "/peerlearn", "stats all", "U4")),
    ("a question in A's questions channel CQA", lambda al: b_says(
        al, QUESTIONS, "U1", "How do I see why a postgres query is slow?")),
    ("a reply in A's question's thread", lambda al: b_says(
        al, "C1", "U3", "Lower the threshold", thread_ts=str(al.waiting.post_ts), parent_user_id=TEAM_B.bot_user_id)),
    ("A's question message deleted", lambda al: al.world.sender_b.event(
        {"type": "message", "subtype": "message_deleted", "channel": "C1", "hidden": True,
         "deleted_ts": str(al.waiting.post_ts), "ts": "1900000000.000001"})),
]  # fmt: skip


@pytest.mark.parametrize(("action", "act"), ROWS, ids=[action for action, _ in ROWS])
def test_workspace_b_can_not_reach_workspace_as_questions(asked: Asked, db: Database, action: str, act: Act) -> None:
    world = asked.world
    before = rows_of(db, TEAM_ID)
    b_before = rows_of(db, TEAM_B.id)
    a_calls, b_calls, b_responses = len(world.a.calls), len(world.b.calls), len(world.b.responses)

    answer = act(asked)

    assert rows_of(db, TEAM_ID) == before, f"{action}: A's data changed"
    assert world.a.calls[a_calls:] == [], f"{action}: Slack was asked something with A's token"
    read = what_b_read(asked, answer, b_calls, b_responses)
    unseen = [secret for secret in A_SECRETS if secret.lower() not in action.lower()]
    assert not [secret for secret in unseen if secret.lower() in read.lower()], f"{action}: B read {read[:400]}"
    if isinstance(answer, Response):
        assert answer.status == 200
    changed = {table for table, rows in rows_of(db, TEAM_B.id).items() if rows != b_before[table]}
    assert not changed & {"questions", "question_asks", "question_replies", "tips", "tip_votes"}, action


def test_bs_ask_gets_none_of_as_tips_nor_as_people(asked: Asked, db: Database) -> None:
    """The same question in B, whose people carry the ids of A's experts: B has no tip and nobody
    who teaches postgres, so it is answered from B's nothing and nobody is asked."""
    world = asked.world
    before, a_calls = rows_of(db, TEAM_ID), len(world.a.calls)

    answer = ask(world.sender_b, "How do I see why a postgres query is slow?")
    ask(world.sender_b, "How do I tune autovacuum for postgres tables?")

    assert "EXPLAIN ANALYZE" not in answer and "This answered it" not in answer
    assert rows_of(db, TEAM_ID) == before and world.a.calls[a_calls:] == []
    with db.snapshot() as session:
        b_questions = list(session.scalars(select(Question).where(Question.team_id == TEAM_B.id)))
        b_asks = list(session.scalars(select(QuestionAsk).where(QuestionAsk.team_id == TEAM_B.id)))
    assert len(b_questions) == 2 and all(q.topics == "" for q in b_questions), [q.topics for q in b_questions]
    assert b_asks == []
    assert [p for p in world.b.posts() if (p.get("metadata") or {}).get("event_type") == ASK_EVENT] == []


# -- the questions keeper in OAuth mode ---------------------------------------------------------


def asked_in_both(world: World, clock: FakeClock) -> None:
    """In each workspace four people teach postgres (U2 the most senior, U5 the least) and U1 asks:
    U2, U3 and U4 are asked now, U5 when it escalates."""
    clock.now = WEDNESDAY_MORNING
    for sender, double in ((world.sender_a, world.a), (world.sender_b, world.b)):
        double.add_user("U5", "eve")
        experts(sender, double, "U2", "U3", "U4", "U5")
        ask(sender, "How do I tune autovacuum for postgres tables?")
        assert sorted(dm["channel"] for dm in asks_dms(double)) == ["U2", "U3", "U4"]


def asks_dms(double: SlackDouble) -> list[dict[str, Any]]:
    return [p for p in double.posts() if (p.get("metadata") or {}).get("event_type") == ASK_EVENT]


def waves(db: Database) -> dict[str, int]:
    with db.snapshot() as session:
        return {q.team_id: q.wave for q in session.scalars(select(Question))}


def test_the_keeper_escalates_each_workspaces_question_with_its_own_token(
    installed: World, db: Database, clock: FakeClock
) -> None:
    asked_in_both(installed, clock)
    clock.advance(hours=4, seconds=5)  # 4 working hours later: both due

    installed.poster.run_due()

    assert waves(db) == {TEAM_ID: 2, TEAM_B.id: 2}
    for double in (installed.a, installed.b):  # each one's fourth expert, in their own workspace
        assert sorted(dm["channel"] for dm in asks_dms(double)) == ["U2", "U3", "U4", "U5"]


def test_an_uninstalled_workspaces_questions_wait_for_its_reinstall(
    installed: World, db: Database, clock: FakeClock
) -> None:
    asked_in_both(installed, clock)
    assert installed.installations.delete(TEAM_B.id, None) == 1  # Slack said: uninstalled
    calls_b = len(installed.b.calls)
    clock.advance(hours=4, seconds=5)

    installed.poster.run_due()

    assert waves(db) == {TEAM_ID: 2, TEAM_B.id: 1}  # A's escalated as usual; B's waits
    assert len(asks_dms(installed.a)) == 4
    assert len(installed.b.calls) == calls_b  # nothing asked of Slack for B, with any token
    with db.snapshot() as session:
        b_question = session.scalars(select(Question).where(Question.team_id == TEAM_B.id)).one()
    assert b_question.state == "waiting" and b_question.due_at is not None

    installed.install(installed.b)  # installed again: its question escalates at the next tick
    clock.advance(minutes=1)
    installed.poster.run_due()
    assert waves(db) == {TEAM_ID: 2, TEAM_B.id: 2}
    assert sorted(dm["channel"] for dm in asks_dms(installed.b)) == ["U2", "U3", "U4", "U5"]
    assert len(asks_dms(installed.a)) == 4  # nothing more for A


def test_an_uninstalled_workspaces_many_due_questions_hold_up_nobody_elses(
    installed: World, db: Database, clock: FakeClock
) -> None:
    """More of B's questions are due, and due earlier, than the keeper takes in a tick: while B is
    uninstalled they stay due, and must not fill every tick's batch so that A's never escalate."""
    asked_in_both(installed, clock)
    installed.installations.delete(TEAM_B.id, None)
    with db.transaction() as session:
        session.add_all(
            Question(team_id=TEAM_B.id, asker_id="U1", text=f"Older question {n}?", source="command",
                     channel_id="C1", state="waiting", wave=1, request_key=f"older-{n}", asked_at=WEDNESDAY_MORNING,
                     due_at=WEDNESDAY_MORNING, lease_until=None, post_ts=f"1.{n:06d}")
            for n in range(250)
        )  # fmt: skip
    clock.advance(hours=4, seconds=5)

    installed.poster.run_due()

    assert len(asks_dms(installed.a)) == 4  # A's question escalated to its fourth expert
