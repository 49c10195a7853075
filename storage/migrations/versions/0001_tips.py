"""Tips, votes, processed events, and full-text search over tips.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_FTS = [
    # External-content FTS5 index kept in step with `tips` by triggers; porter stems like PG's english.
    "CREATE VIRTUAL TABLE tips_fts USING fts5(text, tags, content='tips', content_rowid='id',"
    " tokenize='porter unicode61')",
    "CREATE TRIGGER tips_fts_insert AFTER INSERT ON tips BEGIN"
    " INSERT INTO tips_fts(rowid, text, tags) VALUES (new.id, new.text, new.tags); END",
    "CREATE TRIGGER tips_fts_delete AFTER DELETE ON tips BEGIN"
    " INSERT INTO tips_fts(tips_fts, rowid, text, tags) VALUES ('delete', old.id, old.text, old.tags); END",
    "CREATE TRIGGER tips_fts_update AFTER UPDATE OF text, tags ON tips BEGIN"
    " INSERT INTO tips_fts(tips_fts, rowid, text, tags) VALUES ('delete', old.id, old.text, old.tags);"
    " INSERT INTO tips_fts(rowid, text, tags) VALUES (new.id, new.text, new.tags); END",
]
_POSTGRES_FTS = [
    "ALTER TABLE tips ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
    " (to_tsvector('english', text || ' ' || tags)) STORED",
    "CREATE INDEX ix_tips_search ON tips USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "tips",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=False),
        sa.Column("saved_by_id", sa.String(32)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("origin_channel_id", sa.String(32)),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("permalink", sa.Text),
        sa.Column("helpful_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", "message_ts", name="uq_tips_message"),
    )
    op.create_index("ix_tips_team_created", "tips", ["team_id", "created_at"])
    op.create_index("ix_tips_team_helpful", "tips", ["team_id", "helpful_count", "id"])
    op.create_index("ix_tips_team_author", "tips", ["team_id", "author_id", "created_at"])

    op.create_table(
        "tip_reactions",
        sa.Column("tip_id", sa.Integer, sa.ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("reaction", sa.String(100), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "tip_votes",
        sa.Column("tip_id", sa.Integer, sa.ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tip_votes_team_created", "tip_votes", ["team_id", "created_at"])

    op.create_table(
        "processed_events",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_processed_events_received_at", "processed_events", ["received_at"])

    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_FTS if dialect == "sqlite" else _POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE tips_fts")
    for table in ("processed_events", "tip_votes", "tip_reactions", "tips"):
        op.drop_table(table)
