"""The scheduler and the job worker in OAuth mode: each workspace's posts made with its own token,
and a workspace whose installation is gone skipped (its schedules paused, resumed by a reinstall),
never posted to with another workspace's token."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select

from bot.schedules.claims import in_turns
from bot.schedules.kinds import Delivery
from bot.schedules.lanes import Lanes
from bot.schedules.results import Delivered
from bot.slack.pacing import PostPacer
from bot.uninstalled import UNINSTALLED
from storage.db import Database
from storage.models import PairingGroup, PairingRound, Schedule, ScheduledPost, SlackBot
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.test_pairing import PEOPLE, group_dms, groups, rounds
from tests.scenario.test_schedules import MONDAY_0730, peerlearn, prompt_posts
from tests.scenario.workspaces import TEAM_B, World, installed, world
from tests.slack_double import TEAM_ID

__all__ = ["installed", "world"]  # fixtures

MONDAY_0900_BERLIN = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def schedules(db: Database) -> dict[str, Schedule]:
    with db.snapshot() as session:
        return {row.team_id: row for row in session.scalars(select(Schedule))}


def prompts_in_both(world: World, clock: FakeClock) -> None:
    clock.now = MONDAY_0730
    for sender in (world.sender_a, world.sender_b):
        assert "every Monday" in peerlearn(sender, "prompts <#C1|general> mon 09:00 Europe/Berlin")


def test_each_workspaces_scheduled_post_goes_out_with_its_own_token(
    installed: World, clock: FakeClock, db: Database
) -> None:
    prompts_in_both(installed, clock)
    clock.now = MONDAY_0900_BERLIN + timedelta(seconds=5)

    report = installed.poster.run_due()

    assert (report.claimed, report.posted) == (2, 2)
    assert len(prompt_posts(installed.a)) == 1 and len(prompt_posts(installed.b)) == 1
    with db.snapshot() as session:
        assert sorted(post.team_id for post in session.scalars(select(ScheduledPost))) == [TEAM_B.id, TEAM_ID]


def test_an_uninstalled_workspace_is_skipped_and_paused_until_it_is_installed_again(
    installed: World, clock: FakeClock, db: Database
) -> None:
    prompts_in_both(installed, clock)
    assert installed.installations.delete(TEAM_B.id, None) == 1  # Slack said: uninstalled
    calls_b = len(installed.b.calls)
    clock.now = MONDAY_0900_BERLIN + timedelta(seconds=5)

    report = installed.poster.run_due()

    assert (report.claimed, report.posted) == (1, 1)  # A's, as usual
    assert len(prompt_posts(installed.a)) == 1 and prompt_posts(installed.b) == []
    assert len(installed.b.calls) == calls_b  # nothing asked of Slack for B, with any token
    assert schedules(db)[TEAM_B.id].paused_reason == UNINSTALLED
    assert schedules(db)[TEAM_ID].paused_reason is None

    installed.install(installed.b)  # installed again: its schedules resume
    assert schedules(db)[TEAM_B.id].paused_reason is None
    clock.now = MONDAY_0900_BERLIN + timedelta(days=7, seconds=5)
    report = installed.poster.run_due()
    assert report.posted == 2
    assert len(prompt_posts(installed.b)) == 1


def test_a_job_of_a_workspace_uninstalled_before_it_ran_calls_slack_for_nobody(installed: World, db: Database) -> None:
    installed.sender_b.concurrent = True  # acknowledged, its job left queued
    installed.sender_b.command("Queued before the uninstall #ops", channel="C1")
    installed.installations.delete(TEAM_B.id, None)
    calls = {double.team.id: len(double.calls) for double in (installed.a, installed.b)}

    installed.worker.drain()

    assert {double.team.id: len(double.calls) for double in (installed.a, installed.b)} == calls
    assert installed.a.posts() == [] and installed.b.posts() == []


def test_an_uninstall_delivered_after_a_reinstall_deletes_nothing(installed: World, db: Database) -> None:
    uninstalled_at = datetime.now(UTC) - timedelta(minutes=1)  # the event's time: before the reinstall

    deleted = installed.installations.delete(TEAM_B.id, None, installed_before=uninstalled_at)

    assert deleted == 0
    assert installed.installations.serves_team(TEAM_B.id)
    with db.snapshot() as session:
        assert session.scalar(select(SlackBot.team_id).where(SlackBot.team_id == TEAM_B.id)) == TEAM_B.id


def test_each_workspaces_posts_are_claimed_spread_over_the_claiming() -> None:
    """A busy workspace (which posts longest at its pace) gets its first posts claimed at once, and a
    quiet one is not held until all the busy one's are claimed."""
    busy = [Schedule(id=n, team_id="T0BUSY", channel_id=f"C{n}") for n in range(12)]
    quiet = [Schedule(id=100 + n, team_id="T0QUIET", channel_id=f"C{n}") for n in range(3)]

    order = [schedule.id for schedule in in_turns(quiet + busy)]

    assert order[0] == 0  # the busy one's first
    assert [order.index(100 + n) for n in range(3)] == [4, 9, 14]  # after 4, 8 and 12 of the busy one's twelve
    assert [schedule_id for schedule_id in order if schedule_id < 100] == list(range(12))


