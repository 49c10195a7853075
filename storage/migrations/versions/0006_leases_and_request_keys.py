"""Heartbeat leases name their holder; recent request keys stop replays from queueing work twice.

- `scheduled_posts.lease_holder`, `circle_rounds.lease_holder`: the process whose heartbeat renews
  the (now short) lease of a post being delivered or a round being opened.
- `request_keys`: the Slack requests whose jobs were queued lately, kept minutes (past Slack's
  5-minute replay window); part of the job queue, so also made in the queue's own SQLite file.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_queue()
    op.add_column("scheduled_posts", sa.Column("lease_holder", sa.String(128)))
    op.add_column("circle_rounds", sa.Column("lease_holder", sa.String(128)))


def upgrade_queue() -> None:
    """The part of this revision that shapes the job queue (also run in the queue's own SQLite file)."""
    op.create_table(
        "request_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("batch", sa.String(32), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_request_keys_seen_at", "request_keys", ["seen_at"])


def downgrade() -> None:
    op.drop_table("request_keys")
    with op.batch_alter_table("circle_rounds") as batch:
        batch.drop_column("lease_holder")
    with op.batch_alter_table("scheduled_posts") as batch:
        batch.drop_column("lease_holder")
