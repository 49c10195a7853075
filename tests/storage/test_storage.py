"""Storage behaviour that must hold on SQLite and PostgreSQL alike (run the suite with both)."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy import event, inspect, select, text

from bot.tips import rules as tips
from storage import events
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import ProcessedEvent, Tip
from tests.storage.old_rows import downgraded, old_tip

TEAM = "T0TEST"


def new_tip(db: Database, text: str = "tip", **values: object) -> Tip:
    with db.transaction() as session:
        draft = tips.draft_tip(text)
        tip = tips.share_tip(
            session, team_id=TEAM, author_id="UAUTHOR", draft=draft, source="command", origin_channel_id="C1"
        )
        for key, value in values.items():
            setattr(tip, key, value)
        return tip


def test_concurrent_votes_are_all_counted_exactly(db: Database) -> None:
    tip = new_tip(db)

    def vote(user: str) -> None:
        with db.transaction() as session:
            tips.add_reaction(session, tip, user, "+1")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(vote, [f"U{n % 20}" for n in range(80)]))  # each of 20 people, four times

    with db.snapshot() as session:
        assert session.get(Tip, tip.id).helpful_count == 20


def test_concurrent_captures_of_one_message_make_one_tip(db: Database) -> None:
    draft = tips.draft_tip("captured once")

    def capture(user: str) -> bool:
        with db.transaction() as session:
            result = tips.capture_message(
                session, team_id=TEAM, channel_id="C1", message_ts="1.000001", author_id="UAUTHOR",
                saved_by_id=user, draft=draft, source="reaction", permalink=None,
            )  # fmt: skip
            return result.created

    with ThreadPoolExecutor(6) as pool:
        created = list(pool.map(capture, [f"U{n}" for n in range(12)]))

    assert created.count(True) == 1
    with db.snapshot() as session:
        assert len(session.scalars(select(Tip)).all()) == 1


def test_an_event_is_claimed_once_even_concurrently(db: Database) -> None:
    def claim(_: int) -> bool:
        with db.transaction() as session:
            return events.claim_event(session, TEAM, "Ev42")

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(claim, range(12))) == [False] * 11 + [True]


def test_old_processed_events_are_forgotten(db: Database) -> None:
    with db.transaction() as session:
        events.claim_event(session, TEAM, "EvNEW")
        session.add(ProcessedEvent(team_id=TEAM, event_id="EvOLD", received_at=datetime.now(UTC) - timedelta(days=8)))
    with db.transaction() as session:
        assert events.forget_events_before(session, datetime.now(UTC) - timedelta(days=7)) == 1
        assert session.scalars(select(ProcessedEvent.event_id)).all() == ["EvNEW"]


def test_full_text_search_stems_and_matches_tags(db: Database) -> None:
    new_tip(db, "Caching dependencies makes builds faster #ci")
    new_tip(db, "Write smaller pull requests")

    with db.snapshot() as session:
        assert [t.text for t in tips.search(session, TEAM, "cached build")] == [
            "Caching dependencies makes builds faster #ci"
        ]
        assert len(tips.search(session, TEAM, "ci")) == 1
        assert tips.search(session, TEAM, "***") == []
        assert tips.search(session, "T0OTHER", "caching") == []


def test_search_index_follows_edits_and_deletes(db: Database) -> None:
    tip = new_tip(db, "original wording")
    with db.transaction() as session:
        session.get(Tip, tip.id).text = "rewritten wording"
    with db.snapshot() as session:
        assert tips.search(session, TEAM, "original") == []
        assert len(tips.search(session, TEAM, "rewritten")) == 1
    with db.transaction() as session:
        tips.delete(session, TEAM, tip.number, actor_id="UAUTHOR", actor_is_admin=False)
    with db.snapshot() as session:
        assert tips.search(session, TEAM, "rewritten") == []


def test_search_follows_votes_and_tag_edits(db: Database) -> None:
    """PostgreSQL ranks from a copy of each tip's words and votes kept by a trigger (migration 0019)."""
    first = new_tip(db, "Quarantine a flaky test at once")
    second = new_tip(db, "Quarantine the flaky test at once")
    with db.snapshot() as session:
        assert [t.id for t in tips.search(session, TEAM, "flaky quarantine")] == [second.id, first.id]  # newest
    with db.transaction() as session:
        tips.add_reaction(session, session.get(Tip, first.id), "UVOTER", "+1")
    with db.snapshot() as session:
        assert [t.id for t in tips.search(session, TEAM, "flaky quarantine")] == [first.id, second.id]
    with db.transaction() as session:
        tips.remove_reaction(session, session.get(Tip, first.id), "UVOTER", "+1")
    with db.snapshot() as session:
        assert [t.id for t in tips.search(session, TEAM, "flaky quarantine")] == [second.id, first.id]
    with db.transaction() as session:
        session.get(Tip, first.id).tags = "ci"
    with db.snapshot() as session:
        assert [t.id for t in tips.search(session, TEAM, "ci")] == [first.id]


