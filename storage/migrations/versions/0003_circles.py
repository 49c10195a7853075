"""Learning circles: circles, members, rounds and their participants.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "circles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(80), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("weekday", sa.Integer),
        sa.Column("at_time", sa.String(5), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("anchor", sa.Date),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("reminder_minutes", sa.Integer, nullable=False),
        sa.Column("window_minutes", sa.Integer, nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("paused_reason", sa.Text),
        sa.Column("archived_at", UTCDateTime()),
        sa.Column("last_period", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "name_key", name="uq_circles_name"),
    )
    op.create_table(
        "circle_members",
        sa.Column("circle_id", sa.Integer, sa.ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("skip_rounds", sa.Integer, nullable=False),
        sa.Column("streak", sa.Integer, nullable=False),
        sa.Column("last_answered_at", UTCDateTime()),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "circle_rounds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("circle_id", sa.Integer, sa.ForeignKey("circles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("remind_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("reminded_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("circle_id", "period", name="uq_circle_rounds_period"),
    )
    op.create_index("ix_circle_rounds_status", "circle_rounds", ["status", "remind_at", "closes_at"])
    op.create_index("ix_circle_rounds_team_due", "circle_rounds", ["team_id", "due_at"])
    op.create_table(
        "round_participants",
        sa.Column("round_id", sa.Integer, sa.ForeignKey("circle_rounds.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dm_channel_id", sa.String(32)),
        sa.Column("dm_ts", sa.String(32)),
        sa.Column("answers", sa.Text),
        sa.Column("reply_ts", sa.String(32)),
        sa.Column("answered_at", UTCDateTime()),
    )


def downgrade() -> None:
    for table in ("round_participants", "circle_rounds", "circle_members", "circles"):
        op.drop_table(table)
