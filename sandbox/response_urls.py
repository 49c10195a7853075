"""response_urls: where the app answers a command, a shortcut or a button later, as Slack keeps them.

Each is good for 5 answers within 30 minutes. An answer becomes an ephemeral message for the person,
a message for everyone (`response_type: in_channel`), or replaces or deletes the message the button
was in. Kept in memory: after a sandbox restart an old one answers `expired_url`, as a very late one
would on Slack.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from sandbox.block_kit import block_kit_problems
from sandbox.workspace import Message, Workspace

LIFETIME = 30 * 60  # seconds
USES = 5


@dataclass
class ResponseTarget:
    user_id: str
    channel_id: str
    message_ts: str | None  # the message a button was clicked in, for replace_original / delete_original
    thread_ts: str | None
    issued: float
    uses: int = 0


class ResponseUrls:
    def __init__(self, workspace: Workspace, base_url: str) -> None:
        self.workspace = workspace
        self.base_url = base_url.rstrip("/")
        self._targets: dict[str, ResponseTarget] = {}
        self._lock = threading.Lock()

    def issue(self, user_id: str, channel_id: str, message_ts: str | None, *, thread_ts: str | None) -> str:
        token = secrets.token_urlsafe(18)
        with self._lock:
            now = time.time()
            self._targets = {k: v for k, v in self._targets.items() if now - v.issued < LIFETIME}
            self._targets[token] = ResponseTarget(user_id, channel_id, message_ts, thread_ts, now)
        return f"{self.base_url}/response/{token}"

    def knows(self, token: str) -> bool:
        with self._lock:
            return token in self._targets

    def respond(self, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The app POSTed `body` to a response_url: the HTTP status and JSON Slack would answer."""
        with self._lock:
            target = self._targets.get(token)
            if target is None or time.time() - target.issued > LIFETIME:
                return 404, {"ok": False, "error": "expired_url"}
            if target.uses >= USES:
                return 404, {"ok": False, "error": "used_url"}
            target.uses += 1
        refused = refusal(self.workspace, body)
        if refused is not None:
            return refused
        blocks = body.get("blocks")
        with self.workspace.session() as session:
            original = None
            if target.message_ts:
                original = session.scalars(
                    select(Message).where(Message.channel_id == target.channel_id, Message.ts == target.message_ts)
                ).first()
            if body.get("delete_original"):
                if original is not None:
                    session.delete(original)
            elif original is not None and body.get("replace_original"):
                original.text = body.get("text") or original.text
                original.blocks = json.dumps(blocks or [])
                original.edited = True
            else:
                in_channel = body.get("response_type") == "in_channel"
                self.workspace.add_message(
                    session,
                    target.channel_id,
                    self.workspace.team.bot_user_id,
                    body.get("text") or "",
                    blocks=blocks,
                    thread_ts=body.get("thread_ts") or (target.thread_ts if in_channel else None),
                    visible_to=None if in_channel else target.user_id,
                )
        self.workspace.changed()
        return 200, {"ok": True}


def refusal(workspace: Workspace, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """How Slack refuses a response_url body (status, JSON), or None when it takes it. A refusal for
    Block Kit is recorded as a problem, as the Web API's are."""
    blocks = body.get("blocks")
    if blocks is not None:
        problems = block_kit_problems(blocks, 50)
        if problems:
            workspace.record_problem("response_url", "invalid_blocks", problems)
            return 400, {"ok": False, "error": "invalid_blocks", "errors": problems}
    if not body.get("text") and not blocks and not body.get("delete_original"):
        workspace.record_problem("response_url", "no_text", ["a response needs text or blocks"])
        return 400, {"ok": False, "error": "no_text"}
    return None