def test_timestamps_come_back_aware_utc(db: Database) -> None:
    tip = new_tip(db)
    with db.snapshot() as session:
        created = session.get(Tip, tip.id).created_at
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)


def test_migrations_run_down_and_up_again(database_url: str) -> None:
    scratch = Database.connect(database_url)
    try:
        from alembic import command

        with scratch.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            assert "tips" not in inspect(connection).get_table_names()
        upgrade(scratch.engine)
        assert {"tips", "tip_votes", "tip_reactions", "processed_events"} <= set(
            inspect(scratch.engine).get_table_names()
        )
        upgrade(scratch.engine)  # idempotent at head
    finally:
        scratch.dispose()


def test_tips_stored_before_migration_0019_stay_searchable(db: Database) -> None:
    with downgraded(db, "0013"):
        old_tip(db, TEAM, "Pin the base image by digest #docker", helpful_count=3)
        old_tip(db, TEAM, "Docker layers cache what did not change")
    with db.snapshot() as session:
        assert [t.text for t in tips.search(session, TEAM, "docker")] == [
            "Pin the base image by digest #docker",
            "Docker layers cache what did not change",
        ]
    new_tip(db, "docker compose up --wait waits for health checks")
    with db.snapshot() as session:
        assert len(tips.search(session, TEAM, "docker")) == 3


def test_a_process_connecting_while_another_migrates_a_fresh_sqlite_file_waits(tmp_path: Path) -> None:
    """Two roles starting together on a new file: one holds the write lock migrating, the other's
    switch to WAL must wait for it instead of failing with "database is locked"."""
    path = tmp_path / "fresh.db"
    migrating = sqlite3.connect(path, isolation_level=None)  # a rollback-journal file, as new files are
    migrating.execute("BEGIN IMMEDIATE")
    migrating.execute("CREATE TABLE first_migration (id INTEGER)")
    outcome: list[object] = []

    def connect() -> None:
        try:
            db = Database.connect(f"sqlite:///{path}")
            with db.engine.connect() as connection:
                outcome.append(connection.exec_driver_sql("PRAGMA journal_mode").scalar())
            db.dispose()
        except Exception as error:
            outcome.append(error)

    second = threading.Thread(target=connect)
    second.start()
    time.sleep(0.3)
    migrating.execute("COMMIT")
    migrating.close()
    second.join(timeout=10)
    assert outcome == ["wal"]


def test_a_database_for_n_threads_keeps_a_connection_open_for_each(database_url: str) -> None:
    """A job worker's threads each hold a connection for as long as a job's transaction lasts; a
    pool smaller than that closed the extra ones on return and opened new ones for the next jobs."""
    threads = 12
    scratch = Database.connect(database_url, threads=threads)
    opened: list[object] = []
    event.listen(scratch.engine, "connect", lambda *_: opened.append(1))
    everyone_in = threading.Barrier(threads)

    def job(_: int) -> None:
        with scratch.snapshot() as session:
            session.execute(text("SELECT 1"))
            everyone_in.wait(timeout=10)  # all of them hold a connection at once

    try:
        for _ in range(3):
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(job, range(threads)))
        assert len(opened) == threads  # the first round's, kept for the next ones
    finally:
        scratch.dispose()


def test_an_in_memory_database_for_n_threads_keeps_its_one_connection() -> None:
    scratch = Database.connect("sqlite://", threads=8)
    with scratch.transaction() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
    scratch.dispose()


def test_a_write_transaction_that_cannot_begin_raises_sqlalchemys_error(tmp_path: Path) -> None:
    """BEGIN goes to the driver directly (a fast path), outside SQLAlchemy's error wrapping: its
    failures must still be SQLAlchemy's OperationalError, which the job worker and the retry rules
    treat as passing (a plain sqlite3 error escaped the worker's loop)."""
    path = tmp_path / "locked.db"
    db = Database.connect(f"sqlite:///{path}")
    event.listen(db.engine, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout=50"))
    with db.transaction() as session:  # the file in WAL mode, as the app keeps it
        session.execute(text("CREATE TABLE t (id INTEGER)"))
    db.engine.dispose()
    other = sqlite3.connect(path, isolation_level=None)  # another program writing the file
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError, match="locked"), db.transaction() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        other.execute("ROLLBACK")
        other.close()
        db.dispose()
