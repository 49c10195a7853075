"""Tips and questions numbered per workspace: a workspace's first tip is "Tip #1".

They were shown by their database id, shared by every workspace of a deployment: a new
workspace's first tip was "Tip #11" when another workspace had ten, which told it how busy the
others were. Each tip and question now has a `number`, 1, 2, 3 … within its workspace, unique per
workspace, taken from `workspace_counters` so a number is never given twice, even after the highest
one's row is deleted. The database id stays the internal key.

Existing rows keep the number they were shown with, their id: posts and messages already in Slack
say "Tip #<id>", and `/tip delete <that>` must still name that tip, never a later one given the same
number. So a workspace's counter starts at its highest id, and only workspaces with no rows yet start
at 1. A deletion remembers the tip's number (a deletion before this, its id: the number it showed).

The new columns are NOT NULL with a server default (0) only because SQLite adds a NOT NULL column
no other way without rebuilding the table (and its triggers); every insert takes a number.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

# ruff: noqa: S608 (the statements are built from this file's constants; no value reaches them)

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_NUMBERED = (("tips", "tip"), ("questions", "question"))


def upgrade() -> None:
    op.create_table(
        "workspace_counters",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.add_column("tip_deletions", sa.Column("number", sa.Integer(), nullable=True))
    op.execute("UPDATE tip_deletions SET number = tip_id")  # the number those tips were shown with
    for table, kind in _NUMBERED:
        # ADD COLUMN locks the table on PostgreSQL until the migration commits: no row goes unnumbered.
        op.add_column(table, sa.Column("number", sa.Integer(), nullable=False, server_default="0"))
        op.execute(f"UPDATE {table} SET number = id")  # as shown until now (see above)
        op.execute(
            f"INSERT INTO workspace_counters (team_id, kind, last)"
            f" SELECT team_id, '{kind}', max(number) FROM {table} GROUP BY team_id"
        )
        op.create_index(f"uq_{table}_number", table, ["team_id", "number"], unique=True)


def downgrade() -> None:
    for table, _ in _NUMBERED:
        op.drop_index(f"uq_{table}_number", table)
        op.drop_column(table, "number")
    op.drop_column("tip_deletions", "number")
    op.drop_table("workspace_counters")
