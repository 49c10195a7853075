"""Save as tip, capture by the tip emoji, and reactions as helpful votes."""

from __future__ import annotations

import pytest

from storage.db import Database
from tests.scenario.helpers import all_tips, tip_by_id, vote_rows, voters
from tests.slack_double import BOT_USER_ID, SlackDouble
from tests.slack_sender import SlackSender


def shared_tip(
    sender: SlackSender, slack: SlackDouble, db: Database, text: str = "Write the test first"
) -> tuple[int, str]:
    """Share a tip as U1 in C1; returns its id and the ts of its post."""
    sender.command(text)
    tip = slack.wait_for(lambda: [t for t in all_tips(db) if t.message_ts], message="the posted tip")[-1]
    return tip.id, tip.message_ts


# -- Save as tip ----------------------------------------------------------------------------


def test_save_as_tip_records_the_authors_message_and_marks_it(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ts = slack.add_message("C1", "U2", "Use <@U3> as reviewer for SQL &amp; migrations #sql")

    response = sender.message_shortcut(user="U1", channel="C1", message=slack.message("C1", ts))

    assert response.status == 200
    reply = slack.wait_for(lambda: slack.responses, message="confirmation")[0]
    [tip] = all_tips(db)
    assert f"tip #{tip.number}" in reply["text"] and "<@U2>" in reply["text"]
    assert (tip.author_id, tip.saved_by_id, tip.source) == ("U2", "U1", "shortcut")
    assert tip.text == "Use @carol as reviewer for SQL & migrations #sql"
    assert tip.tags == "sql" and tip.channel_id == "C1" and tip.message_ts == ts
    assert tip.permalink and tip.permalink.endswith(ts.replace(".", ""))
    reactions = slack.message("C1", ts)["reactions"]
    assert reactions == [{"name": "bulb", "users": [BOT_USER_ID], "count": 1}]


def test_saving_ones_own_message_says_your_message(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message("C1", "U1", "Small PRs get better reviews")

    sender.message_shortcut(user="U1", channel="C1", message=slack.message("C1", ts))

    reply = slack.wait_for(lambda: slack.responses, message="confirmation")[0]
    assert "Saved your message as tip #" in reply["text"] and "<@U1>" not in reply["text"]


def test_saving_an_already_saved_message_creates_nothing(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message("C1", "U2", "Small PRs get better reviews")
    sender.message_shortcut(user="U1", channel="C1", message=slack.message("C1", ts))
    slack.wait_for(lambda: slack.responses, message="first confirmation")

    sender.message_shortcut(user="U3", channel="C1", message=slack.message("C1", ts))

    second = slack.wait_for(lambda: slack.responses[1:], message="second answer")[0]
    assert "already tip #" in second["text"]
    assert len(all_tips(db)) == 1


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "message", "bot_id": "B1", "text": "Deploy finished", "ts": "1.1"}, "posted by an app"),
        ({"type": "message", "user": "U2", "text": "", "ts": "1.2", "files": [{}]}, "no text"),
        ({"type": "message", "user": "U2", "text": "y" * 3001, "ts": "1.3"}, "3,001 characters"),
    ],
)
def test_save_as_tip_refuses_what_cannot_be_a_tip(
    sender: SlackSender, slack: SlackDouble, db: Database, message: dict[str, str], expected: str
) -> None:
    sender.message_shortcut(user="U1", channel="C1", message=message)

    reply = slack.wait_for(lambda: slack.responses, message="refusal")[0]
    assert expected in reply["text"]
    assert all_tips(db) == []


