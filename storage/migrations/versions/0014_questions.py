"""Ask the workspace (issue #11): questions, the people asked, replies, topics, questions channels,
and `tag_authors`: each author's tips on each tag and the helpful votes they got, kept by triggers
on `tips` whatever writes them (and filled here from the tips there are).

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


def _sqlite_add(row: str) -> str:
    """The tip `row` ("new") counted for its author on each of its tags."""
    return (
        "INSERT INTO tag_authors (team_id, tag, author_id, tips, helpful)"
        f" SELECT DISTINCT {row}.team_id, value, {row}.author_id, 1, {row}.helpful_count"
        f" FROM {_sqlite_tags(row + '.tags')}"
        " WHERE value <> ''"
        " ON CONFLICT (team_id, tag, author_id) DO UPDATE SET tips = tips + 1, helpful = helpful + excluded.helpful;"
    )


def _sqlite_remove(row: str) -> str:
    """The tip `row` ("old") no longer counted; an author left with no tip on a tag leaves it."""
    mine = f"team_id = {row}.team_id AND author_id = {row}.author_id"
    tags = f"tag IN (SELECT value FROM {_sqlite_tags(row + '.tags')})"
    return (
        f"UPDATE tag_authors SET tips = tips - 1, helpful = helpful - {row}.helpful_count WHERE {mine} AND {tags};"
        f" DELETE FROM tag_authors WHERE {mine} AND tips <= 0 AND {tags};"
    )


_MOVED = "(old.tags IS NOT new.tags OR old.author_id IS NOT new.author_id OR old.team_id IS NOT new.team_id)"
_SQLITE = [
    f"CREATE TRIGGER tag_authors_insert AFTER INSERT ON tips BEGIN {_sqlite_add('new')} END",
    f"CREATE TRIGGER tag_authors_delete AFTER DELETE ON tips BEGIN {_sqlite_remove('old')} END",
    f"CREATE TRIGGER tag_authors_move AFTER UPDATE ON tips WHEN {_MOVED} BEGIN"
    f" {_sqlite_remove('old')} {_sqlite_add('new')} END",
    # A helpful vote (or its withdrawal) moves its author's count on each of the tip's tags.
    f"CREATE TRIGGER tag_authors_helpful AFTER UPDATE ON tips WHEN NOT {_MOVED}"
    " AND old.helpful_count IS NOT new.helpful_count BEGIN"
    " UPDATE tag_authors SET helpful = helpful + new.helpful_count - old.helpful_count"
    " WHERE team_id = new.team_id AND author_id = new.author_id"
    f" AND tag IN (SELECT value FROM {_sqlite_tags('new.tags')});"
    " END",
    "INSERT INTO tag_authors (team_id, tag, author_id, tips, helpful)"
    " SELECT team_id, tag, author_id, count(*), sum(helpful_count) FROM"
    " (SELECT DISTINCT tips.id, tips.team_id, value AS tag, tips.author_id, tips.helpful_count"
    f"  FROM tips, {_sqlite_tags('tips.tags')} WHERE value <> '')"
    " GROUP BY team_id, tag, author_id",
]
_POSTGRES_TAGS = "SELECT DISTINCT left(tag, 64) FROM regexp_split_to_table({row}.tags, '\\s+') AS tag WHERE tag <> ''"
_POSTGRES = [
    f"""
    CREATE FUNCTION tag_authors_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.tags IS NOT DISTINCT FROM OLD.tags
                AND NEW.author_id IS NOT DISTINCT FROM OLD.author_id
                AND NEW.team_id IS NOT DISTINCT FROM OLD.team_id THEN
            IF NEW.helpful_count IS DISTINCT FROM OLD.helpful_count THEN
                -- a helpful vote (or its withdrawal): its author's count on each of the tip's tags
                UPDATE tag_authors SET helpful = helpful + NEW.helpful_count - OLD.helpful_count
                WHERE team_id = NEW.team_id AND author_id = NEW.author_id
                AND tag IN ({_POSTGRES_TAGS.format(row="NEW")});
            END IF;
            RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE tag_authors SET tips = tips - 1, helpful = helpful - OLD.helpful_count
            WHERE team_id = OLD.team_id AND author_id = OLD.author_id AND tag IN ({_POSTGRES_TAGS.format(row="OLD")});
            DELETE FROM tag_authors WHERE team_id = OLD.team_id AND author_id = OLD.author_id AND tips <= 0
            AND tag IN ({_POSTGRES_TAGS.format(row="OLD")});
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO tag_authors (team_id, tag, author_id, tips, helpful)
            SELECT NEW.team_id, tag, NEW.author_id, 1, NEW.helpful_count
            FROM ({_POSTGRES_TAGS.format(row="NEW")}) AS t (tag)
            ON CONFLICT (team_id, tag, author_id)
            DO UPDATE SET tips = tag_authors.tips + 1, helpful = tag_authors.helpful + EXCLUDED.helpful;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER tag_authors_sync AFTER INSERT OR UPDATE OR DELETE ON tips"
    " FOR EACH ROW EXECUTE FUNCTION tag_authors_sync()",
    "INSERT INTO tag_authors (team_id, tag, author_id, tips, helpful)"
    " SELECT team_id, tag, author_id, count(*), sum(helpful_count) FROM"
    " (SELECT DISTINCT tips.id, tips.team_id, left(tag, 64) AS tag, tips.author_id, tips.helpful_count"
    "  FROM tips, regexp_split_to_table(tips.tags, '\\s+') AS tag WHERE tag <> '') AS tagged"
    " GROUP BY team_id, tag, author_id",
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
        "tag_authors",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("author_id", sa.String(32), primary_key=True),
        sa.Column("tips", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
    )
    op.create_index("ix_tag_authors_helpful", "tag_authors", ["team_id", "tag", "helpful", "tips", "author_id"])
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("tag_authors_insert", "tag_authors_delete", "tag_authors_move", "tag_authors_helpful"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.execute("DROP TRIGGER IF EXISTS tag_authors_sync ON tips")
        op.execute("DROP FUNCTION IF EXISTS tag_authors_sync()")
    for table in (
        "tag_authors",
        "questions_channels",
        "question_topics",
        "question_replies",
        "question_asks",
        "questions",
    ):
        op.drop_table(table)
