"""bot/slack/results.py's convention, call by call against the double: a call that produces
something gives it or Failed; one that only acts gives None or Failed; a lookup gives what it
found, None when there is nothing, or Failed when Slack couldn't be asked. An error code never
comes back where a found value could."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.client import build_client
from bot.slack.conversations import dm_once
from bot.slack.gateway import SlackGateway
from bot.slack.results import Failed, Posted
from tests.slack_double import BOT_TOKEN, BOT_USER_ID, SlackDouble

EVENT = "peerlearn_test"


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    slack = SlackDouble().start()
    slack.add_channel("C1", "general")
    yield slack
    slack.stop()


@pytest.fixture
def gateway(double: SlackDouble) -> SlackGateway:
    return SlackGateway(build_client(BOT_TOKEN, double.api_url, max_retries=0))


def test_a_post_gives_the_message_or_failed(gateway: SlackGateway) -> None:
    posted = gateway.post("C1", "hi", [])
    assert isinstance(posted, Posted) and posted.channel == "C1"
    assert gateway.post("CMISSING", "hi", []) == Failed("channel_not_found")


def test_a_permalink_is_a_link_or_failed(gateway: SlackGateway) -> None:
    posted = gateway.post("C1", "hi", [])
    assert isinstance(posted, Posted)
    link = gateway.permalink("C1", posted.ts)
    assert isinstance(link, str) and link.endswith(posted.ts.replace(".", ""))
    assert gateway.permalink("C1", "1.000001") == Failed("message_not_found")


def test_a_lookup_finds_the_message_nothing_or_failed(double: SlackDouble, gateway: SlackGateway) -> None:
    assert gateway.find_by_metadata("C1", EVENT, "key", "k1") is None
    posted = gateway.post("C1", "hi", [], metadata={"event_type": EVENT, "event_payload": {"key": "k1"}})
    assert gateway.find_by_metadata("C1", EVENT, "key", "k1") == posted
    double.fail_next("conversations.history", error="ratelimited")
    assert gateway.find_by_metadata("C1", EVENT, "key", "k1") == Failed("ratelimited")


def test_a_reply_lookup_finds_the_reply_nothing_or_failed(double: SlackDouble, gateway: SlackGateway) -> None:
    parent = gateway.post("C1", "round", [])
    assert isinstance(parent, Posted)
    payload = {"round_id": 1}
    assert gateway.find_reply_by_metadata("C1", parent.ts, EVENT, payload) is None
    meta = {"event_type": EVENT, "event_payload": payload}
    reply = gateway.post("C1", "answer", [], thread_ts=parent.ts, metadata=meta)
    assert gateway.find_reply_by_metadata("C1", parent.ts, EVENT, payload) == reply
    double.fail_next("conversations.replies", error="ratelimited")
    assert gateway.find_reply_by_metadata("C1", parent.ts, EVENT, payload) == Failed("ratelimited")


def test_calls_that_only_act_give_none_or_failed(double: SlackDouble, gateway: SlackGateway) -> None:
    posted = gateway.post("C1", "hi", [])
    assert isinstance(posted, Posted)
    assert gateway.update("C1", posted.ts, "hello", []) is None
    assert gateway.add_reaction("C1", posted.ts, "bulb") is None
    assert gateway.add_reaction("C1", posted.ts, "bulb") is None  # already_reacted: done already
    assert gateway.remove_reaction("C1", posted.ts, "bulb") is None
    assert gateway.remove_reaction("C1", posted.ts, "bulb") is None  # no_reaction: done already
    assert gateway.delete_message("C1", posted.ts) is None
    assert gateway.delete_message("C1", posted.ts) is None  # message_not_found: done already
    assert gateway.update("C1", posted.ts, "hello", []) == Failed("message_not_found")
    assert gateway.open_view("expired", {"type": "modal"}) is not None
    assert gateway.tell(BOT_USER_ID, "note", channel="C1") is None


def test_a_post_in_a_public_channel_the_bot_is_not_in_joins_it(double: SlackDouble, gateway: SlackGateway) -> None:
    double.add_channel("C2", "random", bot=False)
    assert isinstance(gateway.post("C2", "hi", []), Posted)
    assert [call["channel"] for call in double.calls_to("conversations.join")] == ["C2"]


def test_a_dm_once_per_key_is_found_again_not_sent_twice(double: SlackDouble, gateway: SlackGateway) -> None:
    double.add_user("U1", "alice")
    first = dm_once(gateway, "U1", "Tips that may answer it", [], key="k1")
    again = dm_once(gateway, "U1", "Tips that may answer it", [], key="k1")  # the job run again
    other = dm_once(gateway, "U1", "Tips that may answer it", [], key="k2")  # another request
    assert isinstance(first, Posted) and again == first and isinstance(other, Posted) and other != first
    assert len(double.posts()) == 2
