"""Pairing rounds, their groups and members, and who was left out and why (issue #10).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pairing_rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("configured_by", sa.String(32), nullable=False),
        sa.Column("pool_size", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("learners_taught", sa.Integer(), nullable=False),
        sa.Column("follow_up_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.Column("followed_up_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", "period", name="uq_pairing_rounds_period"),
    )
    op.create_index("ix_pairing_rounds_status", "pairing_rounds", ["status", "follow_up_at", "closes_at"])
    op.create_table(
        "pairing_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("pairing_rounds.id", ondelete="CASCADE"), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("mentor_id", sa.String(32), nullable=True),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("cross_team", sa.Boolean(), nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("answered_by", sa.String(32), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("followed_up_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_pairing_groups_round", "pairing_groups", ["round_id"])
    op.create_table(
        "pairing_members",
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("pairing_groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("pairing_rounds.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_pairing_members_user", "pairing_members", ["team_id", "user_id", "round_id"])
    op.create_table(
        "pairing_left_out",
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("pairing_rounds.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("told_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("pairing_left_out")
    op.drop_table("pairing_members")
    op.drop_index("ix_pairing_groups_round", "pairing_groups")
    op.drop_table("pairing_groups")
    op.drop_index("ix_pairing_rounds_status", "pairing_rounds")
    op.drop_table("pairing_rounds")
