"""What forget-me takes away in Slack besides tip and question posts: the app's DMs that took the
person's questions to colleagues, and the app's posts of their check-in answers (their reply in the
round's thread, their line in the round's summary). Each on its own: one Slack refuses is counted in
the answer, the others still go; a rerun of the job finishes what is left."""

from __future__ import annotations

from typing import Any

import pytest

from bot.circles.rounds import CircleRunner
from bot.people import erasure
from bot.people.blocks import FORGET_ANONYMISE, FORGET_DELETE
from runtime.jobs import JobWorker
from storage.db import Database
from storage.models import CircleRound, MentorProfile, ProfileSkill
from tests.conftest import FakeClock
from tests.scenario.test_circles import DUE, answer, rounds, weekly_circle  # noqa: F401 (a fixture)
from tests.scenario.test_forget_me import confirmation, press, seeded  # noqa: F401 (a fixture)
from tests.scenario.test_tips_once import Killed, Killer, rerun
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

QUESTION = "How do I make #postgres vacuum faster on big tables?"


def add_teachers(db: Database, *users: str) -> None:
    with db.transaction() as session:
        for user in users:
            if session.get(MentorProfile, (TEAM_ID, user)) is None:
                session.add(MentorProfile(team_id=TEAM_ID, user_id=user))
            session.add(ProfileSkill(team_id=TEAM_ID, user_id=user, kind="teach", skill="postgres"))


def dms_quoting(slack: SlackDouble, words: str) -> list[dict[str, Any]]:
    """The app's messages in DMs (not channels) that carry `words`."""
    return [
        message
        for channel_id, channel in slack.channels.items()
        if channel_id.startswith("D")
        for message in channel.messages
        if words in str(message)
    ]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("choice", [FORGET_DELETE, FORGET_ANONYMISE])
def test_the_apps_dms_of_their_question_to_colleagues_go(
    sender: SlackSender, slack: SlackDouble, db: Database, choice: str
) -> None:
    add_teachers(db, "U2", "U3")
    sender.command(QUESTION, user="U1", command="/ask")
    asked = dms_quoting(slack, "vacuum")
    assert len(asked) == 2, "the question went to both teachers by DM"

    told = press(sender, "U1", confirmation(sender)[choice])

    assert dms_quoting(slack, "vacuum") == []
    assert "Slack didn't let me" not in told


