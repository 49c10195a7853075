"""Engine and sessions. Nothing connects at import time; `Database.connect(url)` does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

_READONLY = "peerlearn_readonly"


class Database:
    """One engine and two ways in: `transaction()` for work that writes, `snapshot()` for reads.

    On SQLite a write transaction starts with BEGIN IMMEDIATE: a deferred transaction that reads
    and then writes can fail at once with "database is locked" when another writer got there first,
    and busy_timeout cannot help it. Reads keep a deferred BEGIN so they never wait on writers (WAL).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(engine.execution_options(**{_READONLY: True}), expire_on_commit=False)

    @classmethod
    def connect(cls, url: str, **engine_options: Any) -> Database:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False}, **engine_options)
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
        else:
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("max_overflow", 20)
            engine = create_engine(url, pool_pre_ping=True, **engine_options)
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction without an ORM session: for hot paths (enqueueing a job on every request)."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def driver_transaction(self) -> Iterator[Any]:
        """A write transaction on the driver's own connection (from the pool), yielding its cursor.

        For the one statement every Slack request makes (enqueueing its job): SQLAlchemy's execution
        layers cost ~75 µs of the ~100 µs that insert takes through them (bench/profile_requests.py).
        """
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if self.dialect == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")  # as _sqlite_on_begin does for writes
            yield cursor
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    def refresh_statistics(self) -> None:
        """Give SQLite's query planner table statistics (PostgreSQL's autovacuum keeps its own).

        Without them SQLite may walk a large index in the wrong order: measured 66 ms instead of
        0.3 ms for a quiet week's best tips over 1M rows. analysis_limit keeps it to a quick sample.
        """
        if self.dialect != "sqlite":
            return
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
            connection.commit()

    def ping(self) -> None:
        with self.snapshot() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from the sqlite3 module so "begin" below decides how to BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    readonly = connection.get_execution_options().get(_READONLY, False)
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
