"""Nobody is left without an answer: a failure reaches the person who acted, in the form, through
response_url, ephemeral where they acted, or by DM, whatever kind of request failed and whenever."""

from __future__ import annotations

from typing import Any, cast

import pytest
from slack_bolt import BoltContext
from sqlalchemy import select

from bot.circles import checkins
from bot.home.blocks import SHARE_FROM_HOME
from bot.notices import could_not_do_it, form_not_saved, something_went_wrong
from bot.slack.gateway import SlackGateway
from bot.tips import rules as tip_rules
from bot.tips import service as tip_service
from bot.tips.blocks import compose_modal
from handlers import tips as tips_handler
from handlers.deps import Deps
from handlers.errors import ACK_FAILED, answer_failed_ack
from storage.db import Database
from storage.models import Job
from tests.scenario.helpers import all_tips
from tests.scenario.test_browse_and_delete import compose_values
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


def broken(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("a bug")


def queued(db: Database) -> list[Job]:
    with db.queue.snapshot() as session:
        return list(session.scalars(select(Job)))


def dms_to(slack: SlackDouble, user: str) -> list[str]:
    return [post["text"] for post in slack.posts(user)]


def test_a_form_that_fails_after_its_ack_tells_the_person_by_dm(
    sender: SlackSender, slack: SlackDouble, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tip_service, "share", broken)

    answer = sender.view_submission(user="U2", view=compose_modal("C1"), values=compose_values("Tip"))

    assert answer.status == 200 and answer.body == b""  # the form closed: its ack went well
    assert dms_to(slack, "U2") == [something_went_wrong()]  # forms have no response_url


def test_a_form_whose_ack_fails_says_so_in_the_form_and_does_nothing(
    sender: SlackSender, slack: SlackDouble, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tip_rules, "draft_tip", broken)

    answer = sender.view_submission(user="U2", view=compose_modal("C1"), values=compose_values("Tip"))

    assert answer.status == 200
    assert answer.json() == {"response_action": "errors", "errors": {"text": form_not_saved()}}
    assert queued(db) == [] and all_tips(db) == [] and slack.posts() == []


def test_a_home_tab_button_that_fails_tells_the_person_by_dm(
    sender: SlackSender, slack: SlackDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SlackGateway, "open_view", broken)

    answer = sender.interaction(
        {
            "type": "block_actions", "user": {"id": "U2", "team_id": TEAM_ID}, "trigger_id": slack.trigger_id(),
            "container": {"type": "view", "view_id": "VHOME"}, "view": {"id": "VHOME", "type": "home"},
            "actions": [{"type": "button", "action_id": SHARE_FROM_HOME, "block_id": "home", "value": "share"}],
        }
    )  # fmt: skip

    assert answer.status == 200 and answer.body == b""
    assert dms_to(slack, "U2") == [could_not_do_it()]


def test_a_message_button_that_fails_answers_through_its_response_url(
    sender: SlackSender, slack: SlackDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkins, "answer_form", broken)

    answer = sender.button(user="U2", action_id="circle_checkin", value="1")

    assert answer.status == 200
    assert [(r["text"], r["response_type"]) for r in slack.responses] == [(could_not_do_it(), "ephemeral")]
    assert dms_to(slack, "U2") == []


def test_an_event_that_fails_tells_the_person_where_they_acted(
    sender: SlackSender, slack: SlackDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tip_service, "react", broken)
    ts = slack.add_message("C1", "U2", "Keep functions small")

    answer = sender.reaction("reaction_added", "U3", "C1", ts, "bulb")

    assert answer.status == 200
    told = slack.calls_to("chat.postEphemeral")
    assert [(t["channel"], t["user"], t["text"]) for t in told] == [("C1", "U3", something_went_wrong())]


def test_a_slash_command_whose_ack_fails_answers_in_the_ack_and_queues_nothing(
    sender: SlackSender, slack: SlackDouble, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tips_handler, "parse_tip_command", broken)  # the ack reads the command with it

    answer = sender.command("A tip that meets a bug")

    assert answer.status == 200
    assert answer.json() == {"response_type": "ephemeral", "text": could_not_do_it()}
    assert queued(db) == [] and all_tips(db) == [] and slack.posts() == []


def test_a_slash_command_that_fails_after_its_ack_answers_through_its_response_url(
    sender: SlackSender, slack: SlackDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tip_service, "share", broken)

    assert sender.command("A tip that meets a bug later").status == 200

    assert [r["text"] for r in slack.responses] == [something_went_wrong()] and dms_to(slack, "U1") == []


def test_an_event_whose_ack_fails_gets_a_500_so_slack_delivers_it_again(slack: SlackDouble) -> None:
    context = BoltContext(team_id=TEAM_ID, user_id="U3")
    body = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "reaction_added", "user": "U3"}}

    assert answer_failed_ack(cast(Deps, None), RuntimeError("a bug"), body, context, None) is None  # Bolt's 500
    assert context[ACK_FAILED] is True  # and its work is not queued
    assert slack.calls == []  # nobody told: the next delivery may well succeed
