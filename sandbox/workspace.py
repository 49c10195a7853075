"""The sandbox's Slack workspace: users, channels, messages, reactions, views, in its own SQLite file.

Only the sandbox reads or writes it. Every change bumps a version number that the page long-polls on,
so a message the app posts shows up at once. One lock serialises writers (a handful of people click
in a browser; the app's posts arrive one request at a time), which keeps `ts` values strictly
increasing as Slack's are.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, create_engine, delete, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Peerlearn Sandbox"
TEAM_DOMAIN = "peerlearn-sandbox"
BOT_USER_ID = "U0PEERLEARN"
BOT_ID = "B0PEERLEARN"
APP_ID = "A0PEERLEARN"
WORKSPACE_URL = "https://peerlearn-sandbox.slack.com/"
SCHEMA_VERSION = "1"  # bump when the tables change: an older file is then started afresh


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    real_name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(120), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)

    def as_slack(self) -> dict[str, Any]:
        """The `user` object of users.info and users.list."""
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "deleted": False,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {"display_name": self.name, "real_name": self.real_name, "title": self.title},
        }


class Channel(Base):
    __tablename__ = "channels"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(250), default="")
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    is_im: Mapped[bool] = mapped_column(Boolean, default=False)

    def as_slack(self, members: set[str]) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": self.is_private,
            "is_private": self.is_private,
            "is_im": self.is_im,
            "is_archived": self.is_archived,
            "is_member": BOT_USER_ID in members,
            "topic": {"value": self.topic},
            "num_members": len(members),
        }


class Member(Base):
    __tablename__ = "members"
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"), index=True)
    ts: Mapped[str] = mapped_column(String(20), index=True)
    user_id: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    blocks: Mapped[str] = mapped_column(Text, default="[]")  # JSON
    thread_ts: Mapped[str | None] = mapped_column(String(20), default=None)
    meta: Mapped[str | None] = mapped_column(Text, default=None)  # JSON message metadata
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    # An ephemeral message: shown only to this user, never returned by the Web API.
    visible_to: Mapped[str | None] = mapped_column(String(20), default=None)

    def as_slack(self, reactions: list[dict[str, Any]], *, with_metadata: bool = False) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "message", "user": self.user_id, "text": self.text, "ts": self.ts}
        blocks = json.loads(self.blocks)
        if blocks:
            message["blocks"] = blocks
        if self.user_id == BOT_USER_ID:
            message["bot_id"] = BOT_ID
            message["app_id"] = APP_ID
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.edited:
            message["edited"] = {"user": self.user_id, "ts": self.ts}
        if reactions:
            message["reactions"] = reactions
        if with_metadata and self.meta:
            message["metadata"] = json.loads(self.meta)
        return message


class Reaction(Base):
    __tablename__ = "reactions"
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[float] = mapped_column(default=time.time)


class View(Base):
    """A modal on someone's screen (kind "modal", a stack per user) or their App Home (kind "home")."""

    __tablename__ = "views"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)  # JSON, as views.open got it plus ids Slack fills in
    position: Mapped[int] = mapped_column(Integer, default=0)  # in the user's modal stack
    channel_id: Mapped[str | None] = mapped_column(String(20), default=None)  # where it was opened from


