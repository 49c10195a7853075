"""The job queue's rows: enqueue (once per request, see DriverEnqueuer), claim under a lease
(renewed by the worker's heartbeat, see storage/leases.py), and settle (done, retry later, failed).

Claims work on both backends with one statement: PostgreSQL locks the chosen rows with
FOR UPDATE SKIP LOCKED, so concurrent workers take different jobs without waiting; SQLite ignores
that clause, and its write transactions (BEGIN IMMEDIATE, see storage/db.py) already run one at a
time. Every settle step is a compare-and-set on (id, attempts): a worker whose lease ran out and
whose job was claimed again can no longer settle it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Insert,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Job, RequestKey

_jobs = cast(Table, Job.__table__)
_keys = cast(Table, RequestKey.__table__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class NewJob:
    team_id: str
    listener: str
    mode: str
    content_type: str | None
    body: str
    # Names the request and listener (bot.slack.requests.request_key + ":" + listener): a job whose
    # key was queued before (a replay, an event delivered again) is not queued again. None: unique.
    key: str | None = None


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    team_id: str
    listener: str
    mode: str
    content_type: str | None
    body: str
    attempts: int  # this claim's attempt number, 1 for the first run
    created_at: datetime


def _new_row(job: NewJob, now: datetime) -> dict[str, object]:
    return {
        "team_id": job.team_id,
        "listener": job.listener,
        "mode": job.mode,
        "content_type": job.content_type,
        "body": job.body,
        "state": "queued",
        "attempts": 0,
        "due_at": now,
        "created_at": now,
    }


class _Statement:
    """SQL compiled once for a DBAPI cursor, with each value converted by its column's own type."""

    def __init__(self, statement: Insert, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._positional = compiled.positiontup
        self._convert = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.bind_processor(dialect)) is not None
        }

    def parameters(self, row: dict[str, object]) -> Any:
        values = {name: self._convert[name](value) if name in self._convert else value for name, value in row.items()}
        return [values[name] for name in self._positional] if self._positional else values


class DriverEnqueuer:
    """Enqueue jobs on a DBAPI cursor (Database.driver_transaction), once per request.

    Each job's key goes into request_keys unless it is there already (ON CONFLICT DO NOTHING: the
    database decides, so concurrent replays are safe too), and the job is inserted only where its
    key was stored just now. So a replayed request, or an event Slack delivers again, is acknowledged
    with no second job, and the other requests of its batch are not disturbed. Keys outlive their
    jobs (deleted when done) for minutes. PostgreSQL does both in one statement per job (the key's
    insert as a CTE, the job inserted from what it returned); SQLite, which has no INSERT in a CTE,
    in two per batch, the keys marked with the batch's token and the jobs inserted where it stands.
    """

    def __init__(self, dialect: Dialect) -> None:
        columns = list(_new_row(NewJob("", "", "", None, ""), _EPOCH))
        values = select(*(bindparam(name, type_=_jobs.c[name].type) for name in columns))
        store_key = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(_keys).values(
            {name: bindparam(name) for name in ("key", "batch", "seen_at")}
        )
        store_key = store_key.on_conflict_do_nothing(index_elements=["key"])
        if dialect.name == "postgresql":
            stored = store_key.returning(RequestKey.key).cte("stored")
            self._keys: _Statement | None = None
            self._jobs = _Statement(insert(_jobs).from_select(columns, values.select_from(stored)), dialect)
        else:
            stored_here = exists().where(RequestKey.key == bindparam("key"), RequestKey.batch == bindparam("batch"))
            self._keys = _Statement(store_key, dialect)
            self._jobs = _Statement(insert(_jobs).from_select(columns, values.where(stored_here)), dialect)

    def enqueue_many(self, cursor: Any, batch: list[NewJob], now: datetime) -> int:
        """Queue the jobs of `batch` whose keys are new; the number queued."""
        token = uuid.uuid4().hex
        keyed: dict[str, NewJob] = {}
        for job in batch:
            keyed.setdefault(job.key or f"u:{uuid.uuid4().hex}", job)  # twice in one batch: once
        rows = [{**_new_row(job, now), "key": key, "batch": token, "seen_at": now} for key, job in keyed.items()]
        if self._keys is not None:
            cursor.executemany(self._keys.sql, [self._keys.parameters(row) for row in rows])
        cursor.executemany(self._jobs.sql, [self._jobs.parameters(row) for row in rows])
        return max(int(cursor.rowcount), 0)


# The worker's own statements, built once with their values bound at execution (as storage/upsert.py):
# building them and their cache keys anew for each batch was more than half of the CPU the queue
# takes per job (claim and settle in batches of 8: 175-225 -> 81-90 us a job on SQLite, 302-366 ->
# 159-203 us on PostgreSQL).
def _claim_statement(holding: bool) -> Any:
    due = select(Job.id).where(Job.due_at <= bindparam("now"))
    if holding:  # workspaces the worker holds back for a while (Slack asked it to wait)
        due = due.where(Job.team_id.not_in(bindparam("held", expanding=True)))
    return (
        update(_jobs)
        .where(
            Job.id.in_(
                due.order_by(Job.due_at, Job.id)
                .limit(bindparam("limit"))
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            ),
            Job.due_at <= bindparam("now"),
        )
        .values(state="running", attempts=Job.attempts + 1, due_at=bindparam("until"), holder=bindparam("claimant"))
        .returning(
            Job.id, Job.team_id, Job.listener, Job.mode, Job.content_type, Job.body, Job.attempts, Job.created_at
        )
    )


