"""Tips remember the Slack request that made them, and deletions the request that made them.

A job may run twice (its worker died, a lease ran out, a retry fired): a rerun finds the tip its
request made, or the deletion, instead of making a second one (issue #9 §1).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, so tips made before this revision keep no key; NULLs never collide in a unique index.
    op.add_column("tips", sa.Column("request_key", sa.String(64)))
    op.create_index("uq_tips_request", "tips", ["team_id", "request_key"], unique=True)
    op.create_table(
        "tip_deletions",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("request_key", sa.String(64), primary_key=True),
        sa.Column("tip_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("deleted_by", sa.String(32), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tip_deletions")
    op.drop_index("uq_tips_request", "tips")
    op.drop_column("tips", "request_key")
