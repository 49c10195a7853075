"""The migrated schema is the models' schema, on both databases, and the job queue's own SQLite file
gets its tables from the same migrations (not from a second definition that could drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect, text

from storage.db import Database
from storage.migrate import upgrade_queue
from storage.models import Base, Job, RequestKey

# Full-text search lives beside the models on purpose: SQLite's FTS5 table (and the shadow tables
# it makes) and the index its ranking query names, PostgreSQL's tsvector table kept by a trigger
# and its GIN index (migrations 0001 and 0019).
_SEARCH_TABLES = ("tips_fts", "tips_search")
_SEARCH_INDEXES = {"ix_tips_search_rank", "ix_tips_search_vector"}


def _not_search(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table":
        return not (name or "").startswith(_SEARCH_TABLES)
    if type_ == "index":
        return name not in _SEARCH_INDEXES
    return True


def differences(connection: Any, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True, "include_object": _not_search}
    )
    return list(compare_metadata(context, metadata))


def test_the_migrated_schema_is_the_models_schema(migrated_db: Database) -> None:
    with migrated_db.engine.connect() as connection:
        assert differences(connection, Base.metadata) == []


def queue_metadata() -> MetaData:
    metadata = MetaData()
    for model in (Job, RequestKey):
        model.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    return metadata


def test_the_queue_file_gets_the_queue_tables_from_the_migrations(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'app.db'}")
    queue = db.queue  # made on first use

    with queue.engine.connect() as connection:
        assert differences(connection, queue_metadata()) == []
        assert set(inspect(connection).get_table_names()) == {"alembic_version", "jobs", "request_keys"}
    db.dispose()


def test_a_queue_file_made_before_it_had_migrations_is_brought_up_to_date(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old-jobs.db'}")
    old = MetaData()
    Job.__table__.to_metadata(old)  # type: ignore[attr-defined]
    old.create_all(engine)  # as create_queue_table made it, without a version
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO jobs (team_id, listener, mode, body, state, attempts, created_at)"
                                " VALUES ('T1', 'work', 'http', 'x=1', 'queued', 0, '2026-01-01')"))  # fmt: skip

    upgrade_queue(engine)
    upgrade_queue(engine)  # a second process starting finds nothing to do

    with engine.connect() as connection:
        assert differences(connection, queue_metadata()) == []
        assert connection.execute(text("SELECT count(*) FROM jobs")).scalar() == 1
    engine.dispose()
