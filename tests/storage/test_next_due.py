"""runtime.scheduler.next_due: the first moment a tick has work, read from schedules, circles and rounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from runtime.scheduler import next_due
from storage import circles as circle_queries
from storage import schedules as schedule_queries
from storage.db import Database

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday


def test_nothing_scheduled_means_no_next_moment(db: Database) -> None:
    assert next_due(db, MONDAY_9) is None


def test_the_earliest_of_schedules_circles_and_open_rounds(db: Database) -> None:
    now = MONDAY_9 - timedelta(days=1)  # Sunday
    with db.transaction() as session:
        schedule_queries.save_schedule(
            session, "T1", "C1", "digest", now=now, cadence="weekly", weekday=4, at_time="16:00", zone="UTC",
            configured_by="U1",
        )  # fmt: skip
        circle_queries.add_circle(
            session, team_id="T1", name="Readers", name_key="readers", channel_id="C2", cadence="weekly", weekday=0,
            at_time="09:00", zone="UTC", questions=json.dumps(["What did you learn?"]), reminder_minutes=240,
            window_minutes=1440, owner_id="U1",
        )  # fmt: skip
    assert next_due(db, now) == MONDAY_9  # the circle's Monday beats the Friday digest
    assert next_due(db, MONDAY_9) == MONDAY_9 + timedelta(days=4, hours=7)  # then Friday 16:00

    with db.transaction() as session:
        circle = circle_queries.circle_named(session, "T1", "readers")
        assert circle is not None
        opened = circle_queries.open_round(
            session, team_id="T1", circle_id=circle.id, period="2026-11-30", due_at=MONDAY_9,
            remind_at=MONDAY_9 + timedelta(hours=4), closes_at=MONDAY_9 + timedelta(hours=24), channel_id="C2",
            lease_until=MONDAY_9,
        )  # fmt: skip
        assert opened is not None
        circle_queries.advance_round(session, opened.id, "opening", "open")
    assert next_due(db, MONDAY_9) == MONDAY_9 + timedelta(hours=4)  # the reminder
    assert next_due(db, MONDAY_9 + timedelta(hours=4)) == MONDAY_9 + timedelta(hours=24)  # the close


def test_paused_schedules_and_circles_are_not_due(db: Database) -> None:
    now = MONDAY_9
    with db.transaction() as session:
        schedule = schedule_queries.save_schedule(
            session, "T1", "C1", "prompt", now=now, cadence="daily", at_time="10:00", zone="UTC", configured_by="U1"
        )
        schedule_queries.pause_schedule(session, schedule.id, "channel_not_found")
    assert next_due(db, now) is None
