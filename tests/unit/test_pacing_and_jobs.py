"""Post pacing under Slack's limits, and the APScheduler job settings."""

from __future__ import annotations

from unittest.mock import MagicMock

from bot.slack.acting import acting_for
from bot.slack.client import build_client
from bot.slack.pacing import PostPacer
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
