"""The ledger and the lease under concurrency, on whichever database the suite runs against."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.schedules.posting import LEASE_NAME, PostingSettings, ScheduledPoster
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from storage import schedules as queries
from storage.db import Database
from storage.models import Schedule, ScheduledPost
from tests.conftest import FakeClock, beat_by_hand
from tests.slack_double import BOT_TOKEN, TEAM_ID, SlackDouble

NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def add_daily_schedules(db: Database, channels: list[str], at: str = "11:55") -> None:
    with db.transaction() as session:
        for channel in channels:
            session.add(
                Schedule(
                    team_id=TEAM_ID, channel_id=channel, kind="prompt", cadence="daily", weekday=None, at_time=at,
                    zone="UTC", anchor=None, scope="workspace", configured_by="U4",
                    created_at=NOON - timedelta(days=2), updated_at=NOON - timedelta(days=2),
                )
            )  # fmt: skip


def make_poster(db: Database, slack: SlackDouble, clock: FakeClock, holder: str) -> ScheduledPoster:
    gateway = SlackGateway(build_client(BOT_TOKEN, slack.api_url, max_retries=2))
    poster = ScheduledPoster(
        db, gateway, clock=clock, pacer=PostPacer(1e6, 0.0), settings=PostingSettings(), holder=holder
    )
    beat_by_hand(poster.heartbeat)
    return poster


def test_posters_that_all_think_they_lead_still_post_once(db: Database, slack: SlackDouble) -> None:
    channels = [f"C{n:03d}" for n in range(25)]
    for channel in channels:
        slack.add_channel(channel, channel.lower())
    add_daily_schedules(db, channels)
    clock = FakeClock(NOON)
    # The same holder name: every poster renews "its" lease, so only the ledger stands between them.
    posters = [make_poster(db, slack, clock, holder="same") for _ in range(4)]

    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda poster: poster.run_due(), posters))

    assert sum(report.posted for report in reports) == 25
    assert sorted(post["channel"] for post in slack.posts()) == channels
    with db.snapshot() as session:
        assert session.scalar(select(func.count()).select_from(ScheduledPost)) == 25


def test_a_restart_mid_run_posts_the_rest_once(db: Database, slack: SlackDouble) -> None:
    channels = [f"C{n:03d}" for n in range(6)]
    for channel in channels:
        slack.add_channel(channel, channel.lower())
    add_daily_schedules(db, channels)
    clock = FakeClock(NOON)
    first = make_poster(db, slack, clock, holder="first")
    with db.transaction() as session:  # the first process claimed two posts, then died before posting
        for schedule in session.scalars(select(Schedule).order_by(Schedule.id).limit(2)):
            queries.claim_post(
                session, team_id=TEAM_ID, channel_id=schedule.channel_id, kind="prompt", period="2026-11-30",
                schedule_id=schedule.id, due_at=NOON - timedelta(minutes=5), lease_until=NOON + timedelta(minutes=5),
            )  # fmt: skip
            schedule.last_period = "2026-11-30"
    first.release_leadership()

    second = make_poster(db, slack, clock, holder="second")
    assert second.run_due().posted == 4  # the two claimed by the dead process wait for their lease
    clock.advance(minutes=6)
    assert second.run_due().posted == 2
    clock.advance(minutes=6)
    assert second.run_due().claimed == 0

    assert sorted(post["channel"] for post in slack.posts()) == channels


def test_the_lease_passes_to_another_scheduler_within_a_minute(db: Database) -> None:
    with db.transaction() as session:
        assert queries.acquire_lease(session, LEASE_NAME, "a", NOON, NOON + timedelta(seconds=50))
    with db.transaction() as session:
        assert not queries.acquire_lease(
            session, LEASE_NAME, "b", NOON + timedelta(seconds=10), NOON + timedelta(seconds=60)
        )
    with db.transaction() as session:  # "a" renews while alive
        assert queries.acquire_lease(
            session, LEASE_NAME, "a", NOON + timedelta(seconds=40), NOON + timedelta(seconds=90)
        )
    # "a" dies; "b" ticks every minute and gets the lease at its first tick after expiry.
    with db.transaction() as session:
        assert not queries.acquire_lease(
            session, LEASE_NAME, "b", NOON + timedelta(seconds=60), NOON + timedelta(seconds=110)
        )
    with db.transaction() as session:
        assert queries.acquire_lease(
            session, LEASE_NAME, "b", NOON + timedelta(seconds=91), NOON + timedelta(seconds=141)
        )


def test_only_the_lease_holder_posts(db: Database, slack: SlackDouble) -> None:
    slack.add_channel("C777", "c777")
    add_daily_schedules(db, ["C777"])
    clock = FakeClock(NOON)
    leader, follower = make_poster(db, slack, clock, "leader"), make_poster(db, slack, clock, "follower")
    with db.transaction() as session:
        queries.acquire_lease(session, LEASE_NAME, "leader", NOON, NOON + timedelta(seconds=50))

    assert follower.run_due().leader is False
    assert leader.run_due().posted == 1
    assert len(slack.posts()) == 1
