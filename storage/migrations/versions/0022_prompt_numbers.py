"""Custom prompts numbered per workspace: a workspace's first prompt is `1`.

`/peerlearn prompt add|list|remove` showed and took the prompt's database id, shared by every
workspace of a deployment: a new workspace's first prompt was `7` when another had six. Each custom
prompt now has a `number`, as tips and questions got in 0021, unique per workspace, taken from
`workspace_counters` (kind "prompt") so a number is never given twice. Existing rows (removed ones
too) keep their id as their number, the one `/peerlearn prompt list` showed, so an admin's `remove
<that>` still names that prompt; the workspace's counter starts at its highest id. The id stays the
internal key (`custom:<id>` in the post ledger).

NOT NULL with a server default (0) only so SQLite can add the column; every insert takes a number.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN locks the table on PostgreSQL until the migration commits: no row goes unnumbered.
    op.add_column("custom_prompts", sa.Column("number", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE custom_prompts SET number = id")  # as shown until now (see above)
    op.execute(
        "INSERT INTO workspace_counters (team_id, kind, last)"
        " SELECT team_id, 'prompt', max(number) FROM custom_prompts GROUP BY team_id"
    )
    op.create_index("uq_custom_prompts_number", "custom_prompts", ["team_id", "number"], unique=True)


def downgrade() -> None:
    op.execute("DELETE FROM workspace_counters WHERE kind = 'prompt'")
    op.drop_index("uq_custom_prompts_number", "custom_prompts")
    op.drop_column("custom_prompts", "number")
