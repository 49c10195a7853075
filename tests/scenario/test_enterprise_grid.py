"""Enterprise Grid in OAuth mode: an organisation-wide install (one token for every workspace of the
organisation) serves each of its workspaces, requests and scheduled posts alike, with data keyed per
workspace; people of another workspace of the organisation are served in a shared channel but hold
no admin rights there; other organisations are refused; uninstalling the organisation stops all."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.people.lifecycle import UNINSTALLED as LIFECYCLE_UNINSTALLED
from bot.uninstalled import UNINSTALLED
from runtime.workspace import NOT_INSTALLED
from sandbox.oauth import Enterprise
from sandbox.workspace import Team
from storage.db import Database
from storage.models import Circle, EnterpriseWorkspace, Schedule, SlackBot, Tip, TipVote, WorkspaceLifecycle
from tests.conftest import FakeClock
from tests.scenario.test_schedules import MONDAY_0730, prompt_posts
from tests.scenario.workspaces import World, build_world
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import Response, SlackSender

GRID = Enterprise("E0GRID", "Grid Corp")
EAST = Team(id="T0EAST", name="Grid East", domain="grid-east", bot_user_id="UBOT", bot_id="BBOT", app_id="A0TEST")
MONDAY_0900_BERLIN = MONDAY_0730 + timedelta(minutes=30)
NOON = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def grid(slack: SlackDouble, db: Database, clock: FakeClock, database_url: str) -> Iterator[tuple[World, SlackDouble]]:
    """A (the double's own workspace) and East, both of Grid Corp; the app installed organisation-wide."""
    world = build_world(slack, db, clock, database_url)
    slack.enterprise = GRID
    east = slack.add_workspace(EAST, enterprise=GRID)
    east.add_user("WE1", "emil")
    east.add_user("WE4", "eva", is_admin=True)
    east.add_channel("CE1", "east-general", members=("WE1", "WE4"))
    # Eva of East is in A's #general too: a channel shared across the organisation.
    slack.add_user("WE4", "eva", is_admin=True, team_id=EAST.id)
    slack.channels["C1"].add_member("WE4")
    slack.org_wide = True
    page = world.install(slack)
    assert page.status == 200, page.body
    yield world, east
    world.poster.release_leadership()


def command(world: World, team: str, text: str, *, user: str, channel: str, name: str = "/tip") -> Response:
    sender = SlackSender(world.wsgi, world.a, settle=world.worker.drain, team_id=team)
    return sender.command(text, user=user, channel=channel, command=name, enterprise_id=GRID.id,
                          is_enterprise_install="true")  # fmt: skip


def a_second_on() -> int:
    """The next whole second (an envelope's event_time is whole seconds), once it has come: an event
    of that time is later than everything the test did before it, the install included."""
    at = int(time.time()) + 1
    time.sleep(max(at - time.time(), 0) + 0.01)
    return at


def org_event(world: World, team: str | None, event: dict[str, Any], *, event_time: int | None = None) -> Response:
    """An event as Slack sends it under an organisation-wide install: its authorization names no
    workspace, and an organisation's own event (an uninstall) no `team_id` at all (`team` None). Its
    time is after everything before it (`a_second_on`) unless given."""
    envelope = {
        **({"team_id": team} if team is not None else {"is_enterprise_install": True}),
        "enterprise_id": GRID.id,
        "api_app_id": "A0TEST",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": a_second_on() if event_time is None else event_time,
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "authorizations": [{"enterprise_id": GRID.id, "team_id": None, "user_id": "UBOT", "is_bot": True,
                            "is_enterprise_install": True}],
        "is_ext_shared_channel": False,
    }  # fmt: skip
    sender = SlackSender(world.wsgi, world.a, settle=world.worker.drain, team_id=team or TEAM_ID)
    return sender.post(json.dumps(envelope), "application/json")


def test_the_organisation_wide_install_is_stored_once_for_the_organisation(
    grid: tuple[World, SlackDouble], db: Database
) -> None:
    with db.snapshot() as session:
        (bot,) = session.scalars(select(SlackBot)).all()
    assert (bot.team_id, bot.enterprise_id, bot.is_enterprise_install) == (None, GRID.id, True)


def test_each_workspace_of_the_organisation_is_served_with_data_of_its_own(
    grid: tuple[World, SlackDouble], db: Database
) -> None:
    world, east = grid
    command(world, TEAM_ID, "Alpha: measure before you tune #perf", user="U1", channel="C1")
    command(world, EAST.id, "East: keep runbooks next to the alerts #ops", user="WE1", channel="CE1")

    assert len(world.a.posts("C1")) == 1 and len(east.posts("CE1")) == 1  # each in its own workspace
    with db.snapshot() as session:
        tips = {tip.team_id: tip for tip in session.scalars(select(Tip))}
        noted = {row.team_id: row.enterprise_id for row in session.scalars(select(EnterpriseWorkspace))}
    assert set(tips) == {TEAM_ID, EAST.id}
    assert noted == {TEAM_ID: GRID.id, EAST.id: GRID.id}  # for the scheduler, which has no request

    ts = east.channels["CE1"].messages[-1]["ts"]  # East's tip post
    org_event(world, EAST.id, {"type": "reaction_added", "user": "WE4", "reaction": "+1", "item_user": "WE1",
                               "item": {"type": "message", "channel": "CE1", "ts": ts}})  # fmt: skip
    with db.snapshot() as session:
        (vote,) = session.scalars(select(TipVote)).all()
    assert (vote.tip_id, vote.user_id) == (tips[EAST.id].id, "WE4")


def test_the_scheduler_posts_in_a_workspace_of_the_organisation_with_its_token(
    grid: tuple[World, SlackDouble], db: Database, clock: FakeClock
) -> None:
    world, east = grid
    clock.now = MONDAY_0730
    command(world, EAST.id, "prompts <#CE1|east-general> mon 09:00 Europe/Berlin", user="WE4", channel="CE1",
            name="/peerlearn")  # fmt: skip
    world.installations.forget_all()  # the scheduler's own process: it finds the organisation by the workspace
    clock.now = MONDAY_0900_BERLIN + timedelta(seconds=5)

    report = world.poster.run_due()

    assert report.posted == 1
    assert len(prompt_posts(east, "CE1")) == 1 and prompt_posts(world.a) == []


def test_someone_of_another_workspace_of_the_organisation_is_served_but_no_admin_here(
    grid: tuple[World, SlackDouble], db: Database
) -> None:
    world, _ = grid
    command(world, TEAM_ID, "From East, in the shared channel #sharing", user="WE4", channel="C1")
    answer = command(world, TEAM_ID, "prompts <#C1|general> mon 09:00", user="WE4", channel="C1", name="/peerlearn")

    with db.snapshot() as session:
        assert [(tip.team_id, tip.author_id) for tip in session.scalars(select(Tip))] == [(TEAM_ID, "WE4")]
        assert session.scalar(select(Schedule.id)) is None  # Eva is East's admin, not A's
    assert "admin" in str(answer.json() or world.a.responses[-1])


def test_an_admin_of_another_workspace_of_the_organisation_deletes_no_tip_here(
    grid: tuple[World, SlackDouble], db: Database
) -> None:
    world, _ = grid
    command(world, TEAM_ID, "A tip written by U1 in A #perf", user="U1", channel="C1")
    with db.snapshot() as session:
        tip_id, number = session.execute(select(Tip.id, Tip.number)).one()

    command(world, TEAM_ID, f"delete {number}", user="WE4", channel="C1")  # Eva: East's admin, in A's #general

    with db.snapshot() as session:
        assert session.scalars(select(Tip.id)).all() == [tip_id]
    assert "only" in str(world.a.responses[-1]).lower()  # told why, not silence


def test_an_admin_of_another_workspace_of_the_organisation_manages_no_circle_here(
    grid: tuple[World, SlackDouble], db: Database
) -> None:
    world, _ = grid
    with db.transaction() as session:
        session.add(
            Circle(
                team_id=TEAM_ID, name="Rust learners", name_key="rust learners", description="", channel_id="C1",
                cadence="weekly", weekday=0, at_time="09:00", zone="UTC", questions=json.dumps(["Stuck on?"]),
                reminder_minutes=240, window_minutes=1440, owner_id="U2", created_at=NOON, updated_at=NOON,
            )
        )  # fmt: skip

    command(world, TEAM_ID, "archive Rust learners", user="WE4", channel="C1", name="/circle")

    with db.snapshot() as session:
        assert session.scalars(select(Circle.archived_at)).one() is None


def test_another_organisation_is_not_served(grid: tuple[World, SlackDouble], db: Database) -> None:
    world, _ = grid
    sender = SlackSender(world.wsgi, world.a, settle=world.worker.drain, team_id="T0ELSE")

    answer = sender.command("Not ours", enterprise_id="E0OTHER", is_enterprise_install="true")

    assert answer.json() == {"response_type": "ephemeral", "text": NOT_INSTALLED}


def test_uninstalling_the_organisation_stops_every_workspace_of_it(
    grid: tuple[World, SlackDouble], db: Database, clock: FakeClock
) -> None:
    world, east = grid
    clock.now = MONDAY_0730
    command(world, EAST.id, "prompts <#CE1|east-general> mon 09:00 Europe/Berlin", user="WE4", channel="CE1",
            name="/peerlearn")  # fmt: skip

    assert world.installations.delete(None, GRID.id) == 1
    clock.now = MONDAY_0900_BERLIN + timedelta(seconds=5)
    world.poster.run_due()

    assert prompt_posts(east, "CE1") == []
    with db.snapshot() as session:
        assert session.scalar(select(Schedule.paused_reason)) == UNINSTALLED
    answer = command(world, TEAM_ID, "After the uninstall", user="U1", channel="C1")
    assert answer.json() == {"response_type": "ephemeral", "text": NOT_INSTALLED}


def paused_by_team(db: Database) -> dict[str, str | None]:
    with db.snapshot() as session:
        return {schedule.team_id: schedule.paused_reason for schedule in session.scalars(select(Schedule))}


@pytest.mark.parametrize("kind", ["app_uninstalled", "tokens_revoked"])
@pytest.mark.parametrize("team", [TEAM_ID, None], ids=["envelope-names-a-workspace", "envelope-names-none"])
def test_the_organisations_uninstall_event_stops_every_workspace_of_it_and_a_reinstall_resumes_them(
    grid: tuple[World, SlackDouble], db: Database, clock: FakeClock, team: str | None, kind: str
) -> None:
    """Slack's app_uninstalled (or tokens_revoked) for an organisation-wide install: the one
    installation that served every workspace of the organisation goes, so every one of them stops,
    not only the workspace the envelope names (if it names one). Installing again resumes them all;
    the same event delivered again after that changes nothing."""
    world, east = grid
    clock.now = MONDAY_0730
    for workspace, user, channel in ((EAST.id, "WE4", "CE1"), (TEAM_ID, "U4", "C1")):
        command(world, workspace, f"prompts <#{channel}|general> mon 09:00 Europe/Berlin", user=user,
                channel=channel, name="/peerlearn")  # fmt: skip
    assert paused_by_team(db) == {EAST.id: None, TEAM_ID: None}
    event = {"type": kind, **({"tokens": {"oauth": [], "bot": ["UBOT"]}} if kind == "tokens_revoked" else {})}

    at = a_second_on()
    assert org_event(world, team, event, event_time=at).status == 200

    assert paused_by_team(db) == {EAST.id: LIFECYCLE_UNINSTALLED, TEAM_ID: LIFECYCLE_UNINSTALLED}
    with db.snapshot() as session:
        assert session.scalars(select(SlackBot)).all() == []
        lifecycles = {row.team_id: row.uninstalled_at for row in session.scalars(select(WorkspaceLifecycle))}
    assert set(lifecycles) == {EAST.id, TEAM_ID}  # no row for a team called "None"
    clock.now = MONDAY_0900_BERLIN + timedelta(seconds=5)
    world.poster.run_due()
    assert prompt_posts(east, "CE1") == [] and prompt_posts(world.a) == []

    time.sleep(max(at + 0.1 - time.time(), 0))  # the reinstall comes after the uninstall
    assert world.install(world.a).status == 200  # organisation-wide again (slack.org_wide)
    assert paused_by_team(db) == {EAST.id: None, TEAM_ID: None}

    org_event(world, team, event, event_time=at)  # Slack delivers the uninstall again, late
    assert paused_by_team(db) == {EAST.id: None, TEAM_ID: None}
    with db.snapshot() as session:
        assert len(session.scalars(select(SlackBot)).all()) == 1
