"""The app uninstalled (`app_uninstalled`) or its token revoked (`tokens_revoked`), through signed
events: every schedule of the workspace stops at once; its data goes 30 days later (the daily
upkeep, on a clock the test moves) unless the app is installed again first; an uninstall that
happened before the latest install changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.circles.rounds import CircleRunner
from bot.people.lifecycle import UNINSTALLED, workspace_reinstalled
from bot.schedules.posting import ScheduledPoster
from runtime.maintenance import daily_upkeep
from storage.db import Database
from storage.models import Base, Circle, Job, MentorProfile, Schedule, Tip, TipVote, WorkspaceLifecycle
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.people_seed import Seeded, count, seed
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


@pytest.fixture
def seeded(sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock) -> Seeded:
    data = seed(sender, slack, db, clock.now)
    due = (clock.now + timedelta(minutes=30)).strftime("%H:%M")
    sender.command(f"prompts <#C1|general> daily {due} UTC", user=ADMIN_ID, command="/peerlearn")
    sender.command(f"digest <#CNOBOT|random> daily {due} UTC", user=ADMIN_ID, command="/peerlearn")
    with db.transaction() as session:  # another workspace in the same database, and a failed job of ours
        session.add(Tip(team_id="T0OTHER", author_id="U1", text="Theirs, not ours", source="command"))
    with db.queue.transaction() as session:
        session.add(
            Job(team_id=TEAM_ID, listener="x", mode="http", body="", state="failed", attempts=4, created_at=clock.now)
        )
    return data


def uninstall(sender: SlackSender, clock: FakeClock, kind: str = "app_uninstalled", **event: Any) -> None:
    sender.event({"type": kind, **event}, event_time=int(clock.now.timestamp()))


def team_rows(db: Database, team_id: str = TEAM_ID) -> int:
    """Rows of every table that holds workspace data (the lifecycle row aside)."""
    total = 0
    with db.snapshot() as session:
        for table in Base.metadata.sorted_tables:
            if "team_id" in table.c and table.name != WorkspaceLifecycle.__tablename__:
                total += session.scalar(select(func.count()).select_from(table).where(table.c.team_id == team_id)) or 0
    with db.queue.snapshot() as session:
        if db.queue is not db:
            total += session.scalar(select(func.count()).select_from(Job).where(Job.team_id == team_id)) or 0
    return total


def workspace_data(db: Database) -> dict[str, int]:
    """The workspace's own data (not what the daily upkeep forgets anyway: event ids, failed jobs)."""
    return {
        m.__tablename__: count(db, m, m.team_id == TEAM_ID) for m in (Tip, TipVote, Circle, MentorProfile, Schedule)
    }


def paused(db: Database) -> list[str | None]:
    with db.snapshot() as session:
        return [row.paused_reason for model in (Schedule, Circle) for row in session.scalars(select(model))]


def test_uninstalling_stops_every_schedule_at_once(
    sender: SlackSender,
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    poster: ScheduledPoster,
    circle_runner: CircleRunner,
    seeded: Seeded,
) -> None:
    assert paused(db) == [None, None, None]

    uninstall(sender, clock)

    assert paused(db) == [UNINSTALLED] * 3
    posts_before = len(slack.posts())
    clock.advance(hours=1)  # past the prompt's and digest's time
    poster.run_due()
    circle_runner.run_due()
    assert len(slack.posts()) == posts_before


def test_the_data_goes_30_days_after_and_only_that_workspaces(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded
) -> None:
    uninstall(sender, clock)
    others = count(db, Tip, Tip.team_id == "T0OTHER")
    assert team_rows(db) > 20

    daily_upkeep(db, clock.now + timedelta(days=29, hours=23))
    assert team_rows(db) > 20  # not yet

    daily_upkeep(db, clock.now + timedelta(days=30, minutes=1))
    assert team_rows(db) == 0
    assert count(db, Tip, Tip.team_id == "T0OTHER") == others
    with db.snapshot() as session:
        row = session.get(WorkspaceLifecycle, TEAM_ID)
        assert row is not None and row.purged_at is not None

    daily_upkeep(db, clock.now + timedelta(days=31))  # again: nothing left, nothing fails
    assert team_rows(db) == 0


def test_a_request_from_the_workspace_within_30_days_means_it_is_installed_again(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded
) -> None:
    uninstall(sender, clock)
    before = workspace_data(db)
    clock.advance(days=12)

    answer = sender.command("top", user="U2")  # Slack sends nothing for an app that is not installed

    assert answer.status == 200
    assert paused(db) == [None, None, None]  # what the uninstall stopped runs again
    daily_upkeep(db, clock.now + timedelta(days=40))
    assert workspace_data(db) == before  # everything is still there


def test_the_app_starting_with_the_workspaces_token_means_it_is_installed_again(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded
) -> None:
    uninstall(sender, clock)

    assert workspace_reinstalled(db, TEAM_ID, clock.now + timedelta(days=3)) is True  # app.py, after auth.test
    assert workspace_reinstalled(db, TEAM_ID, clock.now + timedelta(days=4)) is False  # installed already

    daily_upkeep(db, clock.now + timedelta(days=31))
    assert count(db, Tip, Tip.team_id == TEAM_ID) == 4 and paused(db) == [None, None, None]


def test_an_uninstall_that_happened_before_the_latest_install_deletes_nothing(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded
) -> None:
    workspace_reinstalled(db, TEAM_ID, clock.now)
    before = workspace_data(db)

    sender.event({"type": "app_uninstalled"}, event_time=int(clock.now.timestamp()) - 60)  # delivered late

    assert paused(db) == [None, None, None]
    daily_upkeep(db, clock.now + timedelta(days=31))
    assert workspace_data(db) == before


def test_a_slack_retry_of_an_old_event_is_not_a_sign_of_installation(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded
) -> None:
    uninstall(sender, clock)
    old = int(clock.now.timestamp()) - 600  # an event from before the uninstall, delivered again later
    clock.advance(hours=1)

    sender.event({"type": "app_home_opened", "user": "U1", "tab": "home"}, event_time=old, retry_num=2)

    assert paused(db) == [UNINSTALLED] * 3


@pytest.mark.parametrize(
    ("tokens", "stops"),
    [({"oauth": [], "bot": ["UBOT"]}, True), ({"oauth": ["U1"], "bot": []}, False)],
)
def test_revoked_tokens_stop_the_workspace_when_they_are_the_bots(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded, tokens: dict[str, list[str]], stops: bool
) -> None:
    uninstall(sender, clock, "tokens_revoked", tokens=tokens)

    assert paused(db) == ([UNINSTALLED] * 3 if stops else [None, None, None])


def test_an_uninstall_event_delivered_twice_stops_once_and_keeps_the_first_date(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded
) -> None:
    uninstall(sender, clock)
    sender.event({"type": "app_uninstalled"}, event_id="Ev-again", event_time=int(clock.now.timestamp()))
    uninstall(sender, clock)  # Slack's retry of the same moment

    with db.snapshot() as session:
        row = session.get(WorkspaceLifecycle, TEAM_ID)
        assert row is not None and row.purge_after == row.uninstalled_at + timedelta(days=30)  # type: ignore[operator]
    assert paused(db) == [UNINSTALLED] * 3
