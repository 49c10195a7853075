"""Rows written as an older schema had them: plain SQL naming only the columns that schema had
(the models would also fill columns added since, such as a tip's number)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from bot.tips import rules as tips
from storage.db import Database
from storage.migrate import alembic_config, upgrade


@contextmanager
def downgraded(db: Database, revision: str) -> Iterator[None]:
    """The schema as migration `revision` left it, for the block's writes; brought back to head after."""
    with db.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    try:
        yield
    finally:
        upgrade(db.engine)


def old_tip(db: Database, team_id: str, tip_text: str, helpful_count: int = 0) -> int:
    """A tip as /tip stored it before migration 0021; returns its id."""
    draft = tips.draft_tip(tip_text)
    values = {
        "team_id": team_id,
        "author_id": "UAUTHOR",
        "text": draft.text,
        "tags": " ".join(draft.tags),
        "source": "command",
        "helpful_count": helpful_count,
        "created_at": datetime.now(UTC),
    }
    with db.transaction() as session:
        return int(
            session.execute(
                text(
                    "INSERT INTO tips (team_id, author_id, text, tags, source, helpful_count, created_at)"
                    " VALUES (:team_id, :author_id, :text, :tags, :source, :helpful_count, :created_at) RETURNING id"
                ),
                values,
            ).scalar_one()
        )


def old_question(db: Database, team_id: str, question_text: str, request_key: str) -> int:
    """A question as /ask stored it before migration 0021; returns its id."""
    values = {"team_id": team_id, "text": question_text, "request_key": request_key, "asked_at": datetime.now(UTC)}
    with db.transaction() as session:
        return int(
            session.execute(
                text(
                    "INSERT INTO questions (team_id, asker_id, text, topics, source, channel_id, state, wave,"
                    " request_key, asked_at) VALUES (:team_id, 'UASKER', :text, '', 'command', 'C1', 'new', 0,"
                    " :request_key, :asked_at) RETURNING id"
                ),
                values,
            ).scalar_one()
        )


def old_prompt(db: Database, team_id: str, prompt_text: str, removed: bool = False) -> int:
    """A custom prompt as `/peerlearn prompt add` stored it before migration 0022; returns its id."""
    now = datetime.now(UTC)
    values = {"team_id": team_id, "text": prompt_text, "created_at": now, "removed_at": now if removed else None}
    with db.transaction() as session:
        return int(
            session.execute(
                text(
                    "INSERT INTO custom_prompts (team_id, text, created_by, created_at, removed_at)"
                    " VALUES (:team_id, :text, 'UADMIN', :created_at, :removed_at) RETURNING id"
                ),
                values,
            ).scalar_one()
        )
