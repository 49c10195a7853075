"""People's data (issue #12): files sent to people under their request, forget-me receipts, and
whether the app is installed in each workspace (uninstalled: schedules stop, data purged later).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_deliveries",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("request_key", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("shared_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_file_deliveries_user", "file_deliveries", ["team_id", "user_id"])
    op.create_index("ix_file_deliveries_created", "file_deliveries", ["created_at"])
    op.create_table(
        "erasure_receipts",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("request_key", sa.String(64), primary_key=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("slack_work", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_erasure_receipts_created_at", "erasure_receipts", ["created_at"])
    op.create_table(
        "workspace_lifecycle",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("uninstalled_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("reinstalled_at", UTCDateTime(), nullable=True),
        sa.Column("purge_after", UTCDateTime(), nullable=True),
        sa.Column("purged_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("workspace_lifecycle")
    op.drop_table("erasure_receipts")
    op.drop_table("file_deliveries")
