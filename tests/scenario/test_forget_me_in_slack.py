"""What forget-me takes away in Slack besides tip and question posts: the app's DMs that took the
person's questions to colleagues, and the app's posts of their check-in answers (their reply in the
round's thread, their line in the round's summary). Each on its own: one Slack refuses is counted in
the answer, the others still go; a rerun of the job finishes what is left."""

from __future__ import annotations

from typing import Any

import pytest

from bot.people import erasure
from bot.people.blocks import FORGET_ANONYMISE, FORGET_DELETE
from runtime.jobs import JobWorker
from storage.db import Database
from storage.models import MentorProfile, ProfileSkill
from tests.conftest import FakeClock
from tests.scenario.people_seed import Seeded, seed
from tests.scenario.test_forget_me import confirmation, press
from tests.scenario.test_tips_once import Killed, Killer, rerun
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

QUESTION = "How do I make #postgres vacuum faster on big tables?"


@pytest.fixture
def kill(monkeypatch: pytest.MonkeyPatch) -> Killer:
    return Killer(monkeypatch)


@pytest.fixture
def seeded(sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock) -> Seeded:
    return seed(sender, slack, db, clock.now)


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


@pytest.mark.parametrize("choice", [FORGET_DELETE, FORGET_ANONYMISE])
def test_the_apps_dms_of_their_question_to_colleagues_go(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded, choice: str
) -> None:
    add_teachers(db, "U2", "U3")
    sender.command(QUESTION, user="U1", command="/ask")
    asked = dms_quoting(slack, "vacuum")
    assert len(asked) == 2, "the question went to both teachers by DM"

    told = press(sender, "U1", confirmation(sender)[choice])

    assert dms_quoting(slack, "vacuum") == []
    assert "Slack didn't let me" not in told


def test_a_question_dm_slack_refuses_to_delete_is_counted_and_the_others_go(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded
) -> None:
    add_teachers(db, "U2", "U3")
    sender.command(QUESTION, user="U1", command="/ask")
    slack.fail_next("chat.delete", error="cant_delete_message")  # the question's channel post, first

    told = press(sender, "U1", confirmation(sender)[FORGET_ANONYMISE])  # tips redrawn: no chat.delete

    assert "Slack didn't let me take away or change 1 post(s)" in told
    assert dms_quoting(slack, "vacuum") == []  # both DMs went all the same
    assert len([m for m in slack.channels["C1"].messages if "vacuum" in str(m)]) == 1


def test_a_rerun_after_the_erasure_committed_still_takes_the_dms_away(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer,
    seeded: Seeded,
) -> None:  # fmt: skip
    add_teachers(db, "U2")
    sender.command(QUESTION, user="U1", command="/ask")
    kill(erasure, "_delete_question_posts")  # the worker dies after the erasure committed (the asks gone)
    button = confirmation(sender)[FORGET_DELETE]

    with pytest.raises(Killed):
        sender.button(user="U1", action_id=button["action_id"], value=button["value"], channel="C1")
    assert len(dms_quoting(slack, "vacuum")) == 1
    rerun(clock, job_worker)

    assert dms_quoting(slack, "vacuum") == []
