"""Sending someone a file in their DM with the app, once per request however often the job runs.

The file is written to a spooled temporary file (in memory up to SPOOL_BYTES, on disk past that) and
uploaded from there in blocks, so an export of any size is never held in memory whole. The delivery
is a row under the request's key: Slack's file id is recorded before the file is shared, and a
rerun that finds it looks for that file in the DM instead of sharing a second one.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from bot.services import Services
from bot.slack.conversations import open_group
from bot.slack.results import Failed, Uploaded
from storage import people_data as queries

log = logging.getLogger(__name__)

SPOOL_BYTES = 1024 * 1024  # a file larger than this is written to disk before it is uploaded


@dataclass(frozen=True)
class Delivered:
    file_id: str
    channel: str  # the person's DM with the app
    again: bool = False  # an earlier run of the same request had sent it already


@dataclass(frozen=True)
class FileToSend:
    kind: str  # export | my_data
    filename: str
    title: str
    comment: str  # the DM's text above the file
    write: Callable[[BinaryIO], None]  # writes the file's bytes


def deliver(services: Services, *, team_id: str, user_id: str, key: str, file: FileToSend) -> Delivered | Failed:
    """Write `file` and share it in the person's DM with the app, once for the request `key`."""
    with services.db.transaction() as session:
        delivery = queries.claim_delivery(session, team_id, key, user_id, file.kind, services.clock())
        earlier_file, earlier_channel, shared = delivery.file_id, delivery.channel_id, delivery.shared_at
    if shared is not None and earlier_file and earlier_channel:
        return Delivered(earlier_file, earlier_channel, again=True)
    channel = open_group(services.slack, [user_id])
    if isinstance(channel, Failed):
        return channel
    if earlier_file:  # an earlier run had Slack name the file: it may have shared it before it died
        found = services.slack.find_upload(channel, earlier_file)
        if isinstance(found, Failed):
            return found  # cannot tell: better not sent now than sent twice
        if isinstance(found, Uploaded):
            _record(services, team_id, key, found, shared=True)
            return Delivered(found.file_id, found.channel, again=True)

    def ticketed(file_id: str) -> None:
        _record(services, team_id, key, Uploaded(file_id, channel), shared=False)

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        file.write(spool)  # type: ignore[arg-type]
        length = spool.tell()
        uploaded = services.slack.upload_file(
            channel, spool, length,  # type: ignore[arg-type]
            filename=file.filename, title=file.title, comment=file.comment, ticketed=ticketed,
        )  # fmt: skip
    if isinstance(uploaded, Failed):
        log.warning("file not delivered team=%s user=%s kind=%s error=%s", team_id, user_id, file.kind, uploaded.error)
        return uploaded
    _record(services, team_id, key, uploaded, shared=True)
    log.info(
        "file delivered team=%s user=%s kind=%s file=%s bytes=%s", team_id, user_id, file.kind, uploaded.file_id, length
    )
    return Delivered(uploaded.file_id, uploaded.channel)


def _record(services: Services, team_id: str, key: str, file: Uploaded, *, shared: bool) -> None:
    with services.db.transaction() as session:
        queries.note_delivery(
            session, team_id, key, file_id=file.file_id, channel_id=file.channel,
            shared_at=services.clock() if shared else None,
        )  # fmt: skip


def failure_text(error: str, what: str) -> str:
    """What the person reads when `what` ("your export") could not be sent."""
    reasons = {
        "ratelimited": "Slack is rate-limiting me right now",
        "not_in_channel": "I can't post in our DM",
        "channel_not_found": "I can't open a DM with you",
        "cannot_dm_bot": "I can't open a DM with you",
        "messages_tab_disabled": "this workspace turned off direct messages from apps",
        "file_uploads_disabled": "this workspace doesn't allow file uploads",
        "storage_limit_reached": "this workspace's file storage is full",
        "missing_scope": "my permissions are missing `files:write` (ask an admin to reinstall me)",
    }
    if error.startswith("http_5") or error == "connection_failed":
        reason = "Slack didn't answer in time"
    else:
        reason = reasons.get(error, f"Slack refused it (`{error}`)")
    return f":warning: I couldn't send {what}: {reason}. Nothing was sent; please try again in a few minutes."
