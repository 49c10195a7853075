"""SlackGateway.find_channel: conversations.list page by page (slack_sdk follows the cursors), with
the page size Slack recommends, stopping at the page that holds the channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.client import build_client
from bot.slack.gateway import CHANNELS_PER_PAGE, SlackGateway
from bot.slack.results import Failed
from tests.slack_double import BOT_TOKEN, SlackDouble


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    slack = SlackDouble().start()
    for n in range(450):
        slack.add_channel(f"C{n:04d}", f"team-{n:04d}", bot=n % 2 == 0)
    slack.add_channel("CPRIVATE", "hidden", is_private=True, bot=False)
    yield slack
    slack.stop()


def gateway(double: SlackDouble) -> SlackGateway:
    return SlackGateway(build_client(BOT_TOKEN, double.api_url, max_retries=0))


def test_a_channel_on_the_last_page_is_found_by_following_cursors(double: SlackDouble) -> None:
    assert gateway(double).find_channel("team-0449") == "C0449"

    calls = double.calls_to("conversations.list")
    assert [call.get("cursor") for call in calls] == [None, "200", "400"]
    assert all(int(call["limit"]) == CHANNELS_PER_PAGE < 1000 for call in calls)


def test_the_search_stops_at_the_page_that_holds_the_channel(double: SlackDouble) -> None:
    assert gateway(double).find_channel("team-0003") == "C0003"
    assert len(double.calls_to("conversations.list")) == 1


def test_a_channel_nobody_can_see_is_not_found_after_the_last_page(double: SlackDouble) -> None:
    assert gateway(double).find_channel("hidden") is None
    assert len(double.calls_to("conversations.list")) == 3


def test_a_failing_list_is_a_failure_not_a_channel_nor_none(double: SlackDouble) -> None:
    double.fail_next("conversations.list", error="ratelimited")

    assert gateway(double).find_channel("team-0001") == Failed("ratelimited")
