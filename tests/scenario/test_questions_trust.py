"""Asking the workspace, where reviews and a new user found it wanting: a questions channel turned
private, the Home form's channel taken on the client's word, `/ask` in a loop, mistyped subcommands,
and what the post and `/ask mine` say about who was asked."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from bot.questions.experts import MAX_ASKS_PER_DAY, MAX_OPEN
from bot.schedules import posting
from bot.schedules.posting import ScheduledPoster
from storage import questions as question_queries
from storage.db import Database
from storage.models import QuestionAsk, QuestionsChannel
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario import test_questions
from tests.scenario.home_helpers import click_on_home, home_text, open_home
from tests.scenario.test_home_questions import submit_question
from tests.scenario.test_mentor import save_profile
from tests.scenario.test_questions import EXPERTS, QUESTIONS, ask, click, dms_about, peerlearn, questions, say
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

workspace = test_questions.workspace  # the fixture: six people who teach postgres, a tip on it
ROUTED = "How do I tune autovacuum for postgres tables?"  # no tip answers it: it goes to people


def _questions_channels(db: Database) -> list[str]:
    with db.snapshot() as session:
        return list(session.scalars(select(QuestionsChannel.channel_id)))


def _ephemerals_to(slack: SlackDouble, user: str) -> str:
    return str([e for e in slack.calls_to("chat.postEphemeral") if e.get("user") == user])


# -- 1. a questions channel that became private --------------------------------------------------


def test_a_questions_channel_made_private_keeps_its_questions_and_is_turned_off(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("CLEAD", "leadership", members=("U1", ADMIN_ID))
    assert "From now on" in peerlearn(workspace, "questions <#CLEAD|leadership> on")
    slack.channels["CLEAD"].is_private = True  # converted to private since

    say(workspace, slack, "CLEAD", "U1", f"{ROUTED} Asking for the layoffs list")

    assert questions(db) == [] and dms_about(slack) == []
    assert not [p for p in slack.posts() if p["channel"] in EXPERTS and "layoffs" in str(p)]
    assert "won't take your question to colleagues" in _ephemerals_to(slack, "U1")  # it stayed there
    assert _questions_channels(db) == []
    (told,) = [p for p in slack.posts(ADMIN_ID) if "no longer a questions channel" in str(p)]
    assert "<#CLEAD>" in told["text"]


def test_a_questions_channel_slack_cant_describe_counts_as_private(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("CLEAD", "leadership", members=("U1", ADMIN_ID))
    peerlearn(workspace, "questions <#CLEAD|leadership> on")
    slack.fail_next("conversations.info", error="fatal_error")

    say(workspace, slack, "CLEAD", "U1", "How do I see why a postgres query is slow?")

    assert questions(db) == [] and dms_about(slack) == []  # fail closed: tips only, nothing kept
    told_asker = _ephemerals_to(slack, "U1")
    assert "EXPLAIN ANALYZE" in told_asker and "won't take your question to colleagues" in told_asker
    assert _questions_channels(db) == ["CLEAD"]  # a passing fault turns nothing off
    say(workspace, slack, "CLEAD", "U1", ROUTED)
    assert len(questions(db)) == 1 and len(dms_about(slack)) == 3


# -- 2. the Home form's channel is the client's word ---------------------------------------------


def _open_ask_form(sender: SlackSender, slack: SlackDouble, user: str) -> None:
    open_home(sender, user)
    click_on_home(sender, slack, user, "home_ask_question")


def test_the_ask_form_never_posts_where_the_asker_may_not(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("GSEC", "secret", members=("U5", "U6"), is_private=True)
    slack.add_channel("CANN", "announcements", members=(ADMIN_ID,), bot=False)
    question = "How do I claim the free postgres <giftcard> & more?"

    _open_ask_form(workspace, slack, "U1")
    submit_question(workspace, slack, "U1", question, "GSEC")  # forged: a private channel U1 is not in
    home = home_text(slack, "U1")
    assert "private channel you're not in" in home and "&lt;giftcard&gt; &amp; more" in home  # given back

    _open_ask_form(workspace, slack, "U1")
    submit_question(workspace, slack, "U1", question, "CANN")  # public, but the app was never invited
    assert "I'm not in <#CANN>" in home_text(slack, "U1")

    assert questions(db) == [] and dms_about(slack) == []
    assert slack.posts("GSEC") == [] and slack.posts("CANN") == []
    assert slack.calls_to("conversations.join") == []


# -- 3. no endless asking ------------------------------------------------------------------------


def test_ask_and_close_in_a_loop_stops_at_the_hourly_quota(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    refusals = []
    for number in range(8):
        answer = ask(workspace, f"How do I tune postgres vacuum, case {number}?")
        if "ask again at" in answer:
            refusals.append(answer)
        else:
            ask(workspace, f"close {questions(db)[-1].number}")
    assert len(questions(db)) == 5 and len(refusals) == 3
    assert "case 5?" in refusals[0] and "<!date^" in refusals[0]  # the question back, and when
    assert len(dms_about(slack)) <= 15

    clock.advance(minutes=61)
    assert "ask again" not in ask(workspace, "How do I tune postgres vacuum, once more?")
    assert len(questions(db)) == 6


def test_nobody_is_dmed_about_more_questions_a_day_than_the_cap_closed_or_not(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    for number in range(7):
        ask(workspace, f"How do I tune postgres vacuum, case {number}?")
        ask(workspace, f"close {questions(db)[-1].number}")
        clock.advance(minutes=61)  # past the asker's own hourly quota
    dmed = [dm["channel"] for dm in dms_about(slack)]
    assert dmed.count("U5") == 6  # the best-known expert: six in the day, then the next ones
    assert set(dmed[-3:]) == {"U8", "U2", "U3"}


# -- 4. mistyped subcommands ---------------------------------------------------------------------


def test_a_subcommand_with_a_bad_argument_gets_a_hint_and_posts_nothing(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    before = len(slack.posts())
    for typed in ("close abc", "close", "delete 3", "remove 3", "cancel", "close 3 please"):
        answer = ask(workspace, typed)
        assert "Did you mean `/ask close" in answer, typed
    assert "`/ask close 3`" in ask(workspace, "delete 3")
    assert "takes nothing after it" in ask(workspace, "mine please")
    assert questions(db) == [] and len(slack.posts()) == before


# -- 5 and 6. what the post and /ask mine say about who was asked --------------------------------


def test_the_post_says_who_knows_for_one_and_mine_says_nobody_was_asked(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    save_profile(workspace, slack, "U4", teaches="kafka", level="senior", open_to=["mentoring"])
    answer = ask(workspace, "How do I rebalance kafka partitions safely?")
    assert "asked the colleague who knows #kafka" in answer
    post = slack.message("C1", str(questions(db)[-1].post_ts))
    assert post is not None and "I asked 1 colleague who knows #kafka." in str(post["blocks"])

    ask(workspace, "Where do I get reimbursed for travel expenses?")  # nobody known: posted for anyone
    listed = ask(workspace, "mine")
    assert "posted for anyone to answer" in listed and "1 colleague asked" in listed
    assert "colleagues asked" not in listed


def test_ask_peerlearn_on_others_messages_counts_against_the_person_using_it(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    # U3 takes colleagues' messages to the workspace: U3's quota, not the messages' authors'.
    for author in ("U2", "U1"):
        for n in range(5):
            message = {"type": "message", "user": author, "ts": f"17000000{n}.00{author[-1]}",
                       "text": f"How do I tune postgres vacuum for {author}, case {n}?"}  # fmt: skip
            workspace.message_shortcut(user="U3", channel="C1", message=message, callback_id="ask_peerlearn")

    assert len(questions(db)) == 5
    assert "ask again" not in ask(workspace, "How do I tune postgres autovacuum settings myself?", user="U2")
    assert len(questions(db)) == 6
    with db.snapshot() as session:  # theirs to see in my-data, and forgotten with them
        assert len(question_queries.questions_data_of(session, "T0TEST", "U3")["others_messages_asked"]) == 5
        assert question_queries.erase_questions_of(session, "T0TEST", "U3") == 5


# -- 7. quotas under concurrent jobs -------------------------------------------------------------


def _racing(sender: SlackSender, asks: list[tuple[str, str]]) -> None:
    """Every `/ask` acknowledged first, then their jobs run together on the worker's 8 threads (two
    workers, or two processes, as deployed): each job's quota check meets the others' inserts."""
    sender.concurrent = True
    for user, text in asks:
        assert sender.command(text, user=user, channel="C1", command="/ask").status == 200
    sender.concurrent = False
    assert sender.settle is not None
    sender.settle()


def test_racing_asks_stop_exactly_at_the_hourly_quota(workspace: SlackSender, slack: SlackDouble, db: Database) -> None:
    _racing(workspace, [("U1", f"How do I tune postgres vacuum, race {n}?") for n in range(8)])

    assert len(questions(db)) == 5  # the quota's 5, however the jobs interleaved
    refused = [r for r in slack.responses if "ask again at" in str(r)]
    assert len(refused) == 3


def test_racing_askers_never_put_more_open_questions_on_an_expert_than_the_cap(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    askers = [f"UA{n}" for n in range(8)]
    for user in askers:
        slack.add_user(user, f"asker{user.lower()}")

    _racing(workspace, [(user, f"How do I tune postgres vacuum for {user}?") for user in askers])

    assert len(questions(db)) == 8
    per_expert = Counter(ask.user_id for ask in test_questions.asks(db) if ask.state == "asked")
    assert per_expert["U5"] == MAX_OPEN  # the best-known expert: full, never over
    assert max(per_expert.values()) == MAX_OPEN


def test_racing_askers_never_dm_an_expert_past_the_daily_cap(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    for number in range(MAX_ASKS_PER_DAY - 1):  # U5 was asked (and closed) all but one of today's
        ask(workspace, f"How do I tune postgres vacuum, case {number}?")
        ask(workspace, f"close {questions(db)[-1].number}")
        clock.advance(minutes=61)
    askers = [f"UA{n}" for n in range(6)]
    for user in askers:
        slack.add_user(user, f"asker{user.lower()}")

    _racing(workspace, [(user, f"How do I tune postgres vacuum for {user}?") for user in askers])

    dmed = [dm["channel"] for dm in dms_about(slack)]
    assert dmed.count("U5") == MAX_ASKS_PER_DAY


# -- 8. a channel turned private while its question waits ----------------------------------------

scheduler = test_questions.scheduler  # the fixture: the scheduler's poster, questions' deadlines and all


def _told_private(slack: SlackDouble, user: str = "U1") -> list[dict[str, Any]]:
    return [p for p in slack.posts(user) if "is private now, so I won't take your question" in p["text"]]


def _closed_as_private(db: Database) -> bool:
    (question,) = questions(db)
    return question.state == "closed" and question.closed_reason == "private"


def test_a_question_whose_channel_turned_private_is_never_escalated_outside_it(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, scheduler: ScheduledPoster
) -> None:
    assert "From now on" in peerlearn(workspace, f"questions <#{QUESTIONS}|help> on")
    say(workspace, slack, QUESTIONS, "U1", f"{ROUTED} Asking for the reorg plan")
    assert len(dms_about(slack)) == 3  # wave 1, while the channel was public
    slack.channels[QUESTIONS].is_private = True  # converted since

    clock.advance(hours=5)  # past the first window: the escalation is due
    scheduler.run_due()
    scheduler.run_due()

    assert len(dms_about(slack)) == 3  # nobody outside the channel asked
    assert _closed_as_private(db)
    (told,) = _told_private(slack)  # the asker, once, with their question
    assert "reorg plan" in told["text"] and f"<#{QUESTIONS}>" in told["text"]
    assert _questions_channels(db) == []  # as the first check does: no longer a questions channel
    assert [p for p in slack.posts(ADMIN_ID) if "no longer a questions channel" in str(p)]
    clock.advance(days=1)
    scheduler.run_due()
    assert len(dms_about(slack)) == 3 and len(_told_private(slack)) == 1


def test_not_me_on_a_question_whose_channel_turned_private_asks_nobody_new(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ask(workspace, ROUTED)
    (question,) = questions(db)
    slack.channels["C1"].is_private = True

    click(workspace, "U5", "question_not_me", str(question.id))
    click(workspace, "U6", "question_not_me", str(question.id))

    assert sorted(dm["channel"] for dm in dms_about(slack)) == ["U5", "U6", "U7"]  # U8 was next: not asked
    assert _closed_as_private(db) and len(_told_private(slack)) == 1


def test_still_need_help_after_the_channel_turned_private_asks_nobody(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    peerlearn(workspace, f"questions <#{QUESTIONS}|help> on")
    say(workspace, slack, QUESTIONS, "U1", "how can I see why a postgres query is slow")
    (question,) = questions(db)
    assert question.state == "suggested"  # a tip answered it first
    slack.channels[QUESTIONS].is_private = True

    click(workspace, "U1", "question_need_help", str(question.id), channel=QUESTIONS)

    assert dms_about(slack) == [] and _closed_as_private(db) and len(_told_private(slack)) == 1


def test_an_escalation_waits_while_slack_cannot_describe_the_channel(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, scheduler: ScheduledPoster
) -> None:
    ask(workspace, ROUTED)
    clock.advance(hours=5)
    slack.fail_next("conversations.info", error="fatal_error")

    scheduler.run_due()

    assert len(dms_about(slack)) == 3 and questions(db)[0].state == "routing"  # fail closed, for now
    clock.advance(minutes=3)  # its lease ran out: the keeper resumes it, and Slack answers now
    scheduler.run_due()
    assert sorted(dm["channel"] for dm in dms_about(slack)) == sorted(EXPERTS)
    assert questions(db)[0].state == "waiting" and questions(db)[0].wave == 2 and _told_private(slack) == []


def test_a_dm_a_crash_left_unsent_is_not_sent_once_the_channel_is_private(
    workspace: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, scheduler: ScheduledPoster
) -> None:
    ask(workspace, ROUTED)
    (question,) = questions(db)
    with db.transaction() as session:  # as if the run died before U7's DM went out
        row = session.get(QuestionAsk, (question.id, "U7"))
        assert row is not None
        row.state = "pending"
    slack.channels["C1"].is_private = True

    clock.advance(minutes=15)
    scheduler.run_due()

    assert sorted(dm["channel"] for dm in dms_about(slack)) == ["U5", "U6", "U7"]  # the first send only
    assert _closed_as_private(db) and len(_told_private(slack)) == 1


def _latest_digest(sender: SlackSender, slack: SlackDouble) -> str:
    sender.command("digest now <#C1|general>", user=ADMIN_ID, command="/peerlearn")
    return str([p for p in slack.posts("C1") if "peer learning" in p["text"]][-1]["blocks"])


def test_the_digest_asks_for_help_only_with_questions_whose_channel_is_still_public(
    workspace: SlackSender,
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    scheduler: ScheduledPoster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(posting, "PUBLIC_CHANNELS_TTL", 0.0)  # each digest asks Slack anew
    slack.add_channel("CDEV", "dev", members=("U1", "U2"))
    ask(workspace, f"{ROUTED} For the secret project", channel="CDEV")
    for _ in range(2):  # both windows pass with no reply: unanswered
        clock.advance(days=1)
        scheduler.run_due()
    assert questions(db)[0].state == "unanswered"
    assert "secret project" in _latest_digest(workspace, slack)  # public: anyone may help

    slack.channels["CDEV"].is_private = True

    digest = _latest_digest(workspace, slack)
    assert "secret project" not in digest and "Can you help?" not in digest
