"""kill -9 of a scheduler (`app.py --role scheduler`) while it posts prompts and digests to several channels,
and again while it opens a circle round (header, then one DM per member); restarted each time once
the dead one's leases have run out. Each prompt, round, header and DM exists exactly once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import (
    Circle,
    CircleMember,
    CircleRound,
    RoundParticipant,
    RoundState,
    Schedule,
    ScheduledPost,
    SchedulerLease,
)
from tests.reliability import processes
from tests.reliability.figures import effects, tried
from tests.reliability.processes import Running
from tests.reliability.test_crashes import wait_until
from tests.slack_double import TEAM_ID, SlackDouble

pytestmark = pytest.mark.slow

CHANNELS = [f"C{n:04d}" for n in range(4)]
DIGESTS = CHANNELS[3:]  # the others get prompts
MEMBERS = ["U1", "U2", "U3", "U5", "U6", "U7"]
LATE = 1.0  # every post reaches Slack at once and is answered this late: the kills land in between


def due_work(db: Database, fired: datetime) -> None:
    """A daily prompt or digest in each channel and a daily circle in C1, all due five minutes ago."""
    at, day_before = fired.strftime("%H:%M"), fired - timedelta(days=1)
    with db.transaction() as session:
        for channel in CHANNELS:
            session.add(
                Schedule(
                    team_id=TEAM_ID, channel_id=channel, kind="digest" if channel in DIGESTS else "prompt",
                    cadence="daily", weekday=None, at_time=at,
                    zone="UTC", anchor=None, scope="workspace", configured_by="U4", created_at=day_before,
                    updated_at=day_before,
                )
            )  # fmt: skip
        circle = Circle(
            team_id=TEAM_ID, name="Crash club", name_key="crash club", channel_id="C1", cadence="daily",
            weekday=None, at_time=at, zone="UTC", questions=json.dumps(["What did you learn?"]),
            reminder_minutes=120, window_minutes=240, owner_id="U1", created_at=day_before, updated_at=day_before,
        )  # fmt: skip
        session.add(circle)
        session.flush()
        session.add_all(CircleMember(circle_id=circle.id, user_id=user, team_id=TEAM_ID) for user in MEMBERS)


def leases_run_out(db: Database) -> None:
    """Wait until the killed scheduler's leases (leadership, posts, openings: one heartbeat) expire."""
    with db.snapshot() as session:
        ends = [lease.expires_at for lease in session.scalars(select(SchedulerLease))]
    if ends:
        end = max(ends).replace(tzinfo=UTC) if max(ends).tzinfo is None else max(ends)
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.5)


def bot_messages(slack: SlackDouble, channel: str) -> list[dict[str, object]]:
    return [m for m in slack.channels[channel].messages if m.get("bot_id")] if channel in slack.channels else []


def test_scheduler_killed_while_posting_and_while_opening_a_round(
    tmp_path: Path, database_url: str, db: Database, slack: SlackDouble
) -> None:
    now = datetime.now(UTC)
    if now.strftime("%H:%M") < "00:06":
        pytest.skip("too close to midnight UTC for 'five minutes ago today'")
    for channel in CHANNELS:
        slack.add_channel(channel, f"team-{channel.lower()}")
    for user in MEMBERS[3:]:
        slack.add_user(user, f"member-{user.lower()}")
    due_work(db, now - timedelta(minutes=5))
    for _ in range(len(CHANNELS) + 1 + len(MEMBERS)):
        slack.answer_late_next("chat.postMessage", LATE)
    env = {**processes.environment(slack, database_url, 0), "PEERLEARN_ROLE": "scheduler"}
    env.pop("PORT")
    started: list[Running] = []
    try:
        first = Running(env, tmp_path, "scheduler")
        started.append(first)
        wait_until(lambda: sum(len(bot_messages(slack, c)) for c in CHANNELS) >= 2, 60, "prompts under way")
        first.kill9()  # a prompt posted, its answer not yet in: the ledger row says pending
        leases_run_out(db)

        second = Running(env, tmp_path, "scheduler")
        started.append(second)
        wait_until(
            lambda: any(m.startswith("D") and bot_messages(slack, m) for m in list(slack.channels)),
            60,
            "the circle round's DMs under way",
        )
        second.kill9()  # the header posted, DMs going out
        leases_run_out(db)

        started.append(Running(env, tmp_path, "scheduler"))

        def all_done() -> bool:
            with db.snapshot() as session:
                posted = session.scalars(select(ScheduledPost).where(ScheduledPost.status == "posted")).all()
                opened = session.scalars(select(CircleRound).where(CircleRound.status == RoundState.OPEN)).all()
            return len(posted) == len(CHANNELS) and len(opened) == 1

        wait_until(all_done, 60, "every prompt posted and the round open")
        time.sleep(LATE + 0.5)  # room for a duplicate to show, if there were one
    finally:
        logs = [running.stop() for running in started]
    tried(len(CHANNELS) + 1 + len(MEMBERS))

    prompts = [(c, m["ts"]) for c in CHANNELS for m in bot_messages(slack, c)]
    effects("prompt and digest posts", set(CHANNELS), [c for c, _ in prompts])
    with db.snapshot() as session:
        ledger = [(p.channel_id, p.message_ts) for p in session.scalars(select(ScheduledPost))]
        rounds = list(session.scalars(select(CircleRound)))
        participants = list(session.scalars(select(RoundParticipant)))
    effects("ledger linked to its post", set(prompts), ledger)
    effects("circle rounds", {"Crash club"}, ["Crash club" for _ in rounds])
    headers = [m["ts"] for m in bot_messages(slack, "C1") if not m.get("thread_ts")]
    effects("round headers", {rounds[0].thread_ts}, headers)
    assert "Traceback" not in logs[-1], logs[-1][-3000:]
    dms = [user for user in MEMBERS for _ in bot_messages(slack, "D" + user[1:])]
    effects("check-in DMs", set(MEMBERS), dms)
    effects("DMs linked", {(p.user_id, p.dm_ts) for p in participants}, [
        (user, m["ts"]) for user in MEMBERS for m in bot_messages(slack, "D" + user[1:])
    ])  # fmt: skip
