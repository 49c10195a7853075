"""Slack slow, timing out after it posted, 429 with Retry-After, 5xx: for tip shares and for
scheduled posts, every effect exactly once, nothing lost (or, past every retry, the person told)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.schedules.posting import ScheduledPoster
from bot.slack.client import build_client
from runtime.jobs import JobWorker
from runtime.settings import Settings
from storage.db import Database
from storage.models import Schedule, ScheduledPost
from tests.conftest import FakeClock
from tests.reliability.figures import effects, tried
from tests.scenario.helpers import all_tips
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

COUNT = 4  # shares, and channels with a due prompt, per fault
CHANNELS = [f"CF{n}" for n in range(COUNT)]

Fault = Callable[[SlackDouble, int], None]
FAULTS: dict[str, Fault] = {
    "slow": lambda slack, n: [slack.slow_next("chat.postMessage", 0.4) for _ in range(n)] and None,
    "timeout after posting": lambda slack, n: (
        [slack.answer_late_next("chat.postMessage", 1.5) for _ in range(n)] and None
    ),
    "429 Retry-After": lambda slack, n: slack.fail_next("chat.postMessage", status=429, retry_after=1, times=n),
    "5xx": lambda slack, n: slack.fail_next("chat.postMessage", status=503, times=n),
    "5xx past the client's retries": lambda slack, n: slack.fail_next("chat.postMessage", status=500, times=3 * n),
}


@pytest.fixture
def client(settings: Settings) -> WebClient:
    """Slack's client with a short timeout, so a late answer reads as a timeout within the test."""
    client = build_client(settings.bot_token, settings.slack_api_url, max_retries=2)
    client.timeout = 1
    return client


def tip_posts(slack: SlackDouble, channel: str = "C1") -> list[dict[str, object]]:
    messages = slack.channels[channel].messages
    return [m for m in messages if (m.get("metadata") or {}).get("event_type") == "peerlearn_tip"]


@pytest.mark.parametrize("fault", FAULTS)
def test_shares_under_slack_faults(
    fault: str,
    sender: SlackSender,
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    job_worker: JobWorker,
) -> None:
    FAULTS[fault](slack, COUNT)
    texts = [f"Fault {fault} lesson {n}: keep the blast radius small" for n in range(COUNT)]
    sender.concurrent = True  # queued together, run together: the faults land on concurrent posts
    for text in texts:
        assert sender.command(text).status == 200
    tried(COUNT)
    job_worker.drain()
    for _ in range(4):  # the job worker's retries of a passing failure, on the test clock
        clock.advance(minutes=3)
        job_worker.drain()

    tips = all_tips(db)
    effects("tips", set(texts), [t.text for t in tips])
    posts = tip_posts(slack)
    not_posted = {t.id for t in tips if t.message_ts is None}
    told = [int(n) for r in slack.responses for n in re.findall(r"Tip #(\d+) is saved", r.get("text", ""))]
    not_posted_numbers = {t.number for t in tips if t.message_ts is None}  # what the authors are told
    # Each tip posted once and linked to its post, or (Slack failing past every retry) kept and its author told.
    effects("tip posts", {t.id for t in tips} - not_posted, [m["metadata"]["event_payload"]["tip_id"] for m in posts])
    effects("tips linked", {(t.id, t.message_ts) for t in tips if t.message_ts}, [
        (m["metadata"]["event_payload"]["tip_id"], m["ts"]) for m in posts
    ])  # fmt: skip
    effects("authors told their tip was not posted", not_posted_numbers, [n for n in told if n in not_posted_numbers])
    if fault != "5xx past the client's retries":
        assert not not_posted


@pytest.mark.parametrize("fault", FAULTS)
def test_scheduled_posts_under_slack_faults(
    fault: str, slack: SlackDouble, db: Database, clock: FakeClock, poster: ScheduledPoster
) -> None:
    for channel in CHANNELS:
        slack.add_channel(channel, channel.lower())
    fired = clock.now - timedelta(minutes=2)
    with db.transaction() as session:
        for channel in CHANNELS:
            session.add(
                Schedule(
                    team_id=TEAM_ID, channel_id=channel, kind="prompt", cadence="daily", weekday=None,
                    at_time=fired.strftime("%H:%M"), zone="UTC", anchor=None, scope="workspace", configured_by="U4",
                    created_at=fired - timedelta(days=1), updated_at=fired - timedelta(days=1),
                )
            )  # fmt: skip
    if fired.date() != clock.now.date():
        pytest.skip("too close to midnight UTC for 'two minutes ago today'")
    FAULTS[fault](slack, COUNT)
    tried(COUNT)

    poster.run_due()
    for _ in range(6):  # ticks after the ledger's retry delays, on the test clock
        clock.advance(minutes=31)
        poster.run_due()

    posts = [(c, m["ts"]) for c in CHANNELS for m in slack.channels[c].messages if m.get("bot_id")]
    effects("scheduled posts", set(CHANNELS), [c for c, _ in posts])
    with db.snapshot() as session:
        ledger = [(p.channel_id, p.message_ts) for p in session.scalars(select(ScheduledPost))]
    effects("ledger linked to its post", set(posts), ledger)
