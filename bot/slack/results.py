"""What a Slack call gives back. One convention for every call of the gateway:

- a call that produces something returns that thing or `Failed` (`post` → `Posted | Failed`,
  `upload_file` → `Uploaded | Failed`, `permalink` → `str | Failed`, `channel_info` → `Message | Failed`);
- a call that only acts returns `Failed | None`: None when it was done (`update`, `join`,
  `open_view`, `add_reaction`, ...);
- a lookup that may find nothing returns what it found, `None` when there is nothing, and `Failed`
  when Slack could not be asked (`find_by_metadata` → `Posted | Failed | None`).

`Failed` carries Slack's error code; an error code never shares a type with a found value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackClientError

Message = dict[str, Any]


@dataclass(frozen=True)
class Posted:
    """A message in Slack: one just posted, or one found there."""

    channel: str
    ts: str


@dataclass(frozen=True)
class Uploaded:
    """A file shared in a conversation: one just uploaded, or one found there."""

    file_id: str
    channel: str


@dataclass(frozen=True)
class Failed:
    error: str  # Slack's error code, e.g. channel_not_found, is_archived, ratelimited


def error_code(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        return str(code or f"http_{error.response.status_code}")
    return "connection_failed"


# Failures of a single call that are Slack's answer rather than our bug.
CALL_ERRORS = (SlackApiError, SlackClientError, URLError, TimeoutError, ConnectionError)
