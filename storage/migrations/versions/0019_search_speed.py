"""Search and top speed (issue #15).

`/tip top week` walked the workspace's tips from the most helpful down and read each one's row
to learn its date, until ten of the week turned up: most of the best tips are older (votes come
with age), so thousands of rows (100,000 tips: SQLite 3.2 ms, PostgreSQL up to 25 ms with cold
pages). With the date in the index, older tips are skipped in the index (0.24 / 0.3 ms).

`/tip search` for a common word ranks every tip holding it (15,000 of 100,000 for "git"), so
what it reads per tip is the cost:
- SQLite reads the full-text index and looks each tip up for its workspace and helpful votes;
  from the table's wide rows that cost as much as the matching (28 ms, 19 ms from a narrow index).
- PostgreSQL read each tip's whole row (text, permalink, … ~800 bytes) for its tsvector, the last
  column. The tsvector now lives in `tips_search` (id, team_id, helpful_count, search_vector),
  kept by a trigger on `tips`: a third of the CPU less (21 -> 14 ms for "git", server CPU). A vote
  updates that narrow row in place (fillfactor 90 leaves room for a heap-only update); 1,000 vote
  updates measured the same server CPU as before (0.22 ms each).

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-01
"""

from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

_POSTGRES_UP = [
    """CREATE TABLE tips_search (
        id integer PRIMARY KEY REFERENCES tips (id) ON DELETE CASCADE,
        team_id varchar(32) NOT NULL,
        helpful_count integer NOT NULL,
        search_vector tsvector NOT NULL
    ) WITH (fillfactor = 90)""",
    """CREATE FUNCTION tips_search_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO tips_search (id, team_id, helpful_count, search_vector)
            VALUES (NEW.id, NEW.team_id, NEW.helpful_count, to_tsvector('english', NEW.text || ' ' || NEW.tags));
        ELSIF NEW.text IS DISTINCT FROM OLD.text OR NEW.tags IS DISTINCT FROM OLD.tags THEN
            UPDATE tips_search SET team_id = NEW.team_id, helpful_count = NEW.helpful_count,
                search_vector = to_tsvector('english', NEW.text || ' ' || NEW.tags)
            WHERE id = NEW.id;
        ELSE
            UPDATE tips_search SET team_id = NEW.team_id, helpful_count = NEW.helpful_count WHERE id = NEW.id;
        END IF;
        RETURN NULL;
    END $$""",
    # Created before the copy below, in the same transaction: it locks `tips` against writes until
    # the migration commits, so no tip is missed or copied twice.
    """CREATE TRIGGER tips_search_follow AFTER INSERT OR UPDATE OF team_id, text, tags, helpful_count ON tips
        FOR EACH ROW EXECUTE FUNCTION tips_search_follow()""",
    "INSERT INTO tips_search SELECT id, team_id, helpful_count, search_vector FROM tips",
    "CREATE INDEX ix_tips_search_vector ON tips_search USING gin (search_vector)",
    "DROP INDEX ix_tips_search",
    "ALTER TABLE tips DROP COLUMN search_vector",
]
_POSTGRES_DOWN = [
    "ALTER TABLE tips ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
    " (to_tsvector('english', text || ' ' || tags)) STORED",
    "CREATE INDEX ix_tips_search ON tips USING gin (search_vector)",
    "DROP TRIGGER tips_search_follow ON tips",
    "DROP FUNCTION tips_search_follow()",
    "DROP TABLE tips_search",
]


def upgrade() -> None:
    op.create_index("ix_tips_team_helpful_created", "tips", ["team_id", "helpful_count", "id", "created_at"])
    op.drop_index("ix_tips_team_helpful", "tips")
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_tips_search_rank", "tips", ["id", "team_id", "helpful_count"])
    else:
        for statement in _POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_tips_search_rank", "tips")
    else:
        for statement in _POSTGRES_DOWN:
            op.execute(statement)
    op.create_index("ix_tips_team_helpful", "tips", ["team_id", "helpful_count", "id"])
    op.drop_index("ix_tips_team_helpful_created", "tips")
