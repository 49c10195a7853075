"""Slack's file upload flow, step by step (files.upload is retired):

1. `files.getUploadURLExternal(filename, length)` gives an upload URL and a file id;
2. the bytes are POSTed to that URL (no token: the URL is the ticket), streamed from the file;
3. `files.completeUploadExternal(files=[{id, title}], channel_id, initial_comment)` shares it.

Step 1 is retried by the client like any call. Step 2 is ours: a 429 (after Retry-After), a 5xx or a
connection error is tried again, sending the same bytes to the same URL, which replaces them; in a
job (deferring, bot/slack/ratelimits.py) a 429 raises RateLimited instead, and the job goes back to
the queue for the Retry-After rather than holding its thread. Step 3
posts a message: after a dropped connection or a 5xx Slack may have shared the file already, so the
gateway looks for it in the conversation before completing again (bot/slack/gateway.py).
"""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

from slack_sdk import WebClient

from bot.slack.acting import current_team
from bot.slack.ratelimits import RateLimited, deferring
from bot.slack.results import CALL_ERRORS, Failed, Uploaded, error_code

log = logging.getLogger(__name__)

SEND_DELAYS = (0.5, 1.0, 2.0)  # seconds before each new try of step 2
SEND_TIMEOUT = 60.0  # seconds without progress before a try of step 2 gives up
MAX_RETRY_AFTER = 30.0  # a longer Retry-After is not waited for inside a job


@dataclass(frozen=True)
class UploadTicket:
    file_id: str
    url: str


def ticket(client: WebClient, filename: str, length: int) -> UploadTicket | Failed:
    """Step 1: where to send `length` bytes named `filename`."""
    try:
        answer = client.files_getUploadURLExternal(filename=filename, length=length)
    except CALL_ERRORS as error:
        return Failed(error_code(error))
    file_id, url = answer.get("file_id"), answer.get("upload_url")
    if not isinstance(file_id, str) or not isinstance(url, str) or urlparse(url).scheme not in ("https", "http"):
        return Failed("invalid_upload_url")
    return UploadTicket(file_id, url)


def send(
    ticket: UploadTicket,
    content: BinaryIO,
    length: int,
    *,
    delays: Sequence[float] = SEND_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = SEND_TIMEOUT,
) -> Failed | None:
    """Step 2: POST the bytes, read from `content` in blocks (never held in memory whole)."""
    for attempt in range(len(delays) + 1):
        content.seek(0)
        request = urllib.request.Request(  # noqa: S310 - the http(s) URL Slack gave in step 1
            ticket.url,
            data=content,
            method="POST",
            headers={"Content-Length": str(length), "Content-Type": "application/octet-stream"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                answer.read()
            return None
        except HTTPError as error:
            if error.code != 429 and error.code < 500:
                return Failed(f"http_{error.code}")  # Slack refused the upload itself: trying again won't help
            code = "ratelimited" if error.code == 429 else f"http_{error.code}"
            wait = _retry_after(error) if error.code == 429 else None
            if wait is not None and deferring():
                raise RateLimited("upload", wait, current_team()) from error
        except (URLError, TimeoutError, ConnectionError, OSError):
            code, wait = "connection_failed", None
        if attempt == len(delays):
            break
        log.info("upload file=%s try %s failed (%s); trying again", ticket.file_id, attempt + 1, code)
        sleep(delays[attempt] if wait is None else wait)
    log.warning("upload file=%s failed after %s tries: %s", ticket.file_id, len(delays) + 1, code)
    return Failed(code)


def complete(client: WebClient, ticket: UploadTicket, channel: str, title: str, comment: str) -> Uploaded:
    """Step 3: share the uploaded file in `channel` with `comment`; raises Slack's error."""
    client.files_completeUploadExternal(
        files=[{"id": ticket.file_id, "title": title}], channel_id=channel, initial_comment=comment
    )
    return Uploaded(ticket.file_id, channel)


def find(client: WebClient, channel: str, file_id: str) -> Uploaded | Failed | None:
    """The message among the conversation's latest 100 that shares `file_id`; None when none does."""
    try:
        history = client.conversations_history(channel=channel, limit=100)
    except CALL_ERRORS as error:
        log.warning("upload check failed channel=%s error=%s", channel, error_code(error))
        return Failed(error_code(error))
    for message in history.get("messages") or []:
        if any(isinstance(f, dict) and f.get("id") == file_id for f in message.get("files") or []):
            return Uploaded(file_id, channel)
    return None


def _retry_after(error: HTTPError) -> float:
    value = str(error.headers.get("Retry-After") or "")
    return min(float(value), MAX_RETRY_AFTER) if value.isascii() and value.isdigit() else SEND_DELAYS[0]