def test_save_as_tip_where_the_bot_is_not_a_member_joins_to_mark_it(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ts = slack.add_message("CNOBOT", "U2", "Read the error message twice")

    sender.message_shortcut(
        user="U1",
        channel="CNOBOT",
        message={"type": "message", "user": "U2", "text": "Read the error message twice", "ts": ts},
    )

    reply = slack.wait_for(lambda: slack.responses, message="confirmation")[0]
    assert "Saved" in reply["text"] and "couldn't mark" not in reply["text"]
    assert slack.calls_to("conversations.join") == [{"channel": "CNOBOT"}]
    assert len(all_tips(db)) == 1


# -- Capture by reaction ------------------------------------------------------------------


def test_tip_emoji_turns_a_message_into_a_tip_once(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message("C1", "U2", "Name branches after the ticket")

    sender.reaction("reaction_added", "U1", "C1", ts, "bulb", item_user="U2")
    slack.wait_for(lambda: all_tips(db), message="the capture")
    sender.reaction("reaction_added", "U3", "C1", ts, "bulb", item_user="U2")
    sender.reaction("reaction_added", "U4", "C1", ts, "bulb", item_user="U2")

    slack.wait_for(lambda: len(voters(db, all_tips(db)[0].id)) == 3, message="three votes")
    [tip] = all_tips(db)
    assert (tip.author_id, tip.saved_by_id, tip.source, tip.text) == (
        "U2",
        "U1",
        "reaction",
        "Name branches after the ticket",
    )
    assert voters(db, tip.id) == {"U1", "U3", "U4"}
    assert tip_by_id(db, tip.id).helpful_count == 3
    assert len(slack.calls_to("conversations.history")) == 1  # fetched once, not per reaction


def test_tip_emoji_on_a_threaded_reply_captures_the_reply(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    parent = slack.add_message("C1", "U1", "How do you keep CI fast?")
    reply = slack.add_message("C1", "U2", "Cache dependencies by lockfile hash", thread_ts=parent)
    slack.add_message("C1", "U3", "A later top-level message")

    sender.reaction("reaction_added", "U1", "C1", reply, "bulb", item_user="U2")

    [tip] = slack.wait_for(lambda: all_tips(db), message="the capture")
    assert tip.text == "Cache dependencies by lockfile hash" and tip.message_ts == reply and tip.author_id == "U2"


def test_reactions_already_on_a_captured_message_count(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message(
        "C1",
        "U2",
        "Keep a work log",
        reactions=[
            {"name": "+1", "users": ["U3", "U2"], "count": 2},
            {"name": "bulb", "users": ["U1"], "count": 1},
        ],
    )

    sender.reaction("reaction_added", "U1", "C1", ts, "bulb", item_user="U2")

    [tip] = slack.wait_for(lambda: all_tips(db), message="the capture")
    assert voters(db, tip.id) == {"U1", "U3"}  # the author's own +1 is not a vote


def test_other_emoji_on_ordinary_messages_do_nothing(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message("C1", "U2", "lunch?")

    sender.reaction("reaction_added", "U1", "C1", ts, "tada", item_user="U2")
    sender.reaction("reaction_added", "U1", "C1", ts, "bulb::skin-tone-2", item_user="U2")  # never real, but harmless
    slack.wait_for(lambda: all_tips(db), message="the skin-toned tip emoji still captures")

    assert len(all_tips(db)) == 1
    assert slack.calls_to("conversations.history")  # only the tip emoji made us read history


def test_capture_that_cannot_read_the_message_tells_the_reactor(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.fail_next("conversations.history", error="not_in_channel")

    sender.reaction("reaction_added", "U1", "C1", "1700000001.000001", "bulb", item_user="U2")

    note = slack.wait_for(lambda: slack.calls_to("chat.postEphemeral"), message="a note to the reactor")[0]
    assert note["user"] == "U1" and "couldn't read that message" in note["text"]
    assert all_tips(db) == []


# -- Helpful votes --------------------------------------------------------------------------


def test_one_vote_per_person_however_many_emoji(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    tip_id, ts = shared_tip(sender, slack, db)

    for emoji in ("+1", "heart", "bulb"):
        sender.reaction("reaction_added", "U2", "C1", ts, emoji)
    slack.wait_for(lambda: tip_by_id(db, tip_id).helpful_count == 1, message="one vote")
    sender.reaction("reaction_removed", "U2", "C1", ts, "+1")
    sender.reaction("reaction_removed", "U2", "C1", ts, "heart")
    assert voters(db, tip_id) == {"U2"}  # one reaction left, the vote stands
    sender.reaction("reaction_removed", "U2", "C1", ts, "bulb")

    slack.wait_for(lambda: tip_by_id(db, tip_id).helpful_count == 0, message="the vote taken back")
    assert voters(db, tip_id) == set()


def test_self_reactions_never_count(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    tip_id, ts = shared_tip(sender, slack, db)

    sender.reaction("reaction_added", "U1", "C1", ts, "+1")
    sender.reaction("reaction_added", "U1", "C1", ts, "bulb")
    sender.reaction("reaction_added", "U2", "C1", ts, "+1")

    slack.wait_for(lambda: voters(db, tip_id) == {"U2"}, message="only U2's vote")
    assert tip_by_id(db, tip_id).helpful_count == 1


def test_retried_events_are_processed_once(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    tip_id, ts = shared_tip(sender, slack, db)

    sender.reaction("reaction_added", "U2", "C1", ts, "+1", event_id="EvADD")
    slack.wait_for(lambda: voters(db, tip_id) == {"U2"}, message="the vote")
    sender.reaction("reaction_removed", "U2", "C1", ts, "+1", event_id="EvREMOVE")
    slack.wait_for(lambda: voters(db, tip_id) == set(), message="the vote withdrawn")
    for retry in (1, 2, 3):  # Slack redelivers the add after the remove was handled
        assert sender.reaction("reaction_added", "U2", "C1", ts, "+1", event_id="EvADD", retry_num=retry).status == 200

    assert voters(db, tip_id) == set()
    assert tip_by_id(db, tip_id).helpful_count == 0


def test_retried_capture_is_not_double_counted(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message("C1", "U2", "Pair on the scary refactor")

    for retry in (None, 1, 2):
        sender.reaction("reaction_added", "U1", "C1", ts, "bulb", event_id="EvCAPTURE", retry_num=retry)

    [tip] = slack.wait_for(lambda: all_tips(db), message="the capture")
    assert vote_rows(db) == 1 and tip_by_id(db, tip.id).helpful_count == 1
