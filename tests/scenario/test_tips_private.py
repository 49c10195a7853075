"""Issue #9 §4: what comes from a DM, a group DM or a private channel becomes a tip only with its
author's consent. The person saving (Save as tip) or nominating (the tip emoji) must be the message's
author; anyone else is told why and nothing is stored. `/tip` typed there is the author's own act."""

from __future__ import annotations

import pytest

from storage.db import Database
from tests.scenario.helpers import all_tips
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

ONLY_THE_AUTHOR = "This message is in a private conversation; only its author can make it a tip."
WORKSPACE = "searchable by everyone in the workspace"


@pytest.fixture
def private_places(slack: SlackDouble) -> SlackDouble:
    slack.add_channel("CSECRET", "salaries", members=("U1", "U2"), is_private=True)  # the bot was invited
    slack.add_channel("GMPIM", "mpdm-alice--bob--carol-1", members=("U1", "U2", "U3"), is_private=True)
    slack.add_channel("D0U1U2", "U2", members=("U1", "U2"), is_im=True, bot=False)
    return slack


# Where a shortcut can be used, with the name Slack's payload gives that conversation.
SHORTCUT_PLACES = [
    pytest.param("D0U1U2", "directmessage", id="dm"),
    pytest.param("GMPIM", "mpdm-alice--bob--carol-1", id="group-dm"),
    pytest.param("CSECRET", "salaries", id="private-channel"),
    pytest.param("CPRIV", "secret", id="private-channel-without-the-bot"),
]


@pytest.mark.parametrize(("channel", "name"), SHORTCUT_PLACES)
def test_save_as_tip_on_someone_elses_private_message_is_refused_and_stores_nothing(
    sender: SlackSender, private_places: SlackDouble, db: Database, channel: str, name: str
) -> None:
    message = {"type": "message", "user": "U2", "text": "My salary is 85k, ask me how I negotiated", "ts": "1.5"}

    sender.message_shortcut(user="U1", channel=channel, message=message, channel_name=name)

    [reply] = private_places.responses
    assert reply["text"] == ONLY_THE_AUTHOR
    assert all_tips(db) == []
    assert private_places.calls_to("reactions.add") == []


@pytest.mark.parametrize(("channel", "name"), SHORTCUT_PLACES)
def test_save_as_tip_by_the_author_of_a_private_message_is_saved_and_says_who_can_find_it(
    sender: SlackSender, private_places: SlackDouble, db: Database, channel: str, name: str
) -> None:
    message = {"type": "message", "user": "U2", "text": "Negotiate with a written list of wins", "ts": "1.6"}

    sender.message_shortcut(user="U2", channel=channel, message=message, channel_name=name)

    [tip] = all_tips(db)
    [reply] = private_places.responses
    assert f"Saved your message as tip #{tip.number}" in reply["text"]
    assert WORKSPACE in reply["text"] and f"/tip delete {tip.number}" in reply["text"]
    assert (tip.author_id, tip.saved_by_id, tip.channel_id) == ("U2", "U2", channel)


def test_a_dm_is_known_private_from_its_id_without_asking_slack(
    sender: SlackSender, private_places: SlackDouble, db: Database
) -> None:
    message = {"type": "message", "user": "U2", "text": "my salary is a secret", "ts": "1.7"}

    sender.message_shortcut(user="U1", channel="D0U1U2", message=message, channel_name="directmessage")

    assert private_places.calls_to("conversations.info") == []  # on a DM it would need im:read


def test_save_as_tip_in_a_public_channel_still_works_for_anyone(
    sender: SlackSender, private_places: SlackDouble, db: Database
) -> None:
    ts = private_places.add_message("C1", "U2", "Public channels teach everyone")

    sender.message_shortcut(user="U1", channel="C1", message=private_places.message("C1", ts), channel_name="general")

    [tip] = all_tips(db)
    assert tip.author_id == "U2" and WORKSPACE not in private_places.responses[0]["text"]


@pytest.mark.parametrize("channel", ["CSECRET", "GMPIM"])
def test_the_tip_emoji_on_someone_elses_private_message_is_refused_with_a_note(
    sender: SlackSender, private_places: SlackDouble, db: Database, channel: str
) -> None:
    ts = private_places.add_message(channel, "U2", "My salary is 85k, and here is how")

    sender.reaction("reaction_added", "U1", channel, ts, "bulb", item_user="U2")

    [note] = private_places.calls_to("chat.postEphemeral")
    assert note["user"] == "U1" and note["text"] == ONLY_THE_AUTHOR
    assert all_tips(db) == []


@pytest.mark.parametrize("channel", ["CSECRET", "GMPIM"])
def test_the_tip_emoji_by_the_author_of_a_private_message_makes_it_a_tip(
    sender: SlackSender, private_places: SlackDouble, db: Database, channel: str
) -> None:
    ts = private_places.add_message(channel, "U2", "Write down your wins every Friday")

    sender.reaction("reaction_added", "U2", channel, ts, "bulb", item_user="U2")

    [tip] = all_tips(db)
    [note] = private_places.calls_to("chat.postEphemeral")
    assert note["user"] == "U2" and f"tip #{tip.number}" in note["text"] and WORKSPACE in note["text"]
    assert tip.helpful_count == 0  # the author's own reaction is not a vote


def test_tip_typed_in_a_private_channel_is_shared_and_says_the_workspace_can_find_it(
    sender: SlackSender, private_places: SlackDouble, db: Database
) -> None:
    sender.command("Keep a brag document for reviews", channel="CSECRET", channel_name="privategroup")

    [tip] = all_tips(db)
    assert tip.message_ts and private_places.posts("CSECRET")
    [reply] = private_places.responses
    assert f"Shared as tip #{tip.number}" in reply["text"] and WORKSPACE in reply["text"]


def test_tip_typed_in_a_dm_is_saved_and_says_the_workspace_can_find_it(
    sender: SlackSender, private_places: SlackDouble, db: Database
) -> None:
    sender.command("Ask for feedback on one thing at a time", channel="D0U1U2", channel_name="directmessage")

    [tip] = all_tips(db)
    [reply] = private_places.responses
    assert "is saved" in reply["text"] and WORKSPACE in reply["text"] and f"/tip delete {tip.number}" in reply["text"]


def test_tip_in_a_public_channel_needs_no_note(sender: SlackSender, private_places: SlackDouble) -> None:
    sender.command("Public tips speak for themselves")

    assert private_places.responses == []