_CLAIM = _claim_statement(holding=False)
_CLAIM_HOLDING = _claim_statement(holding=True)
_FINISH = (
    delete(_jobs)
    .where(tuple_(Job.id, Job.attempts).in_(bindparam("claims", expanding=True)), Job.state == "running")
    .returning(Job.id)
)


def claim(
    connection: Connection,
    holder: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    held: Collection[str] = (),
) -> list[ClaimedJob]:
    """Take up to `limit` due jobs (queued ones whose time has come, running ones whose lease ran
    out), none of the workspaces `held`."""
    values: dict[str, Any] = {"now": now, "limit": limit, "until": now + lease, "claimant": holder}
    if held:
        values["held"] = sorted(held)
    rows = connection.execute(_CLAIM_HOLDING if held else _CLAIM, values)
    claimed = [ClaimedJob(**row._asdict()) for row in rows]
    return sorted(claimed, key=lambda job: job.id)


def renew(session: Session, holder: str, ids: list[Hashable], until: datetime) -> list[int]:
    """The heartbeat: extend the leases of the running jobs `holder` still holds; the ids renewed."""
    rows = session.execute(
        update(_jobs)
        .where(Job.id.in_(ids), Job.holder == holder, Job.state == "running")
        .values(due_at=until)
        .returning(Job.id)
    )
    return [int(job_id) for job_id in rows.scalars()]


def _mine(job: ClaimedJob) -> tuple[ColumnElement[bool], ...]:
    return (Job.id == job.id, Job.attempts == job.attempts, Job.state == "running")


def finish(connection: Connection, job: ClaimedJob) -> bool:
    """A job that ran: gone from the queue. False if this claim had lost the job (lease expired)."""
    return bool(connection.execute(delete(_jobs).where(*_mine(job))).rowcount)


def finish_many(connection: Connection, done: list[ClaimedJob]) -> set[int]:
    """Jobs that ran, gone from the queue in one statement; the ids finished (each a compare-and-set
    on its claim, as `finish`: a job whose lease ran out and was claimed again is left alone)."""
    if not done:
        return set()
    rows = connection.execute(_FINISH, {"claims": [(job.id, job.attempts) for job in done]})
    return {int(job_id) for job_id in rows.scalars()}


def retry_at(connection: Connection, job: ClaimedJob, when: datetime, error: str) -> bool:
    values = {"state": "queued", "due_at": when, "holder": None, "last_error": error}
    return bool(connection.execute(update(_jobs).where(*_mine(job)).values(**values)).rowcount)


def defer(connection: Connection, job: ClaimedJob, when: datetime, error: str) -> bool:
    """Run it again at `when`, this claim not counted as an attempt (it was turned away, not failed)."""
    values = {"state": "queued", "due_at": when, "holder": None, "last_error": error, "attempts": Job.attempts - 1}
    return bool(connection.execute(update(_jobs).where(*_mine(job)).values(**values)).rowcount)


def any_due(session: Session, now: datetime, held: Collection[str] = ()) -> bool:
    """Whether a job of a workspace not `held` is due."""
    due = select(Job.id).where(Job.due_at <= now)
    if held:
        due = due.where(Job.team_id.not_in(sorted(held)))
    return session.scalar(due.limit(1)) is not None


def fail(connection: Connection, job: ClaimedJob, error: str) -> bool:
    values = {"state": "failed", "due_at": None, "last_error": error}
    return bool(connection.execute(update(_jobs).where(*_mine(job)).values(**values)).rowcount)


def forget_request_key(connection: Connection, key: str) -> bool:
    """Let `key` queue a job again (its job failed for good, and the request is one a person may
    repeat: see JobWorker's `given_back`)."""
    return bool(connection.execute(delete(_keys).where(RequestKey.key == key)).rowcount)


def release(connection: Connection, job: ClaimedJob, now: datetime) -> bool:
    """Give back a job claimed but not run (the worker is stopping): due now, this claim not counted."""
    values = {"state": "queued", "due_at": now, "holder": None, "attempts": Job.attempts - 1}
    return bool(connection.execute(update(_jobs).where(*_mine(job)).values(**values)).rowcount)


def backlog(connection: Connection) -> dict[str, int]:
    """Jobs by state (queued, running, failed)."""
    rows = connection.execute(select(Job.state, func.count()).group_by(Job.state))
    return {str(state): int(count) for state, count in rows}


@dataclass(frozen=True)
class FailedJob:
    id: int
    mode: str
    content_type: str | None
    body: str


def failed_jobs_of(session: Session, team_id: str) -> Iterator[FailedJob]:
    """A workspace's jobs that failed for good (kept for operators), a batch at a time."""
    query = (
        select(Job.id, Job.mode, Job.content_type, Job.body)
        .where(Job.team_id == team_id, Job.state == "failed")
        .order_by(Job.id)
        .execution_options(yield_per=100)
    )
    for job_id, mode, content_type, body in session.execute(query):
        yield FailedJob(int(job_id), str(mode), content_type, str(body))


def forget_failed(session: Session, team_id: str, ids: list[int]) -> int:
    """Delete these failed jobs of the workspace (never a queued or running one)."""
    forgotten = 0
    for start in range(0, len(ids), 500):  # under every backend's bound-parameter limit
        chunk = ids[start : start + 500]
        result = session.execute(delete(_jobs).where(Job.team_id == team_id, Job.state == "failed", Job.id.in_(chunk)))
        forgotten += int(result.rowcount)  # type: ignore[attr-defined]
    return forgotten


def forget_failed_before(session: Session, cutoff: datetime) -> int:
    result = session.execute(delete(_jobs).where(Job.state == "failed", Job.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


def forget_request_keys_before(session: Session, cutoff: datetime) -> int:
    result = session.execute(delete(_keys).where(RequestKey.seen_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
