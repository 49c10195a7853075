"""INSERT … ON CONFLICT DO NOTHING for both backends: the primitive behind every "exactly once"."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def insert_if_absent(
    session: Session | Connection, model: type[DeclarativeBase], values: dict[str, Any], conflict_columns: list[str]
) -> Any | None:
    """Insert a row unless one with the same `conflict_columns` exists.

    Returns the new row's primary key (the first key column), or None when the row was already there.
    Concurrent callers are safe: the database, not a prior SELECT, decides who wins.
    """
    table = model.__table__
    assert isinstance(table, Table)
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    statement = _statement(dialect.name, table, tuple(sorted(values)), tuple(conflict_columns))
    return session.execute(statement, values).scalar_one_or_none()


@cache
def _statement(dialect: str, table: Table, columns: tuple[str, ...], conflict_columns: tuple[str, ...]) -> Insert:
    # Built once per shape, its values bound at execution: building the statement and its cache key
    # anew each time cost ~120 of its ~170 µs (a vote makes three: bench/worker.py, profiled).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key_column = next(iter(table.primary_key.columns))
    statement = insert(table).values({name: bindparam(name) for name in columns})
    return statement.on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(key_column)


def increment(session: Session | Connection, model: type[DeclarativeBase], key: dict[str, Any], column: str) -> int:
    """Add one to `column` of the row named by `key` (made at 1 when absent) and return its new value.

    One statement, INSERT … ON CONFLICT DO UPDATE … RETURNING: on PostgreSQL the row stays locked
    until the caller's transaction ends, so concurrent callers each get a value of their own, in
    turn (read committed re-reads the row a waiting caller then updates); SQLite has one writer at a time.
    """
    table = model.__table__
    assert isinstance(table, Table)
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    statement = _increment(dialect.name, table, tuple(sorted(key)), column)
    return int(session.execute(statement, key).scalar_one())


@cache
def _increment(dialect: str, table: Table, key_columns: tuple[str, ...], column: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values({name: bindparam(name) for name in key_columns} | {column: 1})
    counted = statement.on_conflict_do_update(index_elements=list(key_columns), set_={column: table.c[column] + 1})
    return counted.returning(table.c[column])
