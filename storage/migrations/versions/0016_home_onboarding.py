"""The App Home's first visits (the welcome shows once), the bot's one introduction per channel, and
the indexes that let the admins' weekly figures count who shared and who voted from the index alone
(issue #12).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_visits",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("first_key", sa.String(64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "channel_intros",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("request_key", sa.String(64), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_tips_team_created_author", "tips", ["team_id", "created_at", "author_id"])
    op.create_index("ix_tip_votes_team_created_user", "tip_votes", ["team_id", "created_at", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_tip_votes_team_created_user", "tip_votes")
    op.drop_index("ix_tips_team_created_author", "tips")
    op.drop_table("channel_intros")
    op.drop_table("home_visits")
