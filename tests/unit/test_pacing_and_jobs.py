"""Post pacing under Slack's limits, and the APScheduler job settings."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from bot.slack.acting import acting_for
from bot.slack.client import build_client
from bot.slack.pacing import PostPacer
from bot.slack.ratelimits import RateLimited, deferring_rate_limits
from runtime.scheduler import build_scheduler
from tests.slack_double import BOT_TOKEN, SlackDouble


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def reserved_slots(pacer: PostPacer, fake: FakeTime, channels: list[str]) -> list[float]:
    slots = []
    for channel in channels:
        before = len(fake.slept)
        pacer.wait(channel)
        slots.append(fake.slept[-1] if len(fake.slept) > before else 0.0)
    return slots


def test_a_workspace_gets_at_most_its_rate() -> None:
    fake = FakeTime()
    pacer = PostPacer(20.0, 1.0, clock=fake.clock, sleep=fake.sleep)

    slots = reserved_slots(pacer, fake, [f"C{n}" for n in range(100)])

    assert slots[0] == 0.0
    assert abs(slots[-1] - 99 / 20) < 1e-9  # 100 posts take 4.95 s at 20/s


def test_one_channel_gets_one_post_a_second() -> None:
    fake = FakeTime()
    pacer = PostPacer(20.0, 1.0, clock=fake.clock, sleep=fake.sleep)

    slots = reserved_slots(pacer, fake, ["C1", "C1", "C9", "C1"])

    assert slots == [0.0, 1.0, 1.05, 2.0]  # slots follow call order across channels


def test_a_retried_429_takes_a_pacer_slot(slack: SlackDouble) -> None:
    fake = FakeTime()
    pacer = PostPacer(20.0, 1.0, clock=fake.clock, sleep=fake.sleep)
    client = build_client(BOT_TOKEN, slack.api_url, max_retries=2, pacer=pacer)
    slack.fail_next("chat.postMessage", status=429, retry_after=0)

    client.chat_postMessage(channel="C1", text="paced", blocks=[])

    assert len(slack.calls_to("chat.postMessage")) == 2
    assert pacer._channel_next[(None, "C1")] == 1.0  # the retry reserved C1's next slot


def test_a_429_while_deferring_raises_at_once_and_is_not_retried(slack: SlackDouble) -> None:
    """In the poster's and the job worker's threads (deferring), a 429 is given back to the caller
    with its Retry-After instead of being slept out; elsewhere the client still retries it."""
    client = build_client(BOT_TOKEN, slack.api_url, max_retries=2)
    slack.fail_next("chat.postMessage", status=429, retry_after=7)

    with acting_for("T0BUSY"), deferring_rate_limits(), pytest.raises(RateLimited) as limited:
        client.chat_postMessage(channel="C1", text="not now", blocks=[])
    assert (limited.value.retry_after, limited.value.team_id, limited.value.method) == (
        7.0,
        "T0BUSY",
        "chat.postMessage",
    )
    assert len(slack.calls_to("chat.postMessage")) == 1
    # Not deferring (the web app's acks): slack_sdk sleeps out the Retry-After and tries again.
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    client.chat_postMessage(channel="C1", text="now", blocks=[])
    assert len(slack.calls_to("chat.postMessage")) == 3


def test_a_429_holds_only_its_own_workspace() -> None:
    fake = FakeTime()
    pacer = PostPacer(20.0, 1.0, clock=fake.clock, sleep=fake.sleep)

    assert pacer.hold("T0BUSY", 4.0) == 4.0
    assert (pacer.held_for("T0BUSY"), pacer.held_for("T0QUIET")) == (4.0, 0.0)
    assert pacer.reserve("C1", "T0BUSY") == 4.0 and pacer.free_at("T0BUSY") == 4.05
    assert pacer.reserve("C1", "T0QUIET") == 0.0  # another workspace posts at once
    fake.now = 4.0
    assert pacer.held_for("T0BUSY") == 0.0


def test_one_429_holds_its_channel_and_a_second_the_whole_workspace() -> None:
    fake = FakeTime()
    pacer = PostPacer(20.0, 1.0, clock=fake.clock, sleep=fake.sleep)

    assert pacer.rate_limited("T0BUSY", "C1", 2.0) is False  # one refused post: its channel waits
    assert (pacer.held_for("T0BUSY"), pacer.held_for("T0BUSY", "C1")) == (0.0, 2.0)
    assert pacer.reserve("C2", "T0BUSY") == 0.0 and pacer.reserve("C1", "T0BUSY") == 2.0
    fake.now = 1.0
    assert pacer.rate_limited("T0BUSY", "C3", 3.0) is True  # another while it waits: the workspace's limit
    assert pacer.held_for("T0BUSY") == 3.0 and pacer.reserve("C4", "T0BUSY") == 4.0
    assert pacer.reserve("C1", "T0QUIET") == 1.0  # never another workspace
    fake.now = 10.0
    assert pacer.rate_limited("T0BUSY", "C5", 1.0) is False  # long after: a channel's again
    pacer.accepted("T0BUSY")  # a post went through meanwhile: the next 429 is again a channel's
    assert pacer.rate_limited("T0BUSY", "C6", 1.0) is False and pacer.held_for("T0BUSY") == 0.0


def test_each_workspace_has_its_own_slots() -> None:
    """One workspace's burst (or 429s) never delays another's posts: both post at their own full rate."""
    fake = FakeTime()
    pacer = PostPacer(20.0, 1.0, clock=fake.clock, sleep=fake.sleep)

    with acting_for("T0BUSY"):
        busy = reserved_slots(pacer, fake, [f"C{n}" for n in range(40)])
    with acting_for("T0QUIET"):
        quiet = reserved_slots(pacer, fake, ["C0", "C1", "C0"])

    assert abs(busy[-1] - 39 / 20) < 1e-9
    assert quiet == [0.0, 0.05, 1.0]  # not behind the busy workspace's 40 posts, and C0 is its own


def test_jobs_have_ids_and_explicit_misfire_rules() -> None:
    scheduler = build_scheduler(MagicMock(), MagicMock(), MagicMock(), blocking=False)
    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert set(jobs) == {"scheduled-posts", "daily-upkeep"}
    ticks = jobs["scheduled-posts"]
    assert (ticks.coalesce, ticks.max_instances, ticks.misfire_grace_time) == (True, 1, 25)
    assert str(ticks.trigger.fields[-1]) == "0,30"  # seconds: a dead leader's work resumes within 50 s
    assert jobs["daily-upkeep"].misfire_grace_time == 3600