def test_lanes_let_each_workspace_post_at_its_own_pace() -> None:
    """A busy workspace's posts never make a quiet one's wait: each lane is posted from as its own
    workspace's slots come free."""
    pacer = PostPacer(50.0, 1.0)  # 50 posts a second per workspace
    handed: list[tuple[int, float]] = []

    def submit(post_id: int, team_id: str, slot: float) -> Future[Delivered]:
        handed.append((post_id, slot - started))
        done: Future[Delivered] = Future()
        done.set_result(Delivered(post_id, Delivery.POSTED))
        return done

    lanes = Lanes(pacer, submit, threads=2)
    started = pacer.now()
    for n in range(10):
        lanes.add(n, "T0BUSY", f"C{n}")
    for n in range(3):
        lanes.add(100 + n, "T0QUIET", f"C{n}")
    lanes.close()
    lanes.dispatch()

    order = [post_id for post_id, _ in handed]
    assert order.index(102) < order.index(5)  # the quiet one's three go beside the busy one's first, not after
    slots = dict(handed)
    for lane in ([*range(10)], [100, 101, 102]):  # each lane at its own pace: 1/50 s apart at least
        gaps = [later - earlier for earlier, later in pairwise(slots[post_id] for post_id in lane)]
        assert min(gaps) >= 0.02 - 1e-9


def test_lanes_wait_for_a_free_thread_without_spinning() -> None:
    """While every thread is busy, a lane whose slot is free waits to be told a thread came free: it
    does not poll (the dispatcher spinning took the CPU the poster threads needed)."""
    looks = 0

    class CountingPacer(PostPacer):
        def free_at(self, team_id: str | None) -> float:
            nonlocal looks
            looks += 1
            return super().free_at(team_id)

    pacer = CountingPacer(1000.0, 0.0)
    running: list[Future[Delivered]] = []

    def submit(post_id: int, team_id: str, slot: float) -> Future[Delivered]:
        busy: Future[Delivered] = Future()
        running.append(busy)
        return busy

    def finish_later() -> None:
        for _ in range(3):
            while not running:
                time.sleep(0.001)
            time.sleep(0.1)  # the one thread stays busy a while with each post
            running.pop().set_result(Delivered(0, Delivery.POSTED))

    lanes = Lanes(pacer, submit, threads=1)
    for n in range(3):
        lanes.add(n, f"T{n}", "C1")
    lanes.close()
    finisher = threading.Thread(target=finish_later)
    finisher.start()
    lanes.dispatch()
    finisher.join()

    assert len(lanes.futures) == 3
    assert looks < 100  # a few per wake; polling made thousands in the 0.3 s


