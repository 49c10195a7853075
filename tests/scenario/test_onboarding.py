"""The bot added to a channel introduces itself there: once per channel, ever — whatever Slack
redelivers, however often the bot is removed and added again, and when its job runs twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.onboarding.intro import INTRO_EVENT, introduce
from bot.services import Services
from bot.slack.gateway import SlackGateway
from bot.slack.results import Failed
from bot.slack.users import UserDirectory
from storage.db import Database
from storage.models import ChannelIntro, Job
from tests.conftest import ADMIN_ID, FakeClock
from tests.slack_double import BOT_USER_ID, SlackDouble
from tests.slack_sender import SlackSender


def joined(sender: SlackSender, user: str, channel: str, **extra: str) -> None:
    sender.event({"type": "member_joined_channel", "user": user, "channel": channel, "channel_type": "C",
                  "team": "T0TEST", **extra})  # fmt: skip


def intros(slack: SlackDouble, channel: str) -> list[dict[str, Any]]:
    """The intros the channel holds (not the attempts Slack refused)."""
    return [m for m in slack.channels[channel].messages if (m.get("metadata") or {}).get("event_type") == INTRO_EVENT]


def test_the_bot_added_to_a_channel_introduces_itself_with_the_commands_that_matter(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("CNEW", "new-team", members=("U1", "U2"))
    joined(sender, BOT_USER_ID, "CNEW", inviter="U1")

    [intro] = intros(slack, "CNEW")
    text = json.dumps(intro["blocks"])
    for command in ("/tip &lt;what you learned&gt;", ":bulb:", "/circle create", "/peerlearn help"):
        assert command in text
    assert intro["user"] == BOT_USER_ID and "Hi, I'm Peerlearn" in intro["text"]
    with db.snapshot() as session:
        [row] = session.scalars(select(ChannelIntro)).all()
    assert row.channel_id == "CNEW" and row.message_ts is not None
    assert not slack.block_errors


def test_once_per_channel_ever_whatever_slack_redelivers(sender: SlackSender, slack: SlackDouble) -> None:
    slack.add_channel("CNEW", "new-team", members=("U1",))
    joined(sender, BOT_USER_ID, "CNEW")
    sender.event(  # Slack's retry of a delivery it thought lost: same event id
        {"type": "member_joined_channel", "user": BOT_USER_ID, "channel": "CNEW", "channel_type": "C"},
        event_id="Ev00000001", retry_num=1,
    )  # fmt: skip
    joined(sender, BOT_USER_ID, "CNEW")  # removed and added again, weeks later
    joined(sender, BOT_USER_ID, "C1")  # another channel gets its own

    assert len(intros(slack, "CNEW")) == 1
    assert len(intros(slack, "C1")) == 1


def test_people_joining_queue_nothing(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    sender.concurrent = True  # look at the queue as the ack left it
    joined(sender, "U3", "C1")
    with db.queue.snapshot() as session:
        assert session.scalars(select(Job)).all() == []
    assert slack.posts() == []


@pytest.fixture
def services(db: Database, client: WebClient, clock: FakeClock) -> Services:
    return Services(db, SlackGateway(client), UserDirectory(client, frozenset({ADMIN_ID})), clock, "bulb")


def test_a_rerun_finds_the_intro_its_first_run_posted_before_dying(services: Services, slack: SlackDouble) -> None:
    slack.drop_next("chat.postMessage")  # Slack took the post; the answer never came, and the worker died
    slack.fail_next("conversations.history", error="fatal_error")  # ... before it could look
    first = introduce(services, team_id="T0TEST", channel_id="C1", key="e:first")
    assert isinstance(first, Failed)  # as far as this run could tell
    assert len(intros(slack, "C1")) == 1

    again = introduce(services, team_id="T0TEST", channel_id="C1", key="e:first")  # the job runs again

    assert again is None  # found by its metadata, recorded, not posted twice
    assert len(intros(slack, "C1")) == 1
    assert introduce(services, team_id="T0TEST", channel_id="C1", key="e:later") is None


def test_a_claim_that_never_posted_is_taken_over_by_a_later_join(
    services: Services, slack: SlackDouble, clock: FakeClock
) -> None:
    slack.channels["C1"].is_archived = True
    assert introduce(services, team_id="T0TEST", channel_id="C1", key="e:first") is not None  # is_archived
    slack.channels["C1"].is_archived = False
    assert introduce(services, team_id="T0TEST", channel_id="C1", key="e:second") is None  # the first may still run
    assert intros(slack, "C1") == []

    clock.advance(hours=2)
    introduce(services, team_id="T0TEST", channel_id="C1", key="e:third")

    assert len(intros(slack, "C1")) == 1
    assert introduce(services, team_id="T0TEST", channel_id="C1", key="e:fourth") is None


def test_no_intro_where_there_is_no_channel(services: Services, slack: SlackDouble) -> None:
    for forged in ("D123", "U1", "C1; DROP TABLE", "C" + "1" * 40, ""):
        assert introduce(services, team_id="T0TEST", channel_id=forged, key="e:x") is None
    assert slack.posts() == []
