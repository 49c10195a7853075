"""The Slack workspace behind the one emulation: users, conversations, messages, reactions, views.

The sandbox keeps it in its own SQLite file; the tests' double (tests/slack_double.py) keeps it in
memory (`Workspace(None, team=...)`). Both go through the same tables and the same Web API
(sandbox/web_api.py), so the rules live in one place. Every change bumps a version number that the
page long-polls on, so a message the app posts shows up at once. One lock serialises writers,
which keeps `ts` values strictly increasing as Slack's are; they follow the workspace's clock (real
time plus the offset the sandbox's "Run scheduled jobs now" moves forward).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool


@dataclass(frozen=True)
class Team:
    """Who the workspace and its one app are, as auth.test and every payload name them."""

    id: str = "T0SANDBOX"
    name: str = "Peerlearn Sandbox"
    domain: str = "peerlearn-sandbox"
    bot_user_id: str = "U0PEERLEARN"
    bot_id: str = "B0PEERLEARN"
    app_id: str = "A0PEERLEARN"

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"


SANDBOX = Team()
TEAM_ID = SANDBOX.id
TEAM_NAME = SANDBOX.name
TEAM_DOMAIN = SANDBOX.domain
BOT_USER_ID = SANDBOX.bot_user_id
BOT_ID = SANDBOX.bot_id
APP_ID = SANDBOX.app_id
WORKSPACE_URL = SANDBOX.url
SCHEMA_VERSION = "2"  # bump when the tables change: an older file is then started afresh
CLOCK_SETTING = "clock_offset_seconds"


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
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Anything else a test sets on a person (e.g. dms_closed: they turned off the app's messages).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def as_slack(self, team: Team) -> dict[str, Any]:
        """The `user` object of users.info and users.list."""
        return {
            "id": self.id,
            "team_id": team.id,
            "name": self.name,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "deleted": self.deleted,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {"display_name": self.name, "real_name": self.real_name, "title": self.title},
            **(self.extra or {}),
        }


USER_COLUMNS = frozenset({"name", "real_name", "title", "tz", "is_admin", "is_owner", "is_bot", "deleted"})


class Channel(Base):
    """A conversation: a public or private channel, a DM (is_im) or a group DM (is_mpim)."""

    __tablename__ = "channels"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(250), default="")
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    is_im: Mapped[bool] = mapped_column(Boolean, default=False)
    is_mpim: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def kind(self) -> str:
        """Slack's conversation type: public_channel, private_channel, im or mpim."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        return "private_channel" if self.is_private else "public_channel"

    @property
    def event_channel_type(self) -> str:
        """`channel_type` in message events: channel, group, im or mpim."""
        return {"public_channel": "channel", "private_channel": "group"}.get(self.kind, self.kind)

    def as_slack(self, members: set[str], team: Team) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": self.kind == "public_channel",
            "is_group": self.kind == "private_channel",
            "is_private": self.kind != "public_channel",
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_archived": self.is_archived,
            "is_member": team.bot_user_id in members,
            "topic": {"value": self.topic},
            "num_members": len(members),
        }
        if self.is_im:
            others = sorted(members - {team.bot_user_id}) or sorted(members)
            shown["user"] = others[0] if others else None
            del shown["name"], shown["topic"], shown["num_members"]
        return shown


class Member(Base):
    __tablename__ = "members"
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(20), primary_key=True)


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
    # Other fields of the message as Slack keeps them (subtype, files, ...), for messages tests make.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def as_slack(self, reactions: list[dict[str, Any]], team: Team, *, with_metadata: bool = False) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "message", "user": self.user_id, "text": self.text, "ts": self.ts}
        blocks = json.loads(self.blocks)
        if blocks:
            message["blocks"] = blocks
        if self.user_id == team.bot_user_id:
            message["bot_id"] = team.bot_id
            message["app_id"] = team.app_id
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.edited:
            message["edited"] = {"user": self.user_id, "ts": self.ts}
        if reactions:
            message["reactions"] = reactions
        if with_metadata and self.meta:
            message["metadata"] = json.loads(self.meta)
        message.update(self.extra or {})
        return message


