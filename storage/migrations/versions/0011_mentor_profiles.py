"""Mentoring profiles and their skills (issue #10).

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentor_profiles",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("level", sa.String(16), nullable=True),
        sa.Column("team_name", sa.String(80), nullable=True),
        sa.Column("open_to_mentoring", sa.Boolean(), nullable=False),
        sa.Column("open_to_mentee", sa.Boolean(), nullable=False),
        sa.Column("open_to_coffee", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("avoids", sa.Text(), nullable=False),
        sa.Column("paused_until", UTCDateTime(), nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("missed_rounds", sa.Integer(), nullable=False),
        sa.Column("deactivated_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "profile_skills",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("skill", sa.String(64), primary_key=True),
    )
    op.create_index("ix_profile_skills_skill", "profile_skills", ["team_id", "kind", "skill"])


def downgrade() -> None:
    op.drop_table("profile_skills")
    op.drop_table("mentor_profiles")
