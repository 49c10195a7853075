"""Pacing and rate limits are per workspace: one workspace's 429s never slow another's posts.

Workspace A is over Slack's limit (every chat.postMessage refused with 429 and its Retry-After for a
few seconds, as Slack refuses a workspace until its window has passed). No thread sleeps on A's
Retry-After: A is held, its posts and jobs go back with a not-before time (a retry that is not
counted as a failure), and workspace B's scheduled posts and jobs go out at their own pace
meanwhile. A's go out after the Retry-After, each once. (Before: every poster and worker thread
slept on A's Retry-After and B's posts waited 4-10 s behind them.)
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.schedules import posting
from bot.schedules.kinds import Delivery
from bot.schedules.lanes import Lanes
from bot.schedules.results import Delivered
from bot.slack.pacing import PostPacer
from runtime.factory import build_schedulers
from storage.db import Database
from storage.models import Job, ScheduledPost
from tests.conftest import FakeClock, beat_by_hand
from tests.scenario.test_schedules import MONDAY_0730, peerlearn, prompt_posts
from tests.scenario.workspaces import TEAM_B, World, installed, world
from tests.slack_double import TEAM_ID, SlackDouble

__all__ = ["installed", "world"]  # fixtures

A_CHANNELS = [f"CA{n:02d}" for n in range(16)]
B_CHANNELS = [f"CB{n:02d}" for n in range(20)]
A_HELD = 4  # seconds A's posts are refused


def prompts_everywhere(world: World, clock: FakeClock) -> None:
    clock.now = MONDAY_0730
    for double, sender, channels in ((world.a, world.sender_a, A_CHANNELS), (world.b, world.sender_b, B_CHANNELS)):
        for channel in channels:
            double.add_channel(channel, channel.lower(), members=("U1", "U4"))
            reply = peerlearn(
                sender, f"prompts <#{channel}|{channel.lower()}> mon 09:00 Europe/Berlin", channel=channel
            )
            assert "every Monday" in reply


def post_times(double: SlackDouble, since: float) -> list[float]:
    """When each chat.postMessage since `since` reached Slack (refused ones too), in seconds after it."""
    return [call.at - since for call in double.calls if call.method == "chat.postMessage" and call.at >= since]


def test_a_workspaces_429s_do_not_delay_anothers_scheduled_posts(
    installed: World, db: Database, clock: FakeClock
) -> None:
    prompts_everywhere(installed, clock)
    # The scheduler's engines as deployed in OAuth mode: the real pacer (18/s a workspace), 8 threads.
    poster, _ = build_schedulers(installed.settings, db=db, clock=clock, installations=installed.installations)
    beat_by_hand(poster.heartbeat)
    clock.now = MONDAY_0730 + timedelta(minutes=30, seconds=5)
    installed.a.rate_limit("chat.postMessage", A_HELD)
    start = time.monotonic()
    try:
        report = poster.run_due()
    finally:
        poster.release_leadership()

    b_done = max(post_times(installed.b, start))
    # B alone: 20 posts at 18/s take ~1.1 s; A's Retry-After is not added to them.
    assert b_done < 2.5, f"B's last scheduled post went out {b_done:.2f} s after the tick began"
    # A's posts: each once, all after the Retry-After (no thread retried them inside it), in this run.
    assert (report.claimed, report.posted, report.retrying) == (36, 36, 0)
    for double, channels in ((installed.a, A_CHANNELS), (installed.b, B_CHANNELS)):
        assert [len(prompt_posts(double, channel)) for channel in channels] == [1] * len(channels)
    refused = [t for t in post_times(installed.a, start) if t < A_HELD - 0.1]
    assert len(refused) <= poster.settings.workers, "A was held after its first 429s, not asked again and again"
    with db.snapshot() as session:
        rows = session.scalars(select(ScheduledPost).where(ScheduledPost.team_id == TEAM_ID)).all()
    assert [(row.status, row.attempts) for row in rows] == [("posted", 1)] * len(A_CHANNELS)  # 429s not counted


def test_a_workspaces_429s_do_not_delay_anothers_jobs(installed: World, db: Database, clock: FakeClock) -> None:
    installed.sender_a.concurrent = installed.sender_b.concurrent = True  # queued, run by the worker below
    for n in range(8):  # twice the worker's threads
        installed.sender_a.command(f"A's tip number {n} about grep #shell", user="U1", channel="C1")
    installed.sender_b.command("B's own tip about make #build", user="U1", channel="C1")
    installed.a.rate_limit("chat.postMessage", 3)
    stop = threading.Event()
    runner = threading.Thread(target=installed.worker.run_until, args=(stop,))
    start = time.monotonic()
    runner.start()
    try:
        installed.b.wait_for(lambda: tip_posts(installed.b), timeout=10, message="B's tip post")
        b_delay = time.monotonic() - start
        assert b_delay < 1.5, f"B's tip was posted {b_delay:.2f} s after the worker started (A was rate limited)"
        # A's jobs are back in the queue until A's Retry-After has passed (on the worker's clock), their
        # 429 not counted as an attempt; those not yet run wait in the queue while A is held.
        deferred = installed.a.wait_for(lambda: deferred_jobs(db, TEAM_ID), timeout=10, message="A's jobs put back")
        time.sleep(0.5)
        assert {(job.state, job.attempts) for job in jobs_of(db, TEAM_ID)} == {("queued", 0)}
        assert len(jobs_of(db, TEAM_ID)) == 8 and not tip_posts(installed.a)
        assert all(job.due_at == deferred[0].due_at for job in deferred_jobs(db, TEAM_ID))
        time.sleep(max(start + 3 - time.monotonic(), 0))  # Slack's window has passed, and the worker's
        clock.advance(seconds=3)
        installed.a.wait_for(lambda: len(tip_posts(installed.a)) == 8, timeout=10, message="A's tips")
        installed.a.wait_for(lambda: not jobs_of(db, TEAM_ID), timeout=10, message="A's jobs done")
    finally:
        stop.set()
        runner.join(30)
    assert sorted(int(m["metadata"]["event_payload"]["tip_id"]) for m in tip_posts(installed.a)) == sorted(
        {int(m["metadata"]["event_payload"]["tip_id"]) for m in tip_posts(installed.a)}
    )  # each tip posted once
    assert len(tip_posts(installed.b)) == 1 and not jobs_of(db, TEAM_B.id)


def tip_posts(double: SlackDouble, channel: str = "C1") -> list[dict[str, Any]]:
    messages = double.channels[channel].messages
    return [m for m in messages if (m.get("metadata") or {}).get("event_type") == "peerlearn_tip"]


def jobs_of(db: Database, team_id: str) -> list[Job]:
    with db.queue.snapshot() as session:
        return list(session.scalars(select(Job).where(Job.team_id == team_id)))


def deferred_jobs(db: Database, team_id: str) -> list[Job]:
    """The workspace's jobs put back for later (after a 429)."""
    return [job for job in jobs_of(db, team_id) if job.state == "queued" and job.last_error]


