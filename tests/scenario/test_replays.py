"""A signed request replayed within Slack's 5-minute window (the same bytes, the same signature), or
an event Slack delivers again, is acknowledged and its work is done once."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlalchemy import select

from bot.tips.blocks import compose_modal
from storage.db import Database
from storage.models import Job
from tests.scenario.helpers import all_tips
from tests.scenario.test_browse_and_delete import compose_values
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import Response, SlackSender

FORM = "application/x-www-form-urlencoded"


def twice(sender: SlackSender, body: str, content_type: str = FORM) -> list[Response]:
    """The identical signed request, sent twice: what a replay looks like to the app."""
    signed_at = int(time.time())
    return [sender.post(body, content_type, timestamp=signed_at) for _ in range(2)]


def tip_command(slack: SlackDouble, text: str) -> str:
    form = {
        "team_id": TEAM_ID, "channel_id": "C1", "user_id": "U1", "command": "/tip", "text": text,
        "response_url": slack.response_url(), "trigger_id": slack.trigger_id(),
    }  # fmt: skip
    return urlencode(form)


def queued(db: Database) -> list[Job]:
    with db.queue.snapshot() as session:
        return list(session.scalars(select(Job)))


def test_a_slash_command_replayed_after_its_work_was_done_is_not_done_again(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    answers = twice(sender, tip_command(slack, "Pin your dependencies"))

    assert [answer.status for answer in answers] == [200, 200]
    assert [tip.text for tip in all_tips(db)] == ["Pin your dependencies"]
    assert len(slack.posts("C1")) == 1 and queued(db) == []


def test_a_slash_command_replayed_while_its_job_waits_queues_one_job(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    sender.concurrent = True  # acknowledged, not yet run
    assert [answer.status for answer in twice(sender, tip_command(slack, "Read the error first"))] == [200, 200]
    assert len(queued(db)) == 1

    sender.settle()  # type: ignore[misc]

    assert len(all_tips(db)) == 1 and len(slack.posts("C1")) == 1


def test_a_form_submission_replayed_shares_one_tip(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    view = {**compose_modal("C1"), "id": "V123", "team_id": TEAM_ID, "state": {"values": compose_values("Name things")}}
    payload = {
        "type": "view_submission", "team": {"id": TEAM_ID}, "api_app_id": "A0PEERLEARN",
        "user": {"id": "U2", "team_id": TEAM_ID}, "trigger_id": slack.trigger_id(), "view": view,
    }  # fmt: skip

    answers = twice(sender, urlencode({"payload": json.dumps(payload)}))

    assert [answer.status for answer in answers] == [200, 200]
    assert len(all_tips(db)) == 1 and len(slack.posts("C1")) == 1


def test_an_event_delivered_again_is_queued_once(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message("C1", "U2", "Write the test that fails first")
    sender.concurrent = True

    for retry in (None, 1, 2):  # Slack's first delivery and two retries, each signed anew
        sender.reaction("reaction_added", "U3", "C1", ts, "bulb", event_id="EvAGAIN", retry_num=retry)

    assert [job.listener for job in queued(db)] == ["reaction_added"]
