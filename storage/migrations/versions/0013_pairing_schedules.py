"""Pairing rounds on a schedule: the round's mode, group size and no-repeat window (issue #10),
and who asked for a post made right away (told what came of it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("schedules", sa.Column("pairing_mode", sa.String(16), nullable=True))
    op.add_column("schedules", sa.Column("pairing_size", sa.Integer(), nullable=True))
    op.add_column("schedules", sa.Column("pairing_window", sa.Integer(), nullable=True))
    op.add_column("scheduled_posts", sa.Column("requested_by", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("scheduled_posts", "requested_by")
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("pairing_window")
        batch.drop_column("pairing_size")
        batch.drop_column("pairing_mode")
