"""Who asked for a question to go to colleagues (issue #15's review): the asker, or for *Ask
Peerlearn* on someone else's message the person who used it. Their hourly quota counts it, so the
shortcut can't take more questions to colleagues than /ask, nor charge them to the message's author.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("questions", sa.Column("requested_by", sa.String(32), nullable=True))
    op.create_index("ix_questions_requester", "questions", ["team_id", "requested_by", "asked_at"])


def downgrade() -> None:
    op.drop_index("ix_questions_requester", "questions")
    op.drop_column("questions", "requested_by")