class Problem(Base):
    """Something Slack would have refused (Block Kit limits, missing fields), shown on the page."""

    __tablename__ = "problems"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=lambda: datetime.now(UTC).replace(tzinfo=None))
    method: Mapped[str] = mapped_column(String(60))
    error: Mapped[str] = mapped_column(String(60))
    details: Mapped[str] = mapped_column(Text)  # JSON list of strings


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Workspace:
    """The store plus a change counter. Call `changed()` after a write the page should see."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.RLock()
        self._changes = threading.Condition()
        self.version = 0
        self._last_ts = 0.0
        self.fresh = self._prepare()

    def _prepare(self) -> bool:
        Base.metadata.create_all(self.engine)
        with self.session() as session:
            if self.get_setting(session, "schema") not in (None, SCHEMA_VERSION):
                Base.metadata.drop_all(self.engine)
                Base.metadata.create_all(self.engine)
            fresh = self.get_setting(session, "schema") is None
            self.set_setting(session, "schema", SCHEMA_VERSION)
            latest = session.scalars(select(Message.ts).order_by(Message.id.desc()).limit(1)).first()
            self._last_ts = float(latest) if latest else 0.0
        return fresh

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One locked unit of work: committed at the end, rolled back on error."""
        with self._lock, self._sessions() as session, session.begin():
            yield session

    # -- change notification ----------------------------------------------------------------------

    def changed(self) -> None:
        with self._changes:
            self.version += 1
            self._changes.notify_all()

    def wait_for_change(self, since: int, timeout: float) -> int:
        with self._changes:
            self._changes.wait_for(lambda: self.version != since, timeout=timeout)
            return self.version

    # -- small helpers ---------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message ts: the current time in microseconds, strictly after the last one."""
        with self._lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    @staticmethod
    def get_setting(session: Session, key: str) -> str | None:
        row = session.get(Setting, key)
        return None if row is None else row.value

    @staticmethod
    def set_setting(session: Session, key: str, value: str) -> None:
        session.merge(Setting(key=key, value=value))

    @staticmethod
    def members(session: Session, channel_id: str) -> set[str]:
        return set(session.scalars(select(Member.user_id).where(Member.channel_id == channel_id)))

    @staticmethod
    def message(session: Session, channel_id: str, ts: str) -> Message | None:
        return session.scalars(
            select(Message).where(Message.channel_id == channel_id, Message.ts == ts, Message.visible_to.is_(None))
        ).first()

    @staticmethod
    def reactions(session: Session, message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Reactions grouped per message, as Slack lists them: name, users in order, count."""
        grouped: dict[int, dict[str, list[str]]] = {}
        rows = session.scalars(select(Reaction).where(Reaction.message_id.in_(message_ids)).order_by(Reaction.at))
        for row in rows:
            grouped.setdefault(row.message_id, {}).setdefault(row.name, []).append(row.user_id)
        return {
            message_id: [{"name": name, "users": users, "count": len(users)} for name, users in names.items()]
            for message_id, names in grouped.items()
        }

    def add_message(
        self,
        session: Session,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        blocks: list[Any] | None = None,
        thread_ts: str | None = None,
        visible_to: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        """A new message, stamped with the next ts (an ephemeral one when `visible_to` is set)."""
        message = Message(
            channel_id=channel_id,
            ts=self.next_ts(),
            user_id=user_id,
            text=text,
            blocks=json.dumps(blocks or []),
            thread_ts=thread_ts,
            visible_to=visible_to,
            meta=json.dumps(metadata) if metadata else None,
        )
        session.add(message)
        session.flush()
        return message

    @staticmethod
    def add_modal(session: Session, view: dict[str, Any], user_id: str, channel_id: str | None, position: int) -> None:
        """A modal on top of the person's stack (position 0 starts a new stack)."""
        session.add(
            View(
                id=view["id"],
                user_id=user_id,
                kind="modal",
                body=json.dumps(view),
                position=position,
                channel_id=channel_id,
            )
        )

    def im_with(self, session: Session, user_id: str) -> Channel:
        """The app's DM with a person (its Messages tab), made on first use."""
        channel_id = "D" + user_id[1:]
        channel = session.get(Channel, channel_id)
        if channel is None:
            channel = Channel(id=channel_id, name=user_id, is_im=True)
            session.add(channel)
            session.add_all(
                [Member(channel_id=channel_id, user_id=user_id), Member(channel_id=channel_id, user_id=BOT_USER_ID)]
            )
            session.flush()
        return channel

    def record_problem(self, method: str, error: str, details: list[str]) -> None:
        with self.session() as session:
            session.add(Problem(method=method, error=error, details=json.dumps(details)))
            # Keep the page's list short: the newest 50 are plenty to debug with.
            keep = select(Problem.id).order_by(Problem.id.desc()).limit(50).scalar_subquery()
            session.execute(delete(Problem).where(Problem.id.not_in(keep)))
        self.changed()


def accepted_view(view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
    """A view as Slack keeps it once accepted: with an id (a new one unless `view_id`), a hash, and a
    block_id / action_id wherever the app left one out."""
    view = {**view, "id": view_id or "V" + secrets.token_hex(5).upper(), "team_id": TEAM_ID, "app_id": APP_ID,
            "bot_id": BOT_ID, "hash": f"{int(time.time())}.{secrets.token_hex(4)}"}  # fmt: skip
    blocks = []
    for block in view.get("blocks") or []:
        block = {**block, "block_id": block.get("block_id") or secrets.token_hex(3)}
        if "element" in block:
            block["element"] = {
                **block["element"],
                "action_id": block["element"].get("action_id") or secrets.token_hex(3),
            }
        blocks.append(block)
    view["blocks"] = blocks
    return view


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
