"""INSERT … ON CONFLICT DO NOTHING for both backends: the primitive behind every "exactly once"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def insert_if_absent(
    session: Session, model: type[DeclarativeBase], values: dict[str, Any], conflict_columns: list[str]
) -> Any | None:
    """Insert a row unless one with the same `conflict_columns` exists.

    Returns the new row's primary key (the first key column), or None when the row was already there.
    Concurrent callers are safe: the database, not a prior SELECT, decides who wins.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    assert isinstance(table, Table)
    key_column = next(iter(table.primary_key.columns))
    statement = (
        insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict_columns).returning(key_column)
    )
    return session.execute(statement).scalar_one_or_none()
