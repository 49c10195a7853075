"""Schedules, the post ledger, custom prompts, the scheduler lease; vote author for digests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tip_votes") as batch:
        batch.add_column(sa.Column("author_id", sa.String(32), nullable=True))
    op.execute("UPDATE tip_votes SET author_id = (SELECT tips.author_id FROM tips WHERE tips.id = tip_votes.tip_id)")
    with op.batch_alter_table("tip_votes") as batch:
        batch.alter_column("author_id", existing_type=sa.String(32), nullable=False)
        batch.drop_index("ix_tip_votes_team_created")
        batch.create_index("ix_tip_votes_team_created_author", ["team_id", "created_at", "author_id"])

    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("weekday", sa.Integer),
        sa.Column("at_time", sa.String(5), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("anchor", sa.Date),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("paused_reason", sa.Text),
        sa.Column("last_period", sa.String(64)),
        sa.Column("configured_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", "kind", name="uq_schedules_channel_kind"),
    )
    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedules.id", ondelete="SET NULL")),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("posted_at", UTCDateTime()),
        sa.Column("prompt_key", sa.String(64)),
        sa.Column("prompt_cycle", sa.Integer),
        sa.Column("resurfaced_tip_id", sa.Integer),
        sa.Column("reply_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", "kind", "period", name="uq_scheduled_posts_period"),
    )
    op.create_index("ix_scheduled_posts_channel_due", "scheduled_posts", ["team_id", "channel_id", "kind", "due_at"])
    op.create_index("ix_scheduled_posts_message", "scheduled_posts", ["team_id", "channel_id", "message_ts"])
    op.create_index("ix_scheduled_posts_status", "scheduled_posts", ["status", "lease_until"])
    op.create_table(
        "custom_prompts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime()),
    )
    op.create_index("ix_custom_prompts_team_id", "custom_prompts", ["team_id"])
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("scheduler_leases", "custom_prompts", "scheduled_posts", "schedules"):
        op.drop_table(table)
    with op.batch_alter_table("tip_votes") as batch:
        batch.drop_index("ix_tip_votes_team_created_author")
        batch.create_index("ix_tip_votes_team_created", ["team_id", "created_at"])
        batch.drop_column("author_id")
