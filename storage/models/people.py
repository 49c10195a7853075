"""People's data: files sent to people, what forgetting someone removed, and the workspace's install state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow


class FileDelivery(Base):
    """A file sent to someone (an export of the tips, their own data) under the request that asked for
    it. Slack's file id is kept before the file is shared, so a rerun of that request's job looks for
    that file in the DM instead of sending a second one."""

    __tablename__ = "file_deliveries"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(16))  # export | my_data
    file_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(SlackId)  # the DM it was shared in
    shared_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_file_deliveries_user", "team_id", "user_id"),
        Index("ix_file_deliveries_created", "created_at"),
    )


class ErasureReceipt(Base):
    """What one forget-me request removed (counts, and the Slack posts still to take away or redraw),
    kept a day under its request so a rerun answers the same counts instead of finding nothing left.
    It names nobody."""

    __tablename__ = "erasure_receipts"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    counts: Mapped[str] = mapped_column(Text)  # JSON: what -> how many
    slack_work: Mapped[str] = mapped_column(Text)  # JSON: the posts to delete or redraw
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WorkspaceLifecycle(Base):
    """Whether the app is installed in a workspace. Uninstalled (or its tokens revoked), its schedules
    stop at once and its data is purged after `purge_after`, unless a later sign of installation
    (`reinstalled_at`: the app starting with its token, a request from it, an installation saved)
    comes first. A row exists only for workspaces that ever sent such a sign or event."""

    __tablename__ = "workspace_lifecycle"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    uninstalled_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(32))  # app_uninstalled | tokens_revoked
    reinstalled_at: Mapped[datetime | None]  # the latest sign that the app is installed
    purge_after: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