def test_app_uninstalled_deletes_the_installation_and_a_reinstall_through_oauth_resumes(
    installed: World, clock: FakeClock, db: Database
) -> None:
    """The lifecycle's listener (handlers/workspace_lifecycle.py) stops the workspace and, in OAuth
    mode, deletes its installation; installing again through the flow resumes what it stopped. An
    uninstall Slack delivers late, after the reinstall, deletes nothing."""
    prompts_in_both(installed, clock)
    uninstalled_at = int(time.time()) + 1  # whole seconds, and after the install (made this second)

    installed.sender_b.event({"type": "app_uninstalled"}, event_time=uninstalled_at)

    assert not installed.installations.serves_team(TEAM_B.id)
    with db.snapshot() as session:
        assert session.scalar(select(SlackBot.id).where(SlackBot.team_id == TEAM_B.id)) is None
    assert schedules(db)[TEAM_B.id].paused_reason is not None
    assert schedules(db)[TEAM_ID].paused_reason is None

    time.sleep(max(uninstalled_at + 0.1 - time.time(), 0))  # the reinstall comes after the uninstall
    installed.install(installed.b)
    assert schedules(db)[TEAM_B.id].paused_reason is None

    installed.sender_b.event({"type": "app_uninstalled"}, event_time=uninstalled_at)  # delivered again, late
    assert installed.installations.serves_team(TEAM_B.id)
    assert schedules(db)[TEAM_B.id].paused_reason is None


def test_tokens_revoked_for_the_bot_deletes_the_installation_and_stops_the_workspace(
    installed: World, clock: FakeClock, db: Database
) -> None:
    prompts_in_both(installed, clock)
    at = int(time.time()) + 1  # whole seconds, after the install
    time.sleep(max(at + 0.05 - time.time(), 0))

    installed.sender_b.event({"type": "tokens_revoked", "tokens": {"bot": [TEAM_B.bot_user_id]}}, event_time=at)

    assert not installed.installations.serves_team(TEAM_B.id)
    with db.snapshot() as session:
        assert session.scalar(select(SlackBot.id).where(SlackBot.team_id == TEAM_B.id)) is None
    assert schedules(db)[TEAM_B.id].paused_reason is not None
    assert schedules(db)[TEAM_ID].paused_reason is None


def test_an_uninstalled_workspaces_many_due_rounds_hold_up_nobody_elses(
    installed: World, clock: FakeClock, db: Database
) -> None:
    """More of B's pairing rounds are due, and older, than the rounds' keeper takes in a tick (each
    with a group a crash left unmessaged): while B is uninstalled they stay due, and must not fill
    every tick's batches so that A's round is never delivered, followed up or closed."""
    long_ago = clock.now - timedelta(days=30)
    with db.transaction() as session:
        for n in range(150):
            round_ = PairingRound(
                team_id=TEAM_B.id,
                channel_id="C1",
                period=f"old:{n}",
                mode="coffee",
                configured_by="U4",
                follow_up_at=long_ago,
                closes_at=long_ago,
                created_at=long_ago,
            )
            session.add(round_)
            session.flush()
            session.add(PairingGroup(team_id=TEAM_B.id, round_id=round_.id, members="U1 U2"))
    installed.installations.delete(TEAM_B.id, None)
    calls_b = len(installed.b.calls)
    installed.a.add_channel("CPAIR", "coffee", members=(*PEOPLE, ADMIN_ID))
    peerlearn(installed.sender_a, "pairing <#CPAIR|coffee> now")
    (a_round,) = [round_ for round_ in rounds(db) if round_.team_id == TEAM_ID]
    a_groups = [group for group in groups(db) if group.round_id == a_round.id]
    with db.transaction() as session:  # as if the worker died after A's first group DM, before recording it
        unrecorded = session.get(PairingGroup, a_groups[0].id)
        assert unrecorded is not None
        unrecorded.message_ts = None

    clock.advance(days=4)
    installed.poster.run_due()

    assert all(group.message_ts for group in groups(db) if group.round_id == a_round.id)  # the straggler found
    assert len(group_dms(installed.a)) == len(a_groups)  # by its metadata, not posted again
    follow_ups = [post for post in installed.a.posts() if "Halfway through" in post["text"]]
    assert sorted(post["channel"] for post in follow_ups) == sorted(str(g.conversation_id) for g in a_groups)

    clock.advance(days=4)
    installed.poster.run_due()

    assert {round_.team_id: round_.status for round_ in rounds(db) if round_.id == a_round.id} == {TEAM_ID: "closed"}
    assert {round_.status for round_ in rounds(db) if round_.team_id == TEAM_B.id} == {"open"}  # B's wait
    assert len(installed.b.calls) == calls_b
