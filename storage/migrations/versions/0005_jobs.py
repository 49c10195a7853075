"""The job queue: work left for after an ack, run by job worker processes.

On SQLite the queue lives in a file of its own beside the database (storage/db.py `Database.queue`),
which gets its tables from `upgrade_queue` (storage/migrate.py `upgrade_queue`), so this one stays empty.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_queue()


def upgrade_queue() -> None:
    """The part of this revision that shapes the job queue (also run in the queue's own SQLite file)."""
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("listener", sa.String(128), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(128)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("holder", sa.String(128)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_jobs_due", "jobs", ["due_at", "id"])
    op.create_index("ix_jobs_team_state", "jobs", ["team_id", "state"])


def downgrade() -> None:
    op.drop_table("jobs")
