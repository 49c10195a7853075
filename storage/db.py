"""Engine and sessions. Nothing connects at import time; `Database.connect(url)` does."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from storage.migrate import upgrade_queue

_READONLY = "peerlearn_readonly"
_WAL_SWITCH_PATIENCE = 30.0  # seconds; a fresh file's migrations take well under one


class _WriterTurns:
    """SQLite writers, in every process, take turns through OS file locks; requests go first.

    Without it, a writer that finds the database locked polls: SQLite's busy handler sleeps 1, 2, 5,
    10, 15, 20, 25 ms… between tries, and a process that writes often (the job worker, 32 threads)
    wins nearly every race against one that writes once per request (the web side enqueueing its
    job). Measured at 200 req/s: acks p99 330 ms, p95 105 ms, the web worker 18% busy. A blocked
    flock() instead wakes as soon as the lock is free.

    Under full load the job worker still held the turn 88% of the time (its transactions are ORM
    work, ~1.6 ms each), so an urgent writer (enqueueing the job of a request waiting for its ack)
    also holds a shared lock on a second file while it waits and writes, and other writers pass an
    exclusive lock on that file first: they wait while a request does.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._threads = threading.Lock()  # flock() is per open file: threads of one process queue here
        self._files: dict[str, int] = {}
        self._pid = 0

    @contextmanager
    def turn(self, *, urgent: bool) -> Iterator[None]:
        gate = self._file("-urgent.lock")
        fcntl.flock(gate, fcntl.LOCK_SH if urgent else fcntl.LOCK_EX)
        if not urgent:
            fcntl.flock(gate, fcntl.LOCK_UN)  # no urgent writer waiting: go on
        try:
            with self._threads:
                fd = self._file("-writers.lock")
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            if urgent:
                fcntl.flock(gate, fcntl.LOCK_UN)

    def _file(self, suffix: str) -> int:
        if self._pid != os.getpid():  # a forked child opens its own: shared files would share the locks
            self._files, self._pid = {}, os.getpid()
        if suffix not in self._files:
            self._files[suffix] = os.open(self.path + suffix, os.O_RDWR | os.O_CREAT, 0o600)
        return self._files[suffix]


class Database:
    """One engine and two ways in: `transaction()` for work that writes, `snapshot()` for reads.

    On SQLite a write transaction starts with BEGIN IMMEDIATE: a deferred transaction that reads
    and then writes can fail at once with "database is locked" when another writer got there first,
    and busy_timeout cannot help it. Reads keep a deferred BEGIN so they never wait on writers (WAL).
    Writers take turns through `_WriterTurns` first, so they rarely meet SQLite's own lock at all.
    """

    def __init__(self, engine: Engine, queue_engine: Engine | None = None) -> None:
        self.engine = engine
        self._queue_engine = queue_engine
        self._queue: Database | None = None
        self._queue_lock = threading.Lock()
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._read_engine = engine.execution_options(**{_READONLY: True})
        self._reader = sessionmaker(self._read_engine, expire_on_commit=False)
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        self._turns = _WriterTurns(path) if path and path != ":memory:" else None

    def _writer_turn(self, *, urgent: bool = False) -> AbstractContextManager[None]:
        return self._turns.turn(urgent=urgent) if self._turns is not None else nullcontext()

    @classmethod
    def connect(cls, url: str, *, threads: int | None = None, **engine_options: Any) -> Database:
        """An engine for `url`. `threads`: how many threads use it at once (a job worker's); its pool
        then keeps a connection open for each of them, and for the worker's own loop and heartbeat.

        Otherwise the pool keeps 10 (PostgreSQL) or 5 (SQLite) and closes any other on its return:
        a 32-thread worker on PostgreSQL opened 322 connections (a backend each) while it drained
        1,500 votes, a new one every fifth job.
        """
        if threads is not None:
            engine_options.setdefault("pool_size", threads + 2)
            engine_options.setdefault("max_overflow", 10)
        if url.startswith("sqlite"):
            if threads is not None and _in_memory(url):  # one connection, shared (StaticPool/SingletonThreadPool)
                engine_options.pop("pool_size"), engine_options.pop("max_overflow")
            engine = _sqlite_engine(url, engine_options)
            path = engine.url.database
            if not path or path == ":memory:":
                return cls(engine)
            queue = Path(path).with_name(Path(path).stem + "-jobs" + Path(path).suffix)
            return cls(engine, _sqlite_engine(str(engine.url.set(database=str(queue))), engine_options))
        engine_options.setdefault("pool_size", 10)
        engine_options.setdefault("max_overflow", 20)
        return cls(create_engine(url, pool_pre_ping=True, **engine_options))

    @property
    def queue(self) -> Database:
        """Where the job queue lives: this database, but for a SQLite file a file of its own.

        SQLite has one write lock per file, and the job worker's transactions held it 88% of the time
        under full load (bench/http_load.py), so each request's enqueue waited behind them: 0.45x the
        bare app's throughput, 0.71x with the worker stopped. In its own file, an enqueue only meets
        the worker's claims and completions. Its tables are made here, on first use, by the same
        migrations as the main database's (storage/migrate.py `upgrade_queue`).
        """
        if self._queue_engine is None:
            return self
        with self._queue_lock:
            if self._queue is None:
                upgrade_queue(self._queue_engine)
                self._queue = Database(self._queue_engine)
        return self._queue

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._writer_turn(), self._writer.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction without an ORM session: for hot paths (enqueueing a job on every request)."""
        with self._writer_turn(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def driver_transaction(self) -> Iterator[Any]:
        """A write transaction on the driver's own connection (from the pool), yielding its cursor.

        For the one statement every Slack request makes (enqueueing its job): SQLAlchemy's execution
        layers cost ~75 µs of the ~100 µs that insert takes through them (bench/profile_requests.py).
        A request waits for its ack meanwhile, so on SQLite this write goes before the others.
        """
        with self._writer_turn(urgent=True), self._driver_connection() as cursor:
            yield cursor

    @contextmanager
    def _driver_connection(self) -> Iterator[Any]:
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

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read without an ORM session, for the reads an ack makes on every message (is this a
        questions channel, a prompt's thread?): a third of what a session costs around one row."""
        with self._read_engine.connect() as connection:
            yield connection

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
        if self._queue_engine is not None:
            self._queue_engine.dispose()


def _in_memory(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:"


def _sqlite_engine(url: str, engine_options: dict[str, Any]) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False}, **engine_options)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from the sqlite3 module so "begin" below decides how to BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch a file to WAL (once; it stays so). The switch needs an exclusive lock, and while another
    process holds a write lock (migrating a fresh file, as two roles starting together do) SQLite
    refuses at once without waiting, to avoid a deadlock. So wait for that writer here."""
    deadline = time.monotonic() + _WAL_SWITCH_PATIENCE
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(connection: Any) -> None:
    readonly = connection.get_execution_options().get(_READONLY, False)
    # On the driver's connection: through SQLAlchemy's execution layers this cost more than most
    # of the statements it precedes (a scheduled post makes three transactions: bench/workspaces.py).
    statement = "BEGIN" if readonly else "BEGIN IMMEDIATE"
    try:
        connection.connection.driver_connection.execute(statement)
    except sqlite3.Error as error:
        # SQLAlchemy runs this hook outside its own error wrapping: wrap as it would (e.g. "database
        # is locked" → sqlalchemy.exc.OperationalError), which the job worker and the retry rules
        # know as a passing failure.
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
