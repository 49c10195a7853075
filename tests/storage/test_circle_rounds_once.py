"""Circle rounds open, remind and close once each, even with several runners at the same moment."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.circles.rounds import CircleRunner
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.users import UserDirectory
from storage import circles as queries
from storage.db import Database
from storage.models import Circle, CircleRound
from tests.conftest import FakeClock, beat_by_hand
from tests.slack_double import BOT_TOKEN, TEAM_ID, SlackDouble

DUE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def seed_circle(db: Database, members: list[str]) -> int:
    with db.transaction() as session:
        circle = queries.add_circle(
            session, team_id=TEAM_ID, name="Go", name_key="go", description="", channel_id="C1", cadence="daily",
            weekday=None, at_time="09:00", zone="UTC", anchor=None, questions=json.dumps(["Learned?", "Stuck on?"]),
            reminder_minutes=60, window_minutes=120, owner_id=members[0],
            created_at=DUE - timedelta(days=1), updated_at=DUE - timedelta(days=1),
        )  # fmt: skip
        for user in members:
            queries.add_member(session, circle, user)
        return circle.id


def runners(db: Database, slack: SlackDouble, clock: FakeClock, count: int) -> list[CircleRunner]:
    client = build_client(BOT_TOKEN, slack.api_url, max_retries=2)
    runners = [
        CircleRunner(
            db, SlackGateway(client), UserDirectory(client, frozenset()), clock=clock, pacer=PostPacer(1e6, 0.0)
        )
        for _ in range(count)
    ]
    beat_by_hand(*(runner.heartbeat for runner in runners))
    return runners


def test_concurrent_runners_open_remind_and_close_once(db: Database, slack: SlackDouble) -> None:
    members = [f"U{n:03d}" for n in range(12)]
    for user in members:
        slack.add_user(user, user.lower())
    seed_circle(db, members)
    clock = FakeClock(DUE)
    pool = runners(db, slack, clock, 4)

    def tick_all() -> None:
        with ThreadPoolExecutor(4) as threads:
            list(threads.map(lambda runner: runner.run_due(), pool))

    tick_all()
    clock.advance(minutes=61)
    tick_all()
    clock.advance(minutes=60)
    tick_all()

    with db.snapshot() as session:
        [round_] = session.scalars(select(CircleRound)).all()
    assert round_.status == "closed"
    headers = [m for m in slack.channels["C1"].messages if "check-in —" in m["text"]]
    summaries = [m for m in slack.channels["C1"].messages if m.get("thread_ts") == round_.thread_ts]
    assert len(headers) == 1 and len(summaries) == 1
    dms = [p["channel"] for p in slack.posts() if p["channel"].startswith("U")]
    assert sorted(dms) == sorted(members * 2)  # one invitation and one reminder each, no more


def test_a_round_whose_opener_died_is_resumed_without_a_second_header(db: Database, slack: SlackDouble) -> None:
    members = ["U001", "U002"]
    for user in members:
        slack.add_user(user, user.lower())
    circle_id = seed_circle(db, members)
    clock = FakeClock(DUE)
    with db.transaction() as session:  # the first opener claimed the round, posted the header, then died
        circle = session.get(Circle, circle_id)
        circle.last_period = "2026-11-30"
        queries.open_round(
            session, team_id=TEAM_ID, circle_id=circle_id, period="2026-11-30", due_at=DUE,
            remind_at=DUE + timedelta(hours=1), closes_at=DUE + timedelta(hours=2), channel_id="C1",
            lease_until=DUE + timedelta(minutes=5), thread_ts="1700000000.000001",
        )  # fmt: skip
    [runner] = runners(db, slack, clock, 1)

    runner.run_due()
    assert slack.posts() == []  # its lease still runs
    clock.advance(minutes=6)
    runner.run_due()

    assert sorted(p["channel"] for p in slack.posts()) == members  # the DMs, and no second header
    with db.snapshot() as session:
        assert session.scalars(select(CircleRound.status)).one() == "open"
