"""Bring the schema up to date with Alembic; called at every startup."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

_MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: it names the lock that keeps two instances from migrating at once.
_MIGRATION_LOCK_KEY = 7_231_001
# Queue files made before the queue had migrations of its own hold revision 0005's table, unstamped.
_UNSTAMPED_QUEUE = "0005"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def upgrade_queue(engine: Engine) -> None:
    """Bring a job queue kept in a database of its own (storage/db.py `Database.queue`) up to date.

    The same migrations as the main database, so each table has one definition: every revision's
    `upgrade_queue()` (the part that shapes the queue) runs here, in order, and the file keeps its
    own alembic_version. One transaction (on SQLite a write lock), so processes starting together
    take turns and the second finds nothing to do.
    """
    script = ScriptDirectory.from_config(alembic_config())
    with engine.begin() as connection:
        context = MigrationContext.configure(connection)
        current = context.get_current_revision() or _unstamped_revision(connection)
        for revision in reversed(list(script.iterate_revisions("heads", current))):
            queue_part = getattr(revision.module, "upgrade_queue", None)
            if queue_part is not None:
                with Operations.context(context):
                    queue_part()
        context.stamp(script, "heads")


def _unstamped_revision(connection: Connection) -> str | None:
    return _UNSTAMPED_QUEUE if inspect(connection).has_table("jobs") else None
