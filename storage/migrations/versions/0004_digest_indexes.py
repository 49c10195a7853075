"""Indexes for channel-only digests, and a covering index for top teachers.

Measured on 1M tips / 5M votes (bench/digest.py): a channel-only digest for a quiet channel walked
every voted tip of the workspace (SQLite ~1.1 s); channel-only top teachers looked each vote's row
up twice (SQLite 14-day ~420 ms).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tips_team_channel_helpful", "tips", ["team_id", "origin_channel_id", "helpful_count", "id"])
    op.create_index("ix_tips_team_channel_created", "tips", ["team_id", "origin_channel_id", "created_at"])
    op.create_index(
        "ix_tip_votes_team_created_author_tip", "tip_votes", ["team_id", "created_at", "author_id", "tip_id"]
    )
    op.drop_index("ix_tip_votes_team_created_author", "tip_votes")


def downgrade() -> None:
    op.create_index("ix_tip_votes_team_created_author", "tip_votes", ["team_id", "created_at", "author_id"])
    op.drop_index("ix_tip_votes_team_created_author_tip", "tip_votes")
    op.drop_index("ix_tips_team_channel_created", "tips")
    op.drop_index("ix_tips_team_channel_helpful", "tips")