def test_a_held_post_waits_beside_its_lane_while_the_lanes_other_channels_go_on() -> None:
    """The lanes' side of a 429: the post comes back held, its channel's slots held for the
    Retry-After (PostPacer.rate_limited); it is handed out again then, and the lane's other posts
    and the other lanes are not held behind it. No thread waits meanwhile."""
    pacer = PostPacer(50.0, 1.0)
    handed: list[tuple[int, float]] = []

    def submit(post_id: int, team_id: str, slot: float) -> Future[Delivered]:
        handed.append((post_id, slot - started))
        refused = post_id == 0 and [p for p, _ in handed].count(0) == 1
        if refused:
            pacer.rate_limited(team_id, "C0", 0.5)
        done: Future[Delivered] = Future()
        done.set_result(Delivered(post_id, Delivery.RETRYING if refused else Delivery.POSTED, held=refused))
        return done

    lanes = Lanes(pacer, submit, threads=1)
    started = pacer.now()
    for n in range(5):
        lanes.add(n, "T0BUSY", f"C{n}")
    lanes.add(100, "T0QUIET", "C0")
    lanes.close()
    lanes.dispatch()

    order = [post_id for post_id, _ in handed]
    assert order.count(0) == 2 and order[-1] == 0  # handed out again last, after the others
    assert max(slot for post_id, slot in handed if post_id != 0) < 0.3  # nobody waited for C0's hold
    assert handed[-1][1] >= 0.5  # and not before its Retry-After
    assert sum(1 for future in lanes.futures if future.result().held) == 1


