"""What the page shows one person: their conversations, the open one's messages, thread, modal, App Home."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox.client import SLACKBOT
from sandbox.manifest import Manifest
from sandbox.workspace import BOT_USER_ID, Channel, Member, Message, Problem, User, View, Workspace

MESSAGES_SHOWN = 200


def page_state(
    workspace: Workspace,
    manifest: Manifest,
    *,
    user_id: str,
    channel_id: str | None,
    thread_ts: str | None,
    clock: dict[str, Any],
) -> dict[str, Any]:
    with workspace.session() as session:
        users = list(session.scalars(select(User).order_by(User.is_bot, User.real_name)))
        names = {user.id: user.real_name for user in users}
        names[SLACKBOT] = "Slackbot"
        people = [u for u in users if not u.is_bot]
        if user_id not in {u.id for u in people} and people:
            user_id = people[0].id
        mine = set(session.scalars(select(Member.channel_id).where(Member.user_id == user_id)))
        channels = []
        conversations = select(Channel).where(Channel.is_im.is_(False), Channel.is_mpim.is_(False))
        for channel in session.scalars(conversations.order_by(Channel.name)):
            if channel.is_private and channel.id not in mine:
                continue
            members = workspace.members(session, channel.id)
            channels.append(
                {
                    "id": channel.id,
                    "name": channel.name,
                    "topic": channel.topic,
                    "is_private": channel.is_private,
                    "is_archived": channel.is_archived,
                    "is_member": channel.id in mine,
                    "app_is_member": BOT_USER_ID in members,
                }
            )
        # Group DMs this person is in (a pairing round's, for one): listed under Direct messages.
        group_dms = select(Channel).where(Channel.is_mpim.is_(True), Channel.id.in_(mine))
        for channel in session.scalars(group_dms.order_by(Channel.id)):
            members = workspace.members(session, channel.id)
            others = sorted(names.get(m, m) for m in members if m not in (user_id, BOT_USER_ID))
            channels.append(
                {
                    "id": channel.id,
                    "name": ", ".join(others),
                    "topic": "Group DM",
                    "is_private": True,
                    "is_archived": False,
                    "is_member": True,
                    "app_is_member": BOT_USER_ID in members,
                    "is_group_dm": True,
                }
            )
        app_dm = workspace.im_with(session, user_id) if people else None
        if channel_id == "@app" and app_dm is not None:  # the page's name for this person's DM with the app
            channel_id = app_dm.id
        visible = {c["id"] for c in channels} | ({app_dm.id} if app_dm else set())
        if channel_id not in visible:
            channel_id = str(channels[0]["id"]) if channels else None
        messages: list[dict[str, Any]] = []
        thread: list[dict[str, Any]] = []
        if channel_id:
            messages = _messages(workspace, session, channel_id, user_id, names, thread_ts=None)
            if thread_ts:
                thread = _messages(workspace, session, channel_id, user_id, names, thread_ts=thread_ts)
        modal = session.scalars(
            select(View).where(View.user_id == user_id, View.kind == "modal").order_by(View.position.desc())
        ).first()
        home = session.scalars(select(View).where(View.user_id == user_id, View.kind == "home")).first()
        problems = session.scalars(select(Problem).order_by(Problem.id.desc()).limit(20)).all()
        return {
            "version": workspace.version,
            "clock": clock,
            "me": user_id,
            "users": [
                {
                    "id": u.id,
                    "name": u.name,
                    "real_name": u.real_name,
                    "title": u.title,
                    "tz": u.tz,
                    "is_admin": u.is_admin,
                    "is_bot": u.is_bot,
                }
                for u in users
            ],
            "channels": channels,
            "app_dm": app_dm.id if app_dm else None,
            "channel": channel_id,
            "messages": messages,
            "thread_ts": thread_ts if thread else None,
            "thread": thread,
            "modal": None if modal is None else {"id": modal.id, "view": json.loads(modal.body)},
            "home": None if home is None else {"id": home.id, "view": json.loads(home.body)},
            "problems": [
                {
                    "id": p.id,
                    "at": p.at.isoformat(timespec="seconds") + "Z",
                    "method": p.method,
                    "error": p.error,
                    "details": json.loads(p.details),
                }
                for p in problems
            ],
            "manifest": manifest.as_json(),
        }


def _messages(
    workspace: Workspace,
    session: Session,
    channel_id: str,
    user_id: str,
    names: dict[str, str],
    *,
    thread_ts: str | None,
) -> list[dict[str, Any]]:
    query = select(Message).where(
        Message.channel_id == channel_id, (Message.visible_to.is_(None)) | (Message.visible_to == user_id)
    )
    if thread_ts is None:
        query = query.where((Message.thread_ts.is_(None)) | (Message.thread_ts == Message.ts))
    else:
        query = query.where((Message.ts == thread_ts) | (Message.thread_ts == thread_ts))
    rows = list(reversed(session.scalars(query.order_by(Message.id.desc()).limit(MESSAGES_SHOWN)).all()))
    reactions = workspace.reactions(session, [row.id for row in rows])
    reply_counts: dict[str, int] = {}
    if thread_ts is None and rows:
        counted = session.execute(
            select(Message.thread_ts, func.count())
            .where(Message.channel_id == channel_id, Message.thread_ts.is_not(None), Message.thread_ts != Message.ts)
            .where(Message.visible_to.is_(None))
            .group_by(Message.thread_ts)
        )
        reply_counts = {str(ts): int(count) for ts, count in counted}
    shown = []
    for row in rows:
        shown.append(
            {
                "ts": row.ts,
                "user": row.user_id,
                "user_name": names.get(row.user_id, row.user_id),
                "is_app": row.user_id == BOT_USER_ID,
                "text": row.text,
                "blocks": json.loads(row.blocks),
                "thread_ts": row.thread_ts,
                "reply_count": reply_counts.get(row.ts, 0),
                "ephemeral": row.visible_to is not None,
                "edited": row.edited,
                "files": _files(row),
                "reactions": [
                    {
                        "name": r["name"],
                        "count": r["count"],
                        "mine": user_id in r["users"],
                        "users": [names.get(u, u) for u in r["users"]],
                    }
                    for r in reactions.get(row.id, [])
                ],
            }
        )
    return shown


def _files(message: Message) -> list[dict[str, Any]]:
    """The files a message shares, each with the page's own link that downloads it."""
    shared = (message.extra or {}).get("files") or []
    return [
        {"name": f.get("name"), "title": f.get("title"), "url": f"/files/{f.get('id')}/{quote(str(f.get('name')))}"}
        for f in shared
        if isinstance(f, dict)
    ]
