"""One bad circle, round or member never stops the others: corrupt rows and failures next to a healthy circle."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.circles import views
from bot.circles.rounds import CircleRunner
from bot.slack.conversations import ChannelReaders
from bot.slack.gateway import SlackGateway
from storage import circles as queries
from storage.db import Database
from storage.models import Circle, CircleRound, RoundState
from tests.conftest import FakeClock
from tests.slack_double import TEAM_ID, SlackDouble
from tests.storage.test_circle_rounds_once import DUE, runners

CORRUPT = {
    "absurd window": {"window_minutes": 2_000_000_000},  # timedelta overflows; fits PostgreSQL's INTEGER
    "unknown zone": {"zone": "Mars/Olympus"},
    "weekday 9": {"cadence": "weekly", "weekday": 9},
    "hourly": {"cadence": "hourly"},
    "unreadable questions": {"questions": "{not json"},
}


def add_circle(db: Database, name: str, channel: str, owner: str, members: list[str], **raw: Any) -> int:
    """A circle row written as is, bypassing the form's bounds (as an old row or a hand edit would be)."""
    values: dict[str, Any] = {
        "team_id": TEAM_ID, "name": name, "name_key": name.lower(), "description": "", "channel_id": channel,
        "cadence": "daily", "weekday": None, "at_time": "09:00", "zone": "UTC", "anchor": None,
        "questions": json.dumps(["Learned?", "Stuck on?"]), "reminder_minutes": 60, "window_minutes": 120,
        "owner_id": owner, "created_at": DUE - timedelta(days=1), "updated_at": DUE - timedelta(days=1),
    } | raw  # fmt: skip
    with db.transaction() as session:
        circle = queries.add_circle(session, **values)
        for user in members:
            queries.add_member(session, circle, user)
        return circle.id


def circle(db: Database, circle_id: int) -> Circle:
    with db.snapshot() as session:
        found = session.get(Circle, circle_id)
        assert found is not None
        return found


def rounds_of(db: Database, circle_id: int) -> list[CircleRound]:
    with db.snapshot() as session:
        return list(session.scalars(select(CircleRound).where(CircleRound.circle_id == circle_id)))


@pytest.fixture
def people(slack: SlackDouble) -> list[str]:
    users = [f"U{n:03d}" for n in range(8)]
    for user in users:
        slack.add_user(user, user.lower())
    return users


def test_corrupt_circles_are_paused_and_their_owners_told_while_a_healthy_one_runs(
    db: Database, slack: SlackDouble, people: list[str]
) -> None:
    healthy = add_circle(db, "Healthy", "C1", "U000", people[:3])
    broken = {
        kind: add_circle(db, f"Broken {kind}", "C1", people[3 + i % 5], people[3:], **raw)
        for i, (kind, raw) in enumerate(CORRUPT.items())
    }
    clock = FakeClock(DUE)
    [runner] = runners(db, slack, clock, 1)

    assert runner.run_due().opened == 1
    clock.advance(minutes=61)
    assert runner.run_due().reminded == 1
    clock.advance(minutes=60)
    assert runner.run_due().closed == 1
    runner.run_due()  # a later tick tells nobody again

    assert [r.status for r in rounds_of(db, healthy)] == [RoundState.CLOSED]
    summaries = [m for m in slack.channels["C1"].messages if "Check-in closed" in m["text"]]
    assert len(summaries) == 1
    for kind, circle_id in broken.items():
        assert circle(db, circle_id).paused_reason == "settings need fixing", kind
        assert rounds_of(db, circle_id) == [], kind
    told = [p["text"] for p in slack.posts() if "I paused the circle" in p["text"]]
    assert len(told) == len(CORRUPT)
    assert any("an unknown time zone `Mars/Olympus`" in text for text in told)
    assert all("`/circle edit" in text for text in told)

    readers = ChannelReaders(runner.slack)  # all in C1, public
    listed = views.listing(db, readers, TEAM_ID, "U000", clock())  # the team's list still reads, broken rows shown

    assert len(listed) == 1 + len(CORRUPT)
    assert [text for c, _, text in listed if c.id == broken["unknown zone"]] == ["paused (settings need fixing)"]


def test_a_failure_in_one_circle_pauses_it_and_the_others_open(
    db: Database, slack: SlackDouble, people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.add_channel("CBAD", "bad", members=tuple(people))
    failing = add_circle(db, "Failing", "CBAD", "U001", people[:2])
    healthy = add_circle(db, "Healthy", "C1", "U000", people[:3])
    [runner] = runners(db, slack, FakeClock(DUE), 1)
    post = SlackGateway.post

    def post_failing_in_bad(self: SlackGateway, channel: str, *args: Any, **kwargs: Any) -> Any:
        if channel == "CBAD":
            raise RuntimeError("a bug met by one circle only")
        return post(self, channel, *args, **kwargs)

    monkeypatch.setattr(SlackGateway, "post", post_failing_in_bad)

    assert runner.run_due().opened == 1

    assert [r.status for r in rounds_of(db, healthy)] == [RoundState.OPEN]
    assert [r.status for r in rounds_of(db, failing)] == [RoundState.CLOSED]  # abandoned: never retried in a loop
    assert circle(db, failing).paused_reason == "check-in failed"
    [told] = [p["text"] for p in slack.posts("U001") if "I paused" in p["text"]]
    assert "could not open (`RuntimeError`)" in told


def test_a_member_whose_dm_fails_is_skipped_not_the_round(
    db: Database, slack: SlackDouble, people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy = add_circle(db, "Healthy", "C1", "U000", people[:4])
    [runner] = runners(db, slack, FakeClock(DUE), 1)
    post = SlackGateway.post

    def post_failing_for_one(self: SlackGateway, channel: str, *args: Any, **kwargs: Any) -> Any:
        if channel == "U002":
            raise RuntimeError("one person's DM breaks")
        return post(self, channel, *args, **kwargs)

    monkeypatch.setattr(SlackGateway, "post", post_failing_for_one)

    runner.run_due()

    [round_] = rounds_of(db, healthy)
    assert round_.status == RoundState.OPEN and circle(db, healthy).paused_reason is None
    invited = sorted(p["channel"] for p in slack.posts() if "circle_checkin" in str(p.get("blocks")))
    assert invited == ["U000", "U001", "U003"]


def test_an_unreadable_answer_leaves_the_summary_to_the_others(
    db: Database, slack: SlackDouble, people: list[str]
) -> None:
    healthy = add_circle(db, "Healthy", "C1", "U000", people[:3])
    clock = FakeClock(DUE)
    [runner] = runners(db, slack, clock, 1)
    runner.run_due()
    [round_] = rounds_of(db, healthy)
    with db.transaction() as session:
        for user, stored in (("U000", "{broken"), ("U001", json.dumps(["Go", "Generics"]))):
            participant = queries.participant(session, round_.id, user)
            assert participant is not None
            participant.answers = stored
    clock.advance(minutes=121)

    assert runner.run_due().closed == 1

    summary = slack.channels["C1"].messages[-1]
    assert "<@U001>: Generics" in str(summary["blocks"]) and circle(db, healthy).paused_reason is None


def test_runner_is_built_the_same_way_as_in_production(circle_runner: CircleRunner) -> None:
    assert circle_runner.failures.db is circle_runner.db