class Reaction(Base):
    __tablename__ = "reactions"
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[int] = mapped_column(Integer)  # order of arrival: Slack lists reactors in that order


class View(Base):
    """A modal on someone's screen (kind "modal", a stack per user) or their App Home (kind "home")."""

    __tablename__ = "views"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)  # JSON, as views.open got it plus ids Slack fills in
    position: Mapped[int] = mapped_column(Integer, default=0)  # in the user's modal stack
    channel_id: Mapped[str | None] = mapped_column(String(20), default=None)  # where it was opened from


class File(Base):
    """A file the app uploads (files.getUploadURLExternal): its bytes once POSTed to its upload URL,
    and where it was shared once files.completeUploadExternal finished it."""

    __tablename__ = "files"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    upload_token: Mapped[str] = mapped_column(String(64), unique=True)  # the secret part of its upload URL
    name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    length: Mapped[int] = mapped_column(Integer)  # as the app declared it
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # None until uploaded
    user_id: Mapped[str] = mapped_column(String(20))
    created: Mapped[int] = mapped_column(Integer)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(20), default=None)  # where it was shared
    ts: Mapped[str | None] = mapped_column(String(20), default=None)  # the message that shares it

    def as_slack(self, team: Team, files_url: str) -> dict[str, Any]:
        """Slack's file object, as a message that shares the file carries it."""
        download = f"{files_url}files/{self.id}/{self.name}"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": mimetypes.guess_type(self.name)[0] or "application/octet-stream",
            "filetype": self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary",
            "user": self.user_id,
            "user_team": team.id,
            "size": len(self.content or b""),
            "is_public": False,
            "url_private": download,
            "url_private_download": download,
            "permalink": f"{team.url}files/{self.user_id}/{self.id}/{self.name}",
        }


