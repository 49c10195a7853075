"""The App Home tab: drawn on app_home_opened for the person who opened it; its button opens the form."""

from __future__ import annotations

import json

from storage.db import Database
from tests.scenario.helpers import all_tips
from tests.scenario.test_circles import create_circle
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def open_home(sender: SlackSender, user: str, tab: str = "home") -> None:
    sender.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": tab})


def test_an_empty_home_invites_a_first_tip(sender: SlackSender, slack: SlackDouble) -> None:
    open_home(sender, "U2")

    [published] = slack.calls_to("views.publish")
    view = published["view"]
    assert published["user_id"] == "U2" and view["type"] == "home"
    text = json.dumps(view)
    assert "You haven't shared a tip yet" in text and "not in a circle yet" in text
    assert not slack.block_errors


def test_home_shows_your_tips_votes_the_weeks_best_and_your_circles(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    sender.command(
        "Read the error message twice &lt;b&gt;before&lt;/b&gt; searching #debugging", user="U1"
    )  # as Slack sends it
    tip = slack.wait_for(lambda: [t for t in all_tips(db) if t.message_ts], message="the posted tip")[0]
    sender.reaction("reaction_added", "U2", "C1", tip.message_ts, "+1", item_user="U1")
    assert create_circle(sender, slack, "Rust learners") is not None

    open_home(sender, "U1")

    view = slack.calls_to("views.publish")[-1]["view"]
    text = json.dumps(view)
    assert "You have shared 1 tip; 1 helpful vote." in text
    assert "Read the error message twice &lt;b&gt;before&lt;/b&gt;" in text  # escaped, as everywhere
    assert "Most helpful this week" in text and "1 found it helpful" in text
    assert "*Rust learners* in <#C1>" in text and "next check-in" in text
    assert not slack.block_errors


def test_the_messages_tab_draws_nothing(sender: SlackSender, slack: SlackDouble) -> None:
    open_home(sender, "U1", tab="messages")
    assert slack.calls_to("views.publish") == []


def test_the_home_button_opens_the_tip_form(sender: SlackSender, slack: SlackDouble) -> None:
    sender.interaction(
        {
            "type": "block_actions",
            "user": {"id": "U3", "team_id": "T0TEST"},
            "trigger_id": slack.trigger_id(),
            "container": {"type": "view", "view_id": "VHOME"},
            "actions": [{"type": "button", "action_id": "home_share_tip", "block_id": "b1"}],
        }
    )
    [opened] = slack.calls_to("views.open")
    assert opened["view"]["callback_id"] == "tip_compose"
