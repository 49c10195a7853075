"""One deployment answers only its own workspace (runtime/workspace.py): Slack signs the requests of
every workspace the app is installed in with the same secret, so a request signed by Slack but of
another team must change nothing here, and never use this workspace's token."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.circles.rounds import CircleRunner
from bot.home.blocks import SHARE_FROM_HOME
from bot.schedules.posting import ScheduledPoster
from bot.tips.blocks import compose_modal
from runtime.factory import build_app, build_job_worker
from runtime.serving import wsgi_app
from runtime.settings import Settings
from runtime.workspace import NOT_INSTALLED, Workspace
from storage.db import Database
from storage.models import Job
from tests.conftest import FakeClock
from tests.scenario.helpers import all_tips
from tests.scenario.test_browse_and_delete import compose_values
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

OTHER = "T0OTHER"


def slack_calls(slack: SlackDouble) -> list[str]:
    """What the app asked of Slack, leaving out auth.test (each app built asks it once)."""
    return [call.method for call in slack.calls if call.method != "auth.test"]


def event_as(sender: SlackSender, team: str, event: dict[str, Any], enterprise: str | None = None) -> Any:
    envelope = {
        "team_id": team,
        "enterprise_id": enterprise,
        "api_app_id": "A0PEERLEARN",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "authorizations": [{"team_id": team, "enterprise_id": enterprise, "user_id": "UBOT", "is_bot": True}],
    }
    return sender.post(json.dumps(envelope), "application/json")


def interaction_as(sender: SlackSender, team: str, payload: dict[str, Any]) -> Any:
    user = {"id": "U2", "team_id": team}
    return sender.interaction({"team": {"id": team, "domain": "elsewhere"}, "user": user, **payload})


def test_a_tip_emoji_from_another_workspace_copies_nothing(
    sender: SlackSender, slack: SlackDouble, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    ts = slack.add_message("C1", "U1", "Our private roadmap: ship the thing in March")
    reaction = {"type": "reaction_added", "user": "U2", "reaction": "bulb", "item_user": "U1"}

    response = event_as(sender, OTHER, {**reaction, "item": {"type": "message", "channel": "C1", "ts": ts}})

    assert response.status == 200 and response.body == b""  # acknowledged: Slack does not retry it
    assert all_tips(db) == [] and slack_calls(slack) == []
    assert f"refusing requests of team {OTHER}" in caplog.text


def test_a_tip_command_from_another_workspace_is_told_the_app_is_not_installed(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    response = sender.command("Copy this into their channel", team_id=OTHER)

    assert response.status == 200
    assert response.json() == {"response_type": "ephemeral", "text": NOT_INSTALLED}
    assert all_tips(db) == [] and slack_calls(slack) == []


def test_a_button_from_another_workspace_does_nothing(sender: SlackSender, slack: SlackDouble) -> None:
    response = interaction_as(
        sender,
        OTHER,
        {
            "type": "block_actions",
            "trigger_id": slack.trigger_id(),
            "container": {"type": "view", "view_id": "VHOME"},
            "actions": [{"type": "button", "action_id": SHARE_FROM_HOME, "block_id": "home", "value": "share"}],
        },
    )

    assert response.status == 200 and response.body == b""
    assert slack_calls(slack) == []  # no form opened with our token


def test_a_form_from_another_workspace_saves_nothing(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    view = {**compose_modal("C1"), "id": "V1", "team_id": OTHER}
    values = compose_values("Posted into their channel with our token")

    response = interaction_as(sender, OTHER, {"type": "view_submission", "view": {**view, "state": {"values": values}}})

    assert response.status == 200 and response.body == b""  # the modal closes
    assert all_tips(db) == [] and slack_calls(slack) == []


def test_a_shortcut_from_another_workspace_saves_nothing(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    ts = slack.add_message("C1", "U1", "A message of ours")
    message = {"type": "message", "user": "U1", "text": "A message of ours", "ts": ts}

    response = interaction_as(
        sender,
        OTHER,
        {
            "type": "message_action",
            "callback_id": "save_as_tip",
            "trigger_id": slack.trigger_id(),
            "response_url": slack.response_url(),
            "channel": {"id": "C1", "name": "general"},
            "message_ts": ts,
            "message": message,
        },
    )

    assert response.status == 200
    assert all_tips(db) == [] and slack_calls(slack) == [] and slack.responses == []


def test_each_foreign_team_is_logged_once_and_ours_still_served(
    sender: SlackSender, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="runtime.workspace")
    for _ in range(3):
        sender.command("again", team_id=OTHER)
        sender.command("and again", team_id="T0THIRD")

    assert sender.command("Ours is served as before").status == 200

    refusals = [r.getMessage() for r in caplog.records if r.name == "runtime.workspace"]
    assert len(refusals) == 2
    assert f"team {OTHER} (enterprise None)" in refusals[0] and f"serves team {TEAM_ID} only" in refusals[0]
    assert "T0THIRD" in refusals[1]
    assert [tip.text for tip in all_tips(db)] == ["Ours is served as before"]


def test_the_job_worker_refuses_another_workspaces_work_too(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    """A queued job whose request names another team (however it got there) runs nothing."""
    settle, sender.settle = sender.settle, None
    sender.command("Queued, then claimed by another team")
    with db.queue.transaction() as session:
        job = session.scalars(select(Job)).one()
        forged = job.body.replace(f"team_id={TEAM_ID}", f"team_id={OTHER}")
        session.execute(update(Job).where(Job.id == job.id).values(body=forged))
    assert settle is not None
    settle()

    assert all_tips(db) == [] and slack.posts() == []


@pytest.fixture
def enterprise_sender(
    settings: Settings,
    client: WebClient,
    db: Database,
    clock: FakeClock,
    poster: ScheduledPoster,
    circle_runner: CircleRunner,
    slack: SlackDouble,
) -> SlackSender:
    """The app of a workspace of the Enterprise Grid organisation E0ORG."""
    workspace = Workspace(team_id=TEAM_ID, enterprise_id="E0ORG")
    parts: dict[str, Any] = {"client": client, "db": db, "clock": clock, "poster": poster, "circles": circle_runner}
    app = build_app(settings, **parts, workspace=workspace)
    worker = build_job_worker(settings, **parts, workspace=workspace, threads=2)
    return SlackSender(wsgi_app(app, db, settings.signing_secret), slack, settle=worker.drain)


def test_people_of_another_workspace_of_the_same_organisation_are_served(
    enterprise_sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ts = slack.add_message("C1", "U1", "Shared channels across the org work")

    reacted = event_as(
        enterprise_sender,
        "T0SISTER",
        {
            "type": "reaction_added",
            "user": "U2",
            "reaction": "bulb",
            "item_user": "U1",
            "item": {"type": "message", "channel": "C1", "ts": ts},
        },
        enterprise="E0ORG",
    )
    told = enterprise_sender.command("From a sister workspace", team_id="T0SISTER", enterprise_id="E0ORG")

    assert reacted.status == 200 and told.status == 200 and told.body != json.dumps({"text": NOT_INSTALLED}).encode()
    assert sorted(tip.text for tip in all_tips(db)) == [
        "From a sister workspace",
        "Shared channels across the org work",
    ]


def test_another_organisation_is_refused_even_in_enterprise_mode(
    enterprise_sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    response = enterprise_sender.command("From elsewhere", team_id="T0ELSE", enterprise_id="E0OTHERORG")

    assert response.json() == {"response_type": "ephemeral", "text": NOT_INSTALLED}
    assert all_tips(db) == [] and slack_calls(slack) == []


def test_slacks_url_check_carries_no_team_and_is_still_answered(sender: SlackSender) -> None:
    check = {
        "token": "legacy",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }

    response = sender.post(json.dumps(check), "application/json")

    assert response.status == 200 and response.json() == {"challenge": check["challenge"]}
