"""The scheduler's short leases (leadership, posts being delivered, rounds being opened), renewed by
its heartbeat: a live scheduler never loses work that runs long, a dead one's resumes within 50 s."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from bot.circles.rounds import CircleRunner
from bot.schedules.posting import LEASE_NAME
from storage import schedules as queries
from storage.db import Database
from storage.leases import SCHEDULER_LEASE
from storage.models import CircleRound, Schedule, ScheduledPost
from tests.conftest import FakeClock
from tests.slack_double import TEAM_ID, SlackDouble
from tests.storage.test_circle_rounds_once import DUE, runners, seed_circle
from tests.storage.test_exactly_once import NOON, add_daily_schedules, make_poster

TICK = timedelta(seconds=30)  # runtime/scheduler.py ticks on the minute and at half past


def test_a_dead_schedulers_claimed_posts_are_posted_by_another_within_50_seconds(
    db: Database, slack: SlackDouble
) -> None:
    channels = ["C101", "C102", "C103"]
    for channel in channels:
        slack.add_channel(channel, channel.lower())
    add_daily_schedules(db, channels)
    clock = FakeClock(NOON)
    with db.transaction() as session:  # "dead" led, claimed two posts, beat once more, then died
        assert queries.acquire_lease(session, LEASE_NAME, "dead", NOON, NOON + SCHEDULER_LEASE)
        for schedule in session.scalars(select(Schedule).order_by(Schedule.id).limit(2)):
            queries.claim_post(
                session, team_id=TEAM_ID, channel_id=schedule.channel_id, kind="prompt", period="2026-11-30",
                schedule_id=schedule.id, due_at=NOON - timedelta(minutes=5), lease_until=NOON + SCHEDULER_LEASE,
                lease_holder="dead",
            )  # fmt: skip
            schedule.last_period = "2026-11-30"
    standby = make_poster(db, slack, clock, "standby")

    clock.advance(seconds=10)
    assert standby.run_due().leader is False  # the leader's lease still runs
    clock.advance(seconds=TICK.total_seconds())  # the standby's next tick, 40 s after the last beat
    report = standby.run_due()

    assert report.leader and report.posted == 3
    assert sorted(post["channel"] for post in slack.posts()) == channels
    assert timedelta(seconds=50) >= SCHEDULER_LEASE + TICK  # the worst case: died just after a beat


def test_the_leader_keeps_leading_between_ticks_while_its_heartbeat_beats(db: Database, slack: SlackDouble) -> None:
    clock = FakeClock(NOON)
    leader, standby = make_poster(db, slack, clock, "leader"), make_poster(db, slack, clock, "standby")
    assert leader.run_due().leader

    for _ in range(12):  # three minutes of beats, and of the standby's ticks
        clock.advance(seconds=SCHEDULER_LEASE.total_seconds() / 3)
        assert leader.heartbeat.beat() == 1
        assert standby.run_due().leader is False
    clock.advance(seconds=SCHEDULER_LEASE.total_seconds() + 1)  # the leader dies: no beat

    assert standby.run_due().leader
    assert leader.heartbeat.beat() == 0  # compare-and-set on the holder: it can't take it back


def test_a_post_in_hand_keeps_its_lease_however_long_slack_takes(db: Database, slack: SlackDouble) -> None:
    slack.add_channel("C201", "c201")
    add_daily_schedules(db, ["C201"])
    clock = FakeClock(NOON)
    slow, other = make_poster(db, slack, clock, "slow"), make_poster(db, slack, clock, "other")
    slack.slow_next("chat.postMessage", 1.0)
    tick = threading.Thread(target=slow.run_due)
    tick.start()
    slack.wait_for(lambda: slack.posts(), message="the slow post under way")

    clock.advance(minutes=2)  # Slack takes "two minutes": six leases' worth
    assert slow.heartbeat.beat() == 2  # the post and the leadership
    with db.transaction() as session:  # the leadership aside, nobody may take the post over
        assert queries.stale_pending_ids(session, clock(), NOON - timedelta(hours=1)) == []
        queries.release_lease(session, LEASE_NAME, "slow")
    assert other.run_due().claimed == 0
    tick.join(5)

    assert len(slack.posts()) == 1
    with db.snapshot() as session:
        assert session.scalars(select(ScheduledPost.status)).all() == ["posted"]


MEMBERS = ["U001", "U002"]


def two_runners_of_a_circle_due(db: Database, slack: SlackDouble) -> tuple[FakeClock, list[CircleRunner]]:
    for user in MEMBERS:
        slack.add_user(user, user.lower())
    seed_circle(db, MEMBERS)
    clock = FakeClock(DUE)
    return clock, runners(db, slack, clock, 2)


def test_a_round_that_opens_slowly_is_not_opened_twice(db: Database, slack: SlackDouble) -> None:
    clock, (opener, other) = two_runners_of_a_circle_due(db, slack)
    slack.slow_next("chat.postMessage", 1.0)  # the header
    tick = threading.Thread(target=opener.run_due)
    tick.start()
    slack.wait_for(lambda: slack.posts(), message="the round's header under way")

    clock.advance(minutes=2)
    assert opener.heartbeat.beat() == 1
    other.run_due()
    tick.join(5)

    headers = [m for m in slack.channels["C1"].messages if "check-in —" in m["text"]]
    assert len(headers) == 1
    with db.snapshot() as session:
        round_ = session.scalars(select(CircleRound)).one()
    assert round_.status == "open" and round_.lease_until is None


def test_a_dead_openers_round_is_resumed_within_50_seconds(db: Database, slack: SlackDouble) -> None:
    clock, (dead, survivor) = two_runners_of_a_circle_due(db, slack)
    dead._start = lambda round_id: None  # type: ignore[method-assign]  # claims the round, then dies
    dead.run_due()

    clock.advance(seconds=SCHEDULER_LEASE.total_seconds() - 1)
    survivor.run_due()
    assert slack.posts() == []
    clock.advance(seconds=2)
    survivor.run_due()

    assert sorted(p["channel"] for p in slack.posts() if p["channel"].startswith("U")) == MEMBERS
