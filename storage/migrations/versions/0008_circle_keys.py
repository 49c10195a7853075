"""Circles remember the request that created them and their announcement in the channel.

A rerun of the creating job (a worker died, a retry) finds its circle by `created_key` instead of
meeting its own name, and announces it once (`announce_ts`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("circles", sa.Column("created_key", sa.String(64)))
    op.add_column("circles", sa.Column("announce_ts", sa.String(32)))
    op.create_index("uq_circles_created_key", "circles", ["team_id", "created_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_circles_created_key", "circles")
    with op.batch_alter_table("circles") as batch:
        batch.drop_column("announce_ts")
        batch.drop_column("created_key")