def test_a_held_channels_next_post_waits_aside_without_holding_the_lanes_other_channels() -> None:
    """A lane with a second post for the held channel (a prompt and a digest, say): that post takes
    no slot while the hold runs (one at the hold's end would push the workspace's next slots past
    it, and the lane's other channels would wait as long), and it goes out after the held one."""
    pacer = PostPacer(50.0, 0.01)  # channel pacing negligible: only the 429 hold matters
    handed: list[tuple[int, float]] = []

    def submit(post_id: int, team_id: str, slot: float) -> Future[Delivered]:
        handed.append((post_id, slot - started))
        refused = post_id == 0 and [p for p, _ in handed].count(0) == 1
        if refused:
            pacer.rate_limited(team_id, "C0", 0.5)
        done: Future[Delivered] = Future()
        done.set_result(Delivered(post_id, Delivery.RETRYING if refused else Delivery.POSTED, held=refused))
        return done

    lanes = Lanes(pacer, submit, threads=1)
    started = pacer.now()
    for n, channel in enumerate(["C0", "C0", "C2", "C3", "C4"]):
        lanes.add(n, "T0BUSY", channel)
    lanes.close()
    lanes.dispatch()

    slots = {post_id: slot for post_id, slot in handed if post_id in (2, 3, 4)}
    assert max(slots.values()) < 0.3, f"the other channels' slots {slots} waited for C0's hold"
    assert [post_id for post_id, _ in handed][-2:] == [0, 1]  # C0's, in their order, after the hold
    assert min(slot for post_id, slot in handed[-2:]) >= 0.5


def test_a_retry_after_longer_than_a_run_waits_leaves_the_workspaces_posts_to_a_later_tick(
    installed: World, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's Retry-After is longer than a run waits for (HOLD_IN_RUN_SECONDS): the refused posts and
    A's others still in its lane are left to the first tick after it, not waited for in this run
    (which would hold every workspace's next tick as long: one tick runs at a time). Each goes out
    once, at that later tick."""
    monkeypatch.setattr(posting, "HOLD_IN_RUN_SECONDS", 1.0)  # stands for 30 s; A's Retry-After for > 30 s
    prompts_everywhere(installed, clock)
    poster, _ = build_schedulers(installed.settings, db=db, clock=clock, installations=installed.installations)
    beat_by_hand(poster.heartbeat)
    clock.now = MONDAY_0730 + timedelta(minutes=30, seconds=5)
    installed.a.rate_limit("chat.postMessage", A_HELD)
    start = time.monotonic()
    try:
        report = poster.run_due()
        took = time.monotonic() - start
        assert took < A_HELD - 1, f"the run took {took:.1f} s: it waited out A's {A_HELD} s Retry-After"
        assert (report.claimed, report.posted, report.retrying) == (36, 20, 16)
        assert [len(prompt_posts(installed.b, channel)) for channel in B_CHANNELS] == [1] * len(B_CHANNELS)
        assert not any(prompt_posts(installed.a, channel) for channel in A_CHANNELS)

        time.sleep(max(A_HELD - (time.monotonic() - start), 0) + 0.2)  # the Retry-After has passed
        clock.now += timedelta(minutes=1)  # the next tick
        later = poster.run_due()
    finally:
        poster.release_leadership()
    assert (later.claimed, later.posted, later.retrying) == (16, 16, 0)
    assert [len(prompt_posts(installed.a, channel)) for channel in A_CHANNELS] == [1] * len(A_CHANNELS)
    assert [len(prompt_posts(installed.b, channel)) for channel in B_CHANNELS] == [1] * len(B_CHANNELS)


def test_posting_now_on_a_held_channel_is_not_a_second_429(installed: World, db: Database, clock: FakeClock) -> None:
    """A post asked for now on a channel held after one 429 is put back without asking Slack; that
    is not Slack refusing again, so the workspace's other channels are not held."""
    prompts_everywhere(installed, clock)
    poster, _ = build_schedulers(installed.settings, db=db, clock=clock, installations=installed.installations)
    beat_by_hand(poster.heartbeat)
    poster.pacer.rate_limited(TEAM_ID, A_CHANNELS[0], 5.0)  # Slack refused one post there
    try:
        delivered = poster.post_now(TEAM_ID, A_CHANNELS[0], "prompt", "U4")
    finally:
        poster.release_leadership()
    assert delivered.status == Delivery.RETRYING
    assert not [call for call in installed.a.calls if call.method == "chat.postMessage"], "asked Slack while held"
    assert poster.pacer.held_for(TEAM_ID, A_CHANNELS[0]) > 0
    assert poster.pacer.held_for(TEAM_ID) == 0, "one 429 held the whole workspace"
    assert poster.pacer.held_for(TEAM_ID, A_CHANNELS[1]) == 0