class Problem(Base):
    """Something Slack would have refused (Block Kit, arguments, scopes), shown on the page."""

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
    """The store plus a change counter. Call `changed()` after a write the page should see.

    `path` None keeps it in memory (the tests' double); a path keeps it in that SQLite file.
    """

    def __init__(self, path: Path | None, team: Team = SANDBOX, *, problems_kept: int = 50) -> None:
        self.team = team
        self.problems_kept = problems_kept
        if path is None:
            self.engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.RLock()
        self._changes = threading.Condition()
        self.version = 0
        self._last_ts = 0.0
        self._reaction_order = 0
        self.clock_offset = 0.0  # seconds ahead of real time
        self.outdated = False  # the file was made by an older sandbox and was started afresh
        self.fresh = self._prepare()

    def _prepare(self) -> bool:
        Base.metadata.create_all(self.engine)
        if self._stale_schema():
            self.outdated = True
            Base.metadata.drop_all(self.engine)
            Base.metadata.create_all(self.engine)
        with self.session() as session:
            fresh = self.get_setting(session, "schema") is None
            self.set_setting(session, "schema", SCHEMA_VERSION)
            latest = session.scalars(select(Message.ts).order_by(Message.id.desc()).limit(1)).first()
            self._last_ts = float(latest) if latest else 0.0
            self._reaction_order = max(session.scalars(select(Reaction.at)).all(), default=0)
            self.clock_offset = float(self.get_setting(session, CLOCK_SETTING) or 0)
        return fresh

    def _stale_schema(self) -> bool:
        with self.session() as session:
            return self.get_setting(session, "schema") not in (None, SCHEMA_VERSION)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One locked unit of work: committed at the end, rolled back on error."""
        with self._lock, self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def messages_from(self, user_id: str) -> int:
        """How many messages (ephemeral ones aside) a user or the app has posted, DMs included."""
        with self.session() as session:
            query = select(func.count()).select_from(Message).where(Message.user_id == user_id)
            return int(session.scalar(query.where(Message.visible_to.is_(None))) or 0)

    # -- change notification ----------------------------------------------------------------------

    def changed(self) -> None:
        with self._changes:
            self.version += 1
            self._changes.notify_all()

    def wait_for_change(self, since: int, timeout: float) -> int:
        with self._changes:
            self._changes.wait_for(lambda: self.version != since, timeout=timeout)
            return self.version

    # -- the clock --------------------------------------------------------------------------------

    def now(self) -> float:
        """The workspace's time (epoch seconds): real time plus the offset the sandbox moved it by."""
        return time.time() + self.clock_offset

    def move_clock(self, seconds: float) -> None:
        """Move the clock forward (never back: ts values only grow)."""
        with self.session() as session:
            self.clock_offset += max(seconds, 0.0)
            self.set_setting(session, CLOCK_SETTING, str(self.clock_offset))
        self.changed()

    def next_ts(self) -> str:
        """A message ts: the workspace's time in microseconds, strictly after the last one."""
        with self._lock:
            self._last_ts = max(round(self.now(), 6), round(self._last_ts + 0.000001, 6))
            return f"{self._last_ts:.6f}"

    # -- small helpers ---------------------------------------------------------------------------

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

    def add_reaction(self, session: Session, message_id: int, name: str, user_id: str) -> None:
        with self._lock:
            self._reaction_order += 1
            session.add(Reaction(message_id=message_id, name=name, user_id=user_id, at=self._reaction_order))

    def add_user(self, session: Session, user_id: str, name: str, **fields: Any) -> User:
        """A person (or a bot user); fields Slack's user object has beyond the columns go to `extra`."""
        columns = {key: value for key, value in fields.items() if key in USER_COLUMNS}
        columns.setdefault("real_name", name.title())
        extra = {key: value for key, value in fields.items() if key not in USER_COLUMNS}
        user = User(id=user_id, name=name, extra=extra, **columns)
        session.merge(user)
        session.flush()
        return user

    def update_user(self, session: Session, user_id: str, key: str, value: Any) -> None:
        user = session.get(User, user_id)
        if user is None:
            raise KeyError(user_id)
        if key in USER_COLUMNS:
            setattr(user, key, value)
        else:
            user.extra = {**(user.extra or {}), key: value}

    def add_channel(
        self, session: Session, channel_id: str, name: str, members: Iterable[str], **flags: Any
    ) -> Channel:
        """A conversation with its members (flags: topic, is_private, is_archived, is_im, is_mpim)."""
        channel = Channel(id=channel_id, name=name, **flags)
        session.add(channel)
        session.flush()
        session.add_all(Member(channel_id=channel_id, user_id=user_id) for user_id in set(members))
        session.flush()
        return channel

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
        extra: dict[str, Any] | None = None,
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
            extra=extra or {},
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
            channel = self.add_channel(session, channel_id, user_id, {user_id, self.team.bot_user_id}, is_im=True)
        return channel

    def group_dm_with(self, session: Session, user_ids: Iterable[str]) -> Channel:
        """The group DM of these people and the app: the same one each time for the same people."""
        people = sorted(set(user_ids))
        channel_id = "G" + hashlib.sha256(",".join(people).encode()).hexdigest()[:10].upper()
        channel = session.get(Channel, channel_id)
        if channel is None:
            name = "mpdm-" + "--".join(p.lower() for p in people) + "-1"
            channel = self.add_channel(session, channel_id, name[:80], {*people, self.team.bot_user_id}, is_mpim=True)
        return channel

    def record_problem(self, method: str, error: str, details: list[str]) -> None:
        with self.session() as session:
            session.add(Problem(method=method, error=error, details=json.dumps(details)))
            # Keep the page's list short: the newest are plenty to debug with.
            keep = select(Problem.id).order_by(Problem.id.desc()).limit(self.problems_kept).scalar_subquery()
            session.execute(delete(Problem).where(Problem.id.not_in(keep)))
        self.changed()


def accepted_view(view: dict[str, Any], team: Team, view_id: str | None = None) -> dict[str, Any]:
    """A view as Slack keeps it once accepted: with an id (a new one unless `view_id`), a hash, and a
    block_id / action_id wherever the app left one out."""
    view = {**view, "id": view_id or "V" + secrets.token_hex(5).upper(), "team_id": team.id, "app_id": team.app_id,
            "bot_id": team.bot_id, "hash": f"{int(time.time())}.{secrets.token_hex(4)}"}  # fmt: skip
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