@pytest.mark.usefixtures("seeded")
def test_a_question_dm_slack_refuses_to_delete_is_counted_and_the_others_go(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    add_teachers(db, "U2", "U3")
    sender.command(QUESTION, user="U1", command="/ask")
    slack.fail_next("chat.delete", error="cant_delete_message")  # the question's channel post, first

    told = press(sender, "U1", confirmation(sender)[FORGET_ANONYMISE])  # tips redrawn: no chat.delete

    assert "Slack didn't let me take away or change 1 post(s)" in told
    assert dms_quoting(slack, "vacuum") == []  # both DMs went all the same
    assert len([m for m in slack.channels["C1"].messages if "vacuum" in str(m)]) == 1


@pytest.mark.usefixtures("seeded")
def test_a_rerun_after_the_erasure_committed_still_takes_the_dms_away(
    sender: SlackSender,
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    job_worker: JobWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_teachers(db, "U2")
    sender.command(QUESTION, user="U1", command="/ask")
    Killer(monkeypatch)(
        erasure, "_delete_question_posts"
    )  # the worker dies after the erasure committed (the asks gone)
    button = confirmation(sender)[FORGET_DELETE]

    with pytest.raises(Killed):
        sender.button(user="U1", action_id=button["action_id"], value=button["value"], channel="C1")
    assert len(dms_quoting(slack, "vacuum")) == 1
    rerun(clock, job_worker)

    assert dms_quoting(slack, "vacuum") == []


# -- check-ins --------------------------------------------------------------------------------------


def in_channel(slack: SlackDouble, words: str) -> list[dict[str, Any]]:
    return [message for message in slack.channels["C1"].messages if words in str(message)]


def summary_of(slack: SlackDouble, round_: CircleRound) -> dict[str, Any]:
    (summary,) = [
        m for m in slack.channels["C1"].messages if m.get("thread_ts") == round_.thread_ts and "closed" in m["text"]
    ]
    return summary


@pytest.mark.usefixtures("weekly_circle")
def test_their_checkin_reply_in_an_open_round_goes(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner
) -> None:
    clock.now = DUE
    assert circle_runner.run_due().opened == 1
    [round_] = rounds(db)
    answer(sender, slack, "U2", round_.id, "My secret struggle with lifetimes", "", "")
    answer(sender, slack, "U3", round_.id, "Macros by example", "", "")
    assert len(in_channel(slack, "My secret struggle")) == 1

    told = press(sender, "U2", confirmation(sender, user="U2")[FORGET_DELETE])

    assert "Check-in answers: 1" in told and "Slack didn't let me" not in told
    assert in_channel(slack, "My secret struggle") == [] and in_channel(slack, "<@U2>") == []
    assert len(in_channel(slack, "Macros by example")) == 1  # U3's reply stays


def closed_round_answered_by_u2_and_u3(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner
) -> CircleRound:
    clock.now = DUE
    assert circle_runner.run_due().opened == 1
    [round_] = rounds(db)
    answer(sender, slack, "U2", round_.id, "", "My secret struggle\nwith lifetimes", "")  # two lines, both quoted
    answer(sender, slack, "U3", round_.id, "", "Macros by example", "")
    clock.advance(hours=24)
    assert circle_runner.run_due().closed == 1
    shown = str(summary_of(slack, round_)["blocks"])
    assert "<@U2>: My secret struggle" in shown and "<@U3>: Macros" in shown
    return round_


@pytest.mark.usefixtures("weekly_circle")
def test_after_the_round_closed_their_line_leaves_the_summary_and_the_others_stay(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner
) -> None:
    round_ = closed_round_answered_by_u2_and_u3(sender, slack, clock, db, circle_runner)

    told = press(sender, "U2", confirmation(sender, user="U2")[FORGET_DELETE])

    assert "Slack didn't let me" not in told
    assert in_channel(slack, "secret struggle") == [] and in_channel(slack, "with lifetimes") == []
    assert in_channel(slack, "<@U2>") == []
    summary = str(summary_of(slack, round_)["blocks"])  # edited, not deleted: it quotes U3 too
    assert "*Can you help?*\\n• <@U3>: Macros by example" in summary and "*2 of 3* checked in" in summary
    assert len(in_channel(slack, "Macros by example")) == 2  # U3's reply and U3's quote


@pytest.mark.usefixtures("weekly_circle")
def test_a_summary_slack_will_not_edit_is_counted_and_their_reply_still_goes(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner
) -> None:
    round_ = closed_round_answered_by_u2_and_u3(sender, slack, clock, db, circle_runner)
    slack.fail_next("chat.update", error="internal_error")

    told = press(sender, "U2", confirmation(sender, user="U2")[FORGET_DELETE])

    assert "Slack didn't let me take away or change 1 post(s)" in told
    assert in_channel(slack, "secret struggle") == [summary_of(slack, round_)]  # the reply went all the same


@pytest.mark.usefixtures("weekly_circle")
def test_a_rerun_after_the_erasure_committed_still_cleans_the_round_thread(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    job_worker: JobWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed_round_answered_by_u2_and_u3(sender, slack, clock, db, circle_runner)
    Killer(monkeypatch)(erasure, "_clean_checkin_posts")  # the worker dies after the erasure committed (the rows gone)
    button = confirmation(sender, user="U2")[FORGET_DELETE]

    with pytest.raises(Killed):
        sender.button(user="U2", action_id=button["action_id"], value=button["value"], channel="C1")
    assert len(in_channel(slack, "secret struggle")) == 2
    rerun(clock, job_worker)  # the rerun finds the posts' places in its receipt

    assert in_channel(slack, "secret struggle") == [] and in_channel(slack, "<@U2>") == []
    assert len(in_channel(slack, "Macros by example")) == 2
