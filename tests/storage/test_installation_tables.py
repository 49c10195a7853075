"""The installation, bot and OAuth state tables the migrations make are the very tables slack_sdk's
SQLAlchemy stores define (it reads and writes them on our engine), on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData

from storage.db import Database

SLACK_SDK_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def slack_sdk_metadata() -> MetaData:
    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    return metadata


def _slack_sdk_tables_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = obj.name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in SLACK_SDK_TABLES


def test_the_migrated_tables_are_slack_sdks_own(migrated_db: Database) -> None:
    with migrated_db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True, "include_object": _slack_sdk_tables_only},
        )
        assert list(compare_metadata(context, slack_sdk_metadata())) == []
