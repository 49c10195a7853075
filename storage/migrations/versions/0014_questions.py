"""Ask the workspace (issue #11): questions, the people asked, replies, topics, questions channels,
and `tip_tags`, an index of tips by tag kept by triggers (and filled here from the tips there are).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

# ruff: noqa: S608 (the statements are built from this file's constants; no value reaches them)

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Tags are stored space-separated in tips.tags. SQLite has no split and allows no WITH in a trigger,
# so the list is read as a JSON array (tags never hold quotes or backslashes, but they are escaped
# anyway, and anything still not JSON adds no tag rather than failing the tip's insert).
_SQLITE_ARRAY = "'[\"' || replace(replace(replace(trim({tags}), '\\', '\\\\'), '\"', '\\\"'), ' ', '\",\"') || '\"]'"
_SQLITE_TAGS = "json_each(CASE WHEN json_valid({array}) THEN {array} ELSE '[]' END)"


def _sqlite_tags(tags: str) -> str:
    array = _SQLITE_ARRAY.format(tags=tags)
    return _SQLITE_TAGS.format(array=array)


_SQLITE_INSERT = (
    "INSERT OR IGNORE INTO tip_tags (tip_id, tag, team_id, author_id, helpful_count)"
    " SELECT new.id, value, new.team_id, new.author_id, new.helpful_count FROM "
    + _sqlite_tags("new.tags")
    + " WHERE value <> '';"
)
_SQLITE = [
    f"CREATE TRIGGER tip_tags_insert AFTER INSERT ON tips BEGIN {_SQLITE_INSERT} END",
    "CREATE TRIGGER tip_tags_update AFTER UPDATE OF tags, author_id ON tips BEGIN"
    f" DELETE FROM tip_tags WHERE tip_id = old.id; {_SQLITE_INSERT} END",
    # Deleting a tip deletes its votes explicitly (SQLite honours ON DELETE CASCADE only with
    # foreign_keys=ON); the trigger does the same for its tags.
    "CREATE TRIGGER tip_tags_delete AFTER DELETE ON tips BEGIN DELETE FROM tip_tags WHERE tip_id = old.id; END",
    # A helpful vote (or its withdrawal) moves the count on the tip's tags too.
    "CREATE TRIGGER tip_tags_helpful AFTER UPDATE OF helpful_count ON tips BEGIN"
    " UPDATE tip_tags SET helpful_count = new.helpful_count WHERE tip_id = new.id; END",
    "INSERT OR IGNORE INTO tip_tags (tip_id, tag, team_id, author_id, helpful_count)"
    " SELECT tips.id, value, tips.team_id, tips.author_id, tips.helpful_count FROM tips, "
    + _sqlite_tags("tips.tags")
    + " WHERE value <> ''",
]
_POSTGRES = [
    """
    CREATE FUNCTION tip_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.tags IS NOT DISTINCT FROM OLD.tags AND NEW.author_id IS NOT DISTINCT FROM OLD.author_id THEN
                -- a helpful vote (or its withdrawal): the count on the tip's tags moves with it
                UPDATE tip_tags SET helpful_count = NEW.helpful_count WHERE tip_id = NEW.id;
                RETURN NULL;
            END IF;
            DELETE FROM tip_tags WHERE tip_id = OLD.id;
        END IF;
        INSERT INTO tip_tags (tip_id, tag, team_id, author_id, helpful_count)
        SELECT DISTINCT NEW.id, left(tag, 64), NEW.team_id, NEW.author_id, NEW.helpful_count
        FROM regexp_split_to_table(NEW.tags, '\\s+') AS tag WHERE tag <> ''
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER tip_tags_sync AFTER INSERT OR UPDATE OF tags, author_id, helpful_count ON tips"
    " FOR EACH ROW EXECUTE FUNCTION tip_tags_sync()",
    # Deleting a tip cascades to its tags (the foreign key).
    "INSERT INTO tip_tags (tip_id, tag, team_id, author_id, helpful_count)"
    " SELECT DISTINCT tips.id, left(tag, 64), tips.team_id, tips.author_id, tips.helpful_count"
    " FROM tips, regexp_split_to_table(tips.tags, '\\s+') AS tag WHERE tag <> '' ON CONFLICT DO NOTHING",
]


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("asker_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("post_ts", sa.String(32), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("request_key", sa.String(64), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("routed_at", UTCDateTime(), nullable=True),
        sa.Column("first_reply_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.String(32), nullable=True),
        sa.Column("answer_ts", sa.String(32), nullable=True),
        sa.Column("answered_tip_id", sa.Integer(), nullable=True),
        sa.Column("saved_tip_id", sa.Integer(), nullable=True),
        sa.Column("notice_ts", sa.String(32), nullable=True),
        sa.Column("closed_reason", sa.String(16), nullable=True),
        sa.UniqueConstraint("team_id", "request_key", name="uq_questions_request"),
    )
    op.create_index("ix_questions_thread", "questions", ["team_id", "channel_id", "thread_ts"])
    op.create_index("ix_questions_post", "questions", ["team_id", "channel_id", "post_ts"])
    op.create_index("ix_questions_asker", "questions", ["team_id", "asker_id", "asked_at"])
    op.create_index("ix_questions_team_asked", "questions", ["team_id", "asked_at"])
    op.create_index("ix_questions_due", "questions", ["state", "due_at"])
    op.create_table(
        "question_asks",
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("dm_channel_id", sa.String(32), nullable=True),
        sa.Column("dm_ts", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_question_asks_load", "question_asks", ["team_id", "user_id", "open"])
    op.create_index("ix_question_asks_pending", "question_asks", ["state", "created_at"])
    op.create_table(
        "question_replies",
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("ts", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "question_topics",
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("topic", sa.String(64), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_question_topics_topic", "question_topics", ["team_id", "topic"])
    op.create_table(
        "questions_channels",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("enabled_by", sa.String(32), nullable=False),
        sa.Column("enabled_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "tip_tags",
        sa.Column("tip_id", sa.Integer(), sa.ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=False),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_tip_tags_tag", "tip_tags", ["team_id", "tag", "author_id", "helpful_count"])
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("tip_tags_insert", "tip_tags_update", "tip_tags_delete", "tip_tags_helpful"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.execute("DROP TRIGGER IF EXISTS tip_tags_sync ON tips")
        op.execute("DROP FUNCTION IF EXISTS tip_tags_sync()")
    for table in (
        "tip_tags",
        "questions_channels",
        "question_topics",
        "question_replies",
        "question_asks",
        "questions",
    ):
        op.drop_table(table)
