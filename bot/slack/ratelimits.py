"""Slack's 429s where threads are shared between workspaces: given back, not slept on.

The scheduler's poster threads and the job worker's threads serve every workspace. Had a thread
slept out one workspace's `Retry-After` (slack_sdk's RateLimitErrorRetryHandler does), a burst of
that workspace's 429s would hold every thread and the other workspaces' posts and jobs would wait
behind it. So work run there says so (`with deferring_rate_limits():`); its Slack calls are then not
retried on a 429 but raise `RateLimited`, which no gateway turns into a `Failed`: it reaches the
poster or the worker, which holds that workspace until the `Retry-After` has passed, puts the post
or job back with that not-before time (a retry that counts as no failure) and takes the next one.

Elsewhere (the web app's acks, the scheduler's rounds and keepers) a 429 is still retried inside
the client after `Retry-After` (bot/slack/client.py): see there why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from slack_sdk.errors import SlackApiError

from bot.slack.acting import current_team

DEFAULT_RETRY_AFTER = 1.0  # a 429 that names no Retry-After (Slack always sends one)
_deferring: ContextVar[bool] = ContextVar("peerlearn_defer_rate_limits", default=False)


class RateLimited(Exception):
    """Slack answered 429: this workspace waits `retry_after` seconds before its next call.

    Not a SlackClientError, so no `except CALL_ERRORS` takes it for a failed call: it travels up to
    whoever gave the thread its work."""

    def __init__(self, method: str, retry_after: float, team_id: str | None) -> None:
        super().__init__(f"{method} rate limited for team={team_id}: retry after {retry_after:g} s")
        self.method = method
        self.retry_after = retry_after
        self.team_id = team_id


@contextmanager
def deferring_rate_limits() -> Iterator[None]:
    """Slack calls made inside (in this thread) raise RateLimited on a 429 instead of sleeping."""
    reset = _deferring.set(True)
    try:
        yield
    finally:
        _deferring.reset(reset)


def deferring() -> bool:
    return _deferring.get()


def retry_after(error: BaseException) -> float | None:
    """How long Slack asked to wait, if `error` is a 429 (RateLimited, or slack_sdk's error); else None."""
    if isinstance(error, RateLimited):
        return error.retry_after
    if isinstance(error, SlackApiError) and int(error.response.status_code) == 429:
        return _seconds(error.response.headers)
    return None


def as_rate_limited(error: SlackApiError, method: str) -> RateLimited | None:
    """A 429 met while deferring, as RateLimited; None for any other error (or not deferring)."""
    if not deferring() or int(error.response.status_code) != 429:
        return None
    return RateLimited(method, _seconds(error.response.headers), current_team())


def _seconds(headers: object) -> float:
    found = None
    if isinstance(headers, dict):
        for name, value in headers.items():
            if str(name).lower() == "retry-after":
                found = value[0] if isinstance(value, list | tuple) and value else value
    text = str(found or "").strip()
    try:
        seconds = float(text)
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return seconds if 0 <= seconds < 86400 else DEFAULT_RETRY_AFTER
