"""The app against the double's stricter Slack: conversation types, scopes per type, membership.

Each test acts where real people act (a DM with the app, a DM between two people, a group DM, a
private channel) and asserts what they would see and that the app never asked Slack for something
the manifest does not grant. Those marked xfail are defects the emulation surfaced (issue 9 §6):
their fix flips them, and strict=True makes that flip visible.
"""

from __future__ import annotations

from typing import Any

from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def answer_to(sender: SlackSender, text: str, *, command: str, user: str, channel: str) -> str:
    before = len(sender.double.responses)
    response = sender.command(text, user=user, channel=channel, command=command)
    assert response.status == 200
    acked = response.json() or {}
    later = sender.double.responses[before:]
    return " ".join([str(acked.get("text") or ""), *(str(reply.get("text")) for reply in later)])


def said_to(slack: SlackDouble, user: str) -> str:
    """Everything the app told `user`: ephemeral notes, DMs and response_url answers."""
    ephemeral = [call["text"] for call in slack.calls_to("chat.postEphemeral") if call.get("user") == user]
    dms = [call.get("text", "") for call in slack.posts() if call.get("channel") in (user, "D" + user[1:])]
    return " ".join([*ephemeral, *dms, *(str(reply.get("text")) for reply in slack.responses)])


def scope_problems(slack: SlackDouble) -> list[Any]:
    return [problem for problem in slack.problems if problem[1] == "missing_scope"]


def test_digest_now_in_the_apps_dm_says_digests_post_in_channels(sender: SlackSender, slack: SlackDouble) -> None:
    dm = slack.add_dm("U4")
    said = answer_to(sender, "digest now", command="/peerlearn", user="U4", channel=dm)
    assert scope_problems(slack) == []
    assert "not in direct messages" in said and "missing_scope" not in said


def test_the_tip_emoji_in_the_apps_dm_gets_a_clear_answer(sender: SlackSender, slack: SlackDouble) -> None:
    dm = slack.add_dm("U1")
    ts = slack.add_message(dm, "U1", "Note to self: squash before merging")
    sender.reaction("reaction_added", "U1", dm, ts, "bulb", item_user="U1")
    assert scope_problems(slack) == []
    assert "missing_scope" not in said_to(slack, "U1")
    assert "I don't read direct messages" in said_to(slack, "U1")


def test_a_tip_shared_in_a_dm_between_two_people_is_explained(sender: SlackSender, slack: SlackDouble) -> None:
    dm = slack.add_dm("U1", "U2")
    said = answer_to(sender, "Rebase onto main before review #git", command="/tip", user="U1", channel=dm)
    assert slack.channels[dm].messages == []  # the app is not in that DM: nothing can appear there
    assert said.strip(), "the person is told what happened"
    assert "/invite" not in said and "don't post there" in said  # nobody can invite an app into a 1:1 DM
    assert scope_problems(slack) == []


def test_a_tip_in_a_private_channel_the_app_is_not_in_asks_for_an_invite(
    sender: SlackSender, slack: SlackDouble
) -> None:
    said = answer_to(sender, "Keep a decision log #leadership", command="/tip", user="U1", channel="CPRIV")
    assert "/invite" in said
    assert slack.channels["CPRIV"].messages == []
    assert scope_problems(slack) == []


def test_a_tip_in_a_group_dm_is_explained(sender: SlackSender, slack: SlackDouble) -> None:
    group = slack.add_group_dm("GMP1", ("U1", "U2", "U3"))
    said = answer_to(sender, "Pair on scary refactors #habits", command="/tip", user="U1", channel=group)
    assert slack.channels[group].messages == []
    assert said.strip()
    assert scope_problems(slack) == []


def test_schedules_in_a_dm_are_refused_with_a_reason(sender: SlackSender, slack: SlackDouble) -> None:
    dm = slack.add_dm("U4")
    said = answer_to(sender, f"prompts <#{dm}|directmessage> mon 09:00", command="/peerlearn", user="U4", channel=dm)
    assert "missing_scope" not in said
    assert said.strip()
