"""Asking the workspace end to end, through signed requests against the Slack double: answered from a
tip, routed to the people who know, *I can help*, a reply, *Answered*, saved as a tip, *Not me*, an
escalation after the window and the digest's *Can you help?* (on a movable clock), questions
channels, load spreading, forged buttons, a deleted question, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.questions.deadlines import NOTICE_EVENT
from bot.questions.routing import ASK_EVENT, POST_EVENT
from bot.questions.service import open_questions
from bot.schedules.posting import ScheduledPoster
from runtime.factory import build_schedulers
from runtime.settings import Settings
from storage.db import Database
from storage.models import Question, QuestionAsk, Tip, TipVote
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.test_mentor import save_profile
from tests.slack_double import BOT_USER_ID, TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

EXPERTS = ("U5", "U6", "U7", "U8", "U2", "U3")  # teach postgres, best first
QUESTIONS = "CQ"
WEDNESDAY_MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, everyone's zone here


@pytest.fixture
def workspace(sender: SlackSender, slack: SlackDouble, clock: FakeClock) -> SlackSender:
    """Six people who teach postgres (the more senior, the earlier), a tip on it, a questions channel."""
    clock.now = WEDNESDAY_MORNING
    for user_id, name in (("U5", "fay"), ("U6", "gus"), ("U7", "hal"), ("U8", "ivy")):
        slack.add_user(user_id, name)
    slack.add_channel(QUESTIONS, "help", members=("U1", "U2", "U3", *EXPERTS, ADMIN_ID))
    levels = ("lead", "senior", "senior", "mid", "junior", "new")
    for user_id, level in zip(EXPERTS, levels, strict=True):
        save_profile(sender, slack, user_id, teaches="postgres", level=level, open_to=["mentoring"])
    sender.command("Use EXPLAIN ANALYZE to see why a postgres query is slow #postgres", user="U2", command="/tip")
    return sender


@pytest.fixture
def scheduler(settings: Settings, db: Database, clock: FakeClock) -> Iterator[ScheduledPoster]:
    """The scheduler's poster as the runtime builds it, questions' deadlines and all."""
    poster, _ = build_schedulers(settings, db=db, clock=clock)
    yield poster
    poster.release_leadership()


def ask(sender: SlackSender, text: str, user: str = "U1", channel: str = "C1") -> str:
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, channel=channel, command="/ask")
    if answer.body:
        return str(answer.json())
    return "\n".join(str(r) for r in sender.double.responses[before:])


def click(sender: SlackSender, user: str, action_id: str, value: str, channel: str | None = None) -> str:
    before = len(sender.double.responses)
    sender.button(user=user, action_id=action_id, value=value, channel=channel)
    return "\n".join(str(r) for r in sender.double.responses[before:])


def questions(db: Database) -> list[Question]:
    with db.snapshot() as session:
        return list(session.scalars(select(Question).order_by(Question.id)))


def asks(db: Database, question_id: int | None = None) -> list[QuestionAsk]:
    with db.snapshot() as session:
        query = select(QuestionAsk).order_by(QuestionAsk.created_at, QuestionAsk.user_id)
        if question_id is not None:
            query = query.where(QuestionAsk.question_id == question_id)
        return list(session.scalars(query))


def dms_about(slack: SlackDouble, event_type: str = ASK_EVENT) -> list[dict[str, Any]]:
    return [p for p in slack.posts() if (p.get("metadata") or {}).get("event_type") == event_type]


def reply_in_thread(sender: SlackSender, slack: SlackDouble, channel: str, thread_ts: str, user: str, text: str) -> str:
    ts = slack.add_message(channel, user, text, thread_ts=thread_ts)
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "thread_ts": thread_ts}
    sender.event({**event, "channel_type": "channel", "parent_user_id": BOT_USER_ID})
    return ts


# -- answered from what the workspace knows -----------------------------------------------------


def test_a_tip_answers_the_question_and_counts_as_the_askers_vote(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    answer = ask(workspace, "How do I see why a postgres query is slow?")
    (question,) = questions(db)
    (tip,) = list(_tips(db))
    assert "EXPLAIN ANALYZE" in answer and "This answered it" in answer and "Still need help" in answer
    assert question.state == "suggested" and dms_about(slack) == []

    refused = click(workspace, "U3", "question_tip_answered", f"{question.id}:{tip.id}")
    assert "Only <@U1>" in refused and _voters(db, tip.id) == set()

    said = click(workspace, "U1", "question_tip_answered", f"{question.id}:{tip.id}")
    assert f"tip #{tip.number} answered it" in said and "helpful vote" in said
    assert questions(db)[0].state == "answered_by_tip" and questions(db)[0].answered_tip_id == tip.id
    assert _voters(db, tip.id) == {"U1"}
    click(workspace, "U1", "question_tip_answered", f"{question.id}:{tip.id}")  # again: nothing more
    assert _voters(db, tip.id) == {"U1"}


def _tips(db: Database) -> list[Tip]:
    with db.snapshot() as session:
        return list(session.scalars(select(Tip).order_by(Tip.id)))


def _voters(db: Database, tip_id: int) -> set[str]:
    with db.snapshot() as session:
        return set(session.scalars(select(TipVote.user_id).where(TipVote.tip_id == tip_id)))


def test_no_good_tip_goes_straight_to_the_people_who_know(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    answer = ask(workspace, "How do I tune autovacuum for postgres tables?")

    (question,) = questions(db)
    assert question.state == "waiting" and question.wave == 1 and question.topics == "postgres"
    (post,) = dms_about(slack, POST_EVENT)
    assert post["channel"] == "C1" and "<@U1> asks" in str(post["blocks"]) and "autovacuum" in str(post["blocks"])
    dms = dms_about(slack)
    assert sorted(dm["channel"] for dm in dms) == ["U5", "U6", "U7"]  # the three best, never the asker
    (lead,) = [dm for dm in dms if dm["channel"] == "U5"]
    assert "Why you: teaches postgres (lead / principal)" in str(lead["blocks"])
    assert all("question_can_help" in str(dm["blocks"]) and "question_not_me" in str(dm["blocks"]) for dm in dms)
    assert "asked the 3 colleagues who know #postgres" in answer
    assert {a.user_id: a.state for a in asks(db)} == {"U5": "asked", "U6": "asked", "U7": "asked"}


def test_i_can_help_a_reply_answered_and_saved_as_a_tip_once(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    assert question.post_ts is not None and question.thread_ts == question.post_ts

    click(workspace, "U5", "question_can_help", str(question.id))
    assert {a.user_id: a.state for a in asks(db)}["U5"] == "helping"
    assert [d["channel"] for d in dms_about(slack)].count("U5") == 1
    shown = slack.message(next(a.dm_channel_id for a in asks(db) if a.user_id == "U5") or "", _dm_ts(db, "U5"))
    assert shown is not None and "Thanks for helping" in str(shown["blocks"]) and "question_not_me" not in str(shown)

    assert "Nobody has replied" in click(workspace, "U1", "question_answered", str(question.id), channel="C1")
    answer = "Lower autovacuum_vacuum_scale_factor on the big tables, <!channel> & check pg_stat_user_tables"
    reply_in_thread(workspace, slack, "C1", question.post_ts, "U5", answer)
    post = slack.message("C1", question.post_ts)
    assert post is not None and "question_answered" in str(post["blocks"])  # the asker's *Answered* appears
    assert questions(db)[0].first_reply_at is not None

    assert "Only <@U1>" in click(workspace, "U3", "question_answered", str(question.id), channel="C1")
    assert questions(db)[0].state == "waiting"

    offered = click(workspace, "U1", "question_answered", str(question.id), channel="C1")
    question = questions(db)[0]
    assert question.state == "answered" and question.answered_by == "U5" and "Save as tip" in offered
    post = slack.message("C1", str(question.post_ts))
    assert post is not None and "Answered by <@U5>" in str(post["blocks"]) and "question_close" not in str(post)
    (offer,) = dms_about(slack, "peerlearn_question_answer")
    assert offer["channel"] == "U5" and "question_save_tip" in str(offer["blocks"])
    assert all(not a.open for a in asks(db))

    assert "Only the asker or the person who answered" in click(workspace, "U3", "question_save_tip", str(question.id))
    saved = click(workspace, "U5", "question_save_tip", str(question.id))
    again = click(workspace, "U1", "question_save_tip", str(question.id), channel="C1")
    tip = _tips(db)[-1]
    assert len(_tips(db)) == 2 and f"tip #{tip.number}" in saved and f"tip #{tip.number}" in again
    assert tip.author_id == "U5" and tip.source == "question" and "postgres" in tip.tags.split()
    assert tip.message_ts is not None and tip.text.startswith("Lower autovacuum") and "@channel" in tip.text
    assert questions(db)[0].saved_tip_id == tip.id

    # The accepted answer is expertise now; and someone on a break is asked nothing.
    workspace.command("pause 2", user="U6", command="/mentor")
    assert "Lower autovacuum" in ask(workspace, "How do I tune autovacuum for big postgres tables?")  # the new tip
    ask(workspace, "Which postgres replication setup fits a small team?")
    asked = {a.user_id: a.reasons for a in asks(db, questions(db)[-1].id)}
    assert "1 accepted answer on postgres" in asked["U5"] and "U6" not in asked


def _dm_ts(db: Database, user_id: str) -> str:
    return next(str(a.dm_ts) for a in asks(db) if a.user_id == user_id)


def test_several_replies_let_the_asker_pick_the_answer(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    thread = str(question.post_ts)
    reply_in_thread(workspace, slack, "C1", thread, "U1", "More context: the table has 2 billion rows")  # the asker
    first = reply_in_thread(workspace, slack, "C1", thread, "U6", "Partition it")
    reply_in_thread(workspace, slack, "C1", thread, "U7", "Raise the cost limit")

    shown = click(workspace, "U1", "question_answered", str(question.id), channel="C1")
    assert "Which reply answered" in shown and "gus: Partition it" in shown and "More context" not in shown
    assert "Only <@U1>" in click(workspace, "U7", "question_pick_reply", f"{question.id}:{first}")
    click(workspace, "U1", "question_pick_reply", f"{question.id}:{first}")
    assert questions(db)[0].answered_by == "U6" and questions(db)[0].answer_ts == first


def test_not_me_asks_the_next_person_and_a_closed_dm_is_skipped(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_user("U6", "gus", dms_closed=True)  # Slack answers cannot_dm_bot
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    assert {a.user_id: a.state for a in asks(db)} == {"U5": "asked", "U6": "unreachable", "U7": "asked", "U8": "asked"}

    assert "wasn't sent to you" in click(workspace, "U2", "question_not_me", str(question.id))
    click(workspace, "U7", "question_not_me", str(question.id))
    states = {a.user_id: a.state for a in asks(db)}
    assert states["U7"] == "declined" and states["U2"] == "asked"  # the next best, in U7's place
    assert sorted(dm["channel"] for dm in dms_about(slack)) == ["U2", "U5", "U6", "U7", "U8"]  # U6's was refused
    declined = slack.message(next(str(a.dm_channel_id) for a in asks(db) if a.user_id == "U7"), _dm_ts(db, "U7"))
    assert declined is not None and "ask someone else" in str(declined["blocks"])
    click(workspace, "U7", "question_not_me", str(question.id))  # again: nobody more is asked
    assert len(dms_about(slack)) == 5


def test_a_deactivated_person_is_out_of_their_asks_and_the_next_person_is_asked(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    assert {a.user_id: a.state for a in asks(db)} == {"U5": "asked", "U6": "asked", "U7": "asked"}
    u2_tips = [tip.id for tip in _tips(db) if tip.author_id == "U2"]

    def deactivate(user: str) -> None:
        workspace.event({"type": "user_change", "user": {"id": user, "team_id": TEAM_ID, "deleted": True}})

    deactivate("U6")

    states = {a.user_id: a.state for a in asks(db)}
    assert states["U6"] == "declined" and states["U8"] == "asked"  # the next best, in U6's place
    assert questions(db)[0].state == "waiting" and questions(db)[0].wave == 1  # same wave, same deadline
    assert sorted(dm["channel"] for dm in dms_about(slack)) == ["U5", "U6", "U7", "U8"]
    deactivate("U6")  # Slack says it again: nobody more is asked
    assert len(dms_about(slack)) == 4
    deactivate("U2")  # never asked about it: the question is untouched, and their tips stay theirs
    assert len(dms_about(slack)) == 4 and [tip.id for tip in _tips(db) if tip.author_id == "U2"] == u2_tips
    assert question.id == questions(db)[0].id


def test_unanswered_it_escalates_once_then_the_asker_is_told_and_the_digest_asks(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, scheduler: ScheduledPoster
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    assert question.due_at == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 4 working hours: 10:00 → 14:00 Berlin

    clock.advance(hours=3, minutes=59)
    scheduler.run_due()
    assert len(dms_about(slack)) == 3

    clock.advance(minutes=1)
    scheduler.run_due()
    scheduler.run_due()  # a second tick, or a second scheduler: the escalation happened once
    question = questions(db)[0]
    assert question.wave == 2 and question.state == "waiting"
    assert sorted(dm["channel"] for dm in dms_about(slack)) == sorted(EXPERTS)  # the next three, once each
    assert question.due_at == datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # the rest of the working day: 18:00 Berlin

    clock.advance(hours=20)
    scheduler.run_due()
    scheduler.run_due()
    assert questions(db)[0].state == "unanswered"
    (notice,) = dms_about(slack, NOTICE_EVENT)
    assert notice["channel"] == "U1" and "Can you help?" in notice["text"]
    assert len(dms_about(slack)) == 6  # nobody else

    digest = _digest_now(workspace, slack)
    assert "Can you help?" in digest and "tune autovacuum" in digest
    assert "1 question asked" in digest and "1 escalated" in digest


def _digest_now(sender: SlackSender, slack: SlackDouble) -> str:
    sender.command("digest now <#C1|general>", user=ADMIN_ID, command="/peerlearn")
    (digest,) = [p for p in slack.posts("C1") if "peer learning" in p["text"]]
    return str(digest["blocks"])


def test_a_reply_stops_the_escalation(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, scheduler: ScheduledPoster
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    reply_in_thread(workspace, slack, "C1", str(question.post_ts), "U8", "Look at autovacuum_naptime")
    clock.advance(days=3)
    scheduler.run_due()
    assert questions(db)[0].wave == 1 and questions(db)[0].due_at is None and len(dms_about(slack)) == 3


def test_a_routing_whose_holder_died_resumes_without_a_second_dm_or_post(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, scheduler: ScheduledPoster
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    with db.transaction() as session:  # as if the run died after U6's DM reached Slack, before it was recorded
        row = session.get(Question, question.id)
        assert row is not None
        row.state, row.lease_until, row.post_ts, row.permalink = "routing", WEDNESDAY_MORNING, None, None
        ask_row = session.get(QuestionAsk, (question.id, "U6"))
        assert ask_row is not None
        ask_row.state, ask_row.dm_ts = "pending", "sending"

    clock.advance(minutes=5)
    scheduler.run_due()
    question = questions(db)[0]
    assert question.state == "waiting" and question.post_ts is not None
    assert len(dms_about(slack, POST_EVENT)) == 1 and len(dms_about(slack)) == 3  # found by their metadata
    assert {a.user_id: a.state for a in asks(db)}["U6"] == "asked"


def peerlearn(sender: SlackSender, text: str, user: str = ADMIN_ID) -> str:
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, command="/peerlearn")
    return str(answer.json()) if answer.body else "\n".join(str(r) for r in sender.double.responses[before:])


def say(sender: SlackSender, slack: SlackDouble, channel: str, user: str, text: str) -> str:
    ts = slack.add_message(channel, user, text)
    sender.event(
        {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "channel_type": "channel"}
    )
    return ts


def test_a_questions_channel_answers_questions_in_their_thread(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    assert "Only workspace admins" in peerlearn(workspace, f"questions <#{QUESTIONS}|help> on", user="U1")
    assert "From now on" in peerlearn(workspace, f"questions <#{QUESTIONS}|help> on")
    assert f"<#{QUESTIONS}>" in peerlearn(workspace, "questions", user="U1")
    slack.add_channel("GLEADS", "leads", members=("U1", ADMIN_ID), is_private=True)
    assert "must be public" in peerlearn(workspace, "questions <#GLEADS|leads> on")

    say(workspace, slack, QUESTIONS, "U3", "Thanks all, that fixed it")
    say(workspace, slack, QUESTIONS, "U3", "Why?")  # reads as a question, but one word
    assert questions(db) == []
    assert any("whole question" in e["text"] for e in slack.calls_to("chat.postEphemeral"))

    ts = say(workspace, slack, QUESTIONS, "U1", "how can I see why a postgres query is slow")
    (question,) = questions(db)
    assert question.source == "channel" and question.thread_ts == ts and question.state == "suggested"
    (reply,) = [p for p in slack.posts(QUESTIONS) if p.get("thread_ts") == ts]
    assert "<@U1>, these tips" in str(reply["blocks"]) and "EXPLAIN ANALYZE" in str(reply["blocks"])

    click(workspace, "U1", "question_need_help", str(question.id), channel=QUESTIONS)
    question = questions(db)[0]
    assert question.state == "waiting" and len(dms_about(slack)) == 3
    redrawn = slack.message(QUESTIONS, str(question.post_ts))
    assert redrawn is not None and "I asked 3 colleagues" in str(redrawn["blocks"])
    assert "question_tip_answered" not in str(redrawn["blocks"])

    say(workspace, slack, QUESTIONS, "U2", "How do I tune autovacuum?")  # too few words for a tip match: people
    assert len(questions(db)) == 2 and questions(db)[1].state == "waiting"

    assert "no longer answered" in peerlearn(workspace, f"questions <#{QUESTIONS}|help> off")
    say(workspace, slack, QUESTIONS, "U3", "Who knows kubernetes?")
    assert len(questions(db)) == 2


def test_nobody_is_asked_about_more_than_three_open_questions(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    for number in range(4):
        ask(workspace, f"How do I tune autovacuum for postgres tables, case {number}?", user="U1")
    by_question = [{a.user_id for a in asks(db, q.id)} for q in questions(db)]
    assert by_question[:3] == [{"U5", "U6", "U7"}] * 3
    assert by_question[3] == {"U8", "U2", "U3"}  # the three best are full
    click(workspace, "U1", "question_close", str(questions(db)[0].id), channel="C1")
    ask(workspace, "How do I tune autovacuum for postgres tables, case 5?", user="U1")
    assert {a.user_id for a in asks(db, questions(db)[-1].id)} == {"U5", "U6", "U7"}  # room again


def test_forged_and_foreign_button_values_change_nothing(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    with db.transaction() as session:
        session.add(
            Question(team_id="T0OTHER", asker_id="U1", text="Another workspace's question", source="command",
                     channel_id="C9", state="waiting", wave=1, request_key="other", asked_at=WEDNESDAY_MORNING)
        )  # fmt: skip
    foreign = questions(db)[-1]
    assert "not one I know" in click(workspace, "U1", "question_close", str(foreign.id))
    assert "wasn't sent to you" in click(workspace, "U5", "question_not_me", str(foreign.id))
    assert "Only <@U1>" in click(workspace, "U3", "question_close", str(question.id), channel="C1")
    for value in ("1 OR 1=1", "99999999999999999999", "-1", "", f"{question.id}:x", "0"):
        for action_id in ("question_close", "question_tip_answered", "question_pick_reply", "question_not_me"):
            assert workspace.button(user="U1", action_id=action_id, value=value).status == 200
    assert [q.state for q in questions(db)] == ["waiting", "waiting"]
    assert {a.state for a in asks(db)} == {"asked"}


def test_a_deleted_question_closes_it(workspace: SlackSender, slack: SlackDouble, db: Database) -> None:
    peerlearn(workspace, f"questions <#{QUESTIONS}|help> on")
    ts = say(workspace, slack, QUESTIONS, "U1", "How do I tune autovacuum for postgres tables?")
    ask(workspace, "What is the best way to vacuum a big postgres table?")
    channel_question, command_question = questions(db)

    deleted = {"type": "message", "subtype": "message_deleted", "channel": QUESTIONS, "hidden": True}
    workspace.event({**deleted, "deleted_ts": ts, "ts": "1900000000.000001"})
    tombstone = {"type": "message", "subtype": "tombstone", "ts": str(command_question.post_ts), "text": ""}
    workspace.event({"type": "message", "subtype": "message_changed", "channel": "C1", "message": tombstone})
    assert [(q.state, q.closed_reason) for q in questions(db)] == [("closed", "deleted"), ("closed", "deleted")]
    assert all(not a.open for a in asks(db))
    status = slack.message(QUESTIONS, str(channel_question.post_ts))
    assert status is not None and "Closed" in str(status["blocks"])


def test_bad_input_gets_an_example_or_the_reason_and_stores_nothing(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    assert "/ask How do I" in ask(workspace, "")
    assert "whole question" in ask(workspace, "postgres")
    too_long = ask(workspace, "How " + "x" * 3000 + "?")
    assert "3,005 characters; the limit is 3,000" in too_long
    assert "close" in ask(workspace, "help")
    assert "no question `99999999999`" in ask(workspace, "close 99999999999")
    assert questions(db) == []

    # As Slack sends it: a mention as markup, what was typed entity-encoded.
    ask(workspace, "Why does <!channel> &amp; &lt;b&gt; break my postgres query, <@U2>?")
    (post,) = dms_about(slack, POST_EVENT)
    shown = str(post["blocks"]) + str([dm["blocks"] for dm in dms_about(slack)])
    assert "<!channel>" not in shown and "<b>" not in shown
    assert "@channel &amp; &lt;b&gt; break" in shown and "<@U2>" not in shown


def test_in_a_private_conversation_only_tips_answer_and_nothing_is_kept(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    answer = ask(workspace, "How do I see why a postgres query is slow?", channel="CPRIV")
    assert "EXPLAIN ANALYZE" in answer and "private" in answer and "This answered it" not in answer
    assert "private" in ask(workspace, "How do I tune autovacuum for postgres tables?", channel="CPRIV")
    assert questions(db) == [] and dms_about(slack) == []


def test_ask_mine_and_close(workspace: SlackSender, slack: SlackDouble, db: Database) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    ask(workspace, "How do I see why a postgres query is slow?")
    listed = ask(workspace, "mine")
    assert "tune autovacuum" in listed and "colleagues asked" in listed and "tips suggested" in listed
    first = questions(db)[0]
    assert "is closed" in ask(workspace, f"close {first.number}")
    assert "Only <@U1>" in ask(workspace, f"close {questions(db)[1].number}", user="U2")
    assert [q.state for q in questions(db)] == ["closed", "suggested"]
    with db.snapshot() as session:  # what the App Home will show
        assert [q.id for q in open_questions(session, TEAM_ID, "U1")] == [questions(db)[1].id]
        assert open_questions(session, "T0OTHER", "U1") == []
    post = slack.message("C1", str(first.post_ts))
    assert post is not None and "Closed by the asker" in str(post["blocks"])
    click(workspace, "U5", "question_can_help", str(first.id))
    dm = slack.message(next(str(a.dm_channel_id) for a in asks(db) if a.user_id == "U5"), _dm_ts(db, "U5"))
    assert dm is not None and "This question is closed" in str(dm["blocks"])
    assert {a.state for a in asks(db)} == {"asked"}
    assert "closed" in ask(workspace, "mine")


def test_ask_peerlearn_on_a_message(workspace: SlackSender, slack: SlackDouble, db: Database) -> None:
    text = "How do I tune autovacuum for postgres tables?"
    ts = slack.add_message("C1", "U3", text)
    message = {"type": "message", "user": "U3", "text": text, "ts": ts}
    workspace.message_shortcut(user="U1", channel="C1", message=message, callback_id="ask_peerlearn")
    (question,) = questions(db)
    assert question.asker_id == "U3" and question.thread_ts == ts and question.source == "shortcut"
    assert question.post_ts != ts and question.state == "waiting"
    (status,) = [p for p in slack.posts("C1") if p.get("thread_ts") == ts]
    assert "question_close" in str(status["blocks"]) and "Only <@U3>" in str(status["blocks"])

    bot = {"type": "message", "bot_id": "B1", "text": "How do bots ask questions?", "ts": "1.000002"}
    workspace.message_shortcut(user="U1", channel="C1", message=bot, callback_id="ask_peerlearn")
    assert "posted by an app" in str(slack.responses[-1])


def test_admins_see_what_came_of_questions(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    ask(workspace, "How do I see why a postgres query is slow?")
    (question,) = questions(db)
    tip = _tips(db)[0]
    click(workspace, "U1", "question_tip_answered", f"{question.id}:{tip.id}")
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    clock.advance(minutes=12)
    reply_in_thread(workspace, slack, "C1", str(questions(db)[1].post_ts), "U6", "Lower the scale factor")

    assert "Only workspace admins" in peerlearn(workspace, "stats", user="U1")
    shown = peerlearn(workspace, "stats week")
    assert "Questions, the last 7 days" in shown
    assert "2 questions asked · 1 answered from tips · 0 by colleagues · first reply in 12 min (median)" in shown
    assert "0 escalated · 0 saved as tips" in shown
    assert "`stats` takes" in peerlearn(workspace, "stats year")
