"""Client-side pacing of posts, so bulk posting stays under Slack's limits instead of bouncing off
them: chat.postMessage allows about one message per second per channel, with a workspace-wide
ceiling on top. Each workspace has its own slots (the one acted for, bot/slack/acting.py), so one
workspace's posts and 429s never hold up another's: workspaces post in parallel.

A 429 met by a scheduled post (`rate_limited`) holds that channel's slots until its `Retry-After`
has passed; a second 429 in the same workspace while the first one's is running, with no post
accepted there in between (`accepted`), says the limit is the workspace's, and holds all of its
slots. Never another workspace's. (Holding the whole workspace at every 429 would let one refused
post stop its workspace's other channels: with 2% of posts refused at random, 1,000 posts took 1.5x
the time Slack's limits allow, against 1.12x before, bench/posting.py.)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.slack.acting import current_team


class PostPacer:
    def __init__(
        self,
        per_workspace_per_second: float = 18.0,
        per_channel_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._workspace_gap = 1.0 / per_workspace_per_second
        self._channel_gap = per_channel_interval
        self._clock, self._sleep = clock, sleep
        self._workspace_next: dict[str | None, float] = {}
        self._channel_next: dict[tuple[str | None, str], float] = {}
        self._held_until: dict[str | None, float] = {}  # after 429s, by workspace
        self._channel_held: dict[tuple[str | None, str], float] = {}  # after a 429, by channel
        self._limited_until: dict[str | None, float] = {}  # the latest 429's Retry-After, by workspace
        self._lock = threading.Lock()

    def wait(self, channel_id: str) -> None:
        """Block until this post's reserved slot in its workspace; slots are handed out in call order."""
        self.sleep_until(self.reserve(channel_id))

    def reserve(self, channel_id: str, team_id: str | None = None) -> float:
        """Take the next slot for a post in this channel of this workspace (by default the one acted for)."""
        team_id = current_team() if team_id is None else team_id
        channel = (team_id, channel_id)
        with self._lock:
            now = self._clock()
            slot = max(now, self._workspace_next.get(team_id, now), self._channel_next.get(channel, now))
            self._workspace_next[team_id] = slot + self._workspace_gap
            self._channel_next[channel] = slot + self._channel_gap
        return slot

    def hold(self, team_id: str | None, seconds: float) -> float:
        """Slack answered this workspace 429: none of its slots before `seconds` from now; when that is."""
        with self._lock:
            until = self._clock() + seconds
            self._held_until[team_id] = max(self._held_until.get(team_id, until), until)
            self._workspace_next[team_id] = max(self._workspace_next.get(team_id, until), until)
            return self._workspace_next[team_id]

    def rate_limited(self, team_id: str | None, channel_id: str | None, seconds: float) -> bool:
        """Slack answered a post in this channel (None: a call for no one channel) 429: its slots
        are held for `seconds`, and the whole workspace's if another 429's hold is still running
        there with no post accepted since (or no channel is known). True when the workspace is held."""
        with self._lock:
            now = self._clock()
            until = now + seconds
            whole = channel_id is None or self._limited_until.get(team_id, float("-inf")) > now
            self._limited_until[team_id] = max(self._limited_until.get(team_id, until), until)
            if channel_id is not None:
                channel = (team_id, channel_id)
                self._channel_held[channel] = max(self._channel_held.get(channel, until), until)
                self._channel_next[channel] = max(self._channel_next.get(channel, until), until)
        if whole:
            self.hold(team_id, seconds)
        return whole

    def accepted(self, team_id: str | None) -> None:
        """Slack took a post of this workspace: a 429 before it was its channel's, not the workspace's."""
        with self._lock:
            self._limited_until.pop(team_id, None)

    def held_for(self, team_id: str | None, channel_id: str | None = None) -> float:
        """Seconds this workspace (or this channel of it) is still held after a 429 (0: not held)."""
        with self._lock:
            until = self._held_until.get(team_id, float("-inf"))
            if channel_id is not None:
                until = max(until, self._channel_held.get((team_id, channel_id), float("-inf")))
            return max(until - self._clock(), 0.0)

    def channel_held_until(self, team_id: str | None, channel_id: str) -> float:
        """When this channel's own hold after a 429 ends (its workspace's aside; past: not held)."""
        with self._lock:
            return self._channel_held.get((team_id, channel_id), float("-inf"))

    def channel_free_at(self, team_id: str | None, channel_id: str) -> float:
        """When this channel's next slot is free (its workspace's aside)."""
        with self._lock:
            return self._channel_next.get((team_id, channel_id), float("-inf"))

    def free_at(self, team_id: str | None) -> float:
        """When this workspace's next slot is free (now or earlier: free)."""
        with self._lock:
            return self._workspace_next.get(team_id, float("-inf"))

    def now(self) -> float:
        return self._clock()

    def sleep_until(self, slot: float) -> None:
        if (ahead := slot - self._clock()) > 0:
            self._sleep(ahead)


class PacedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """After Slack's Retry-After, a retried call takes a fresh pacer slot like any other post.

    Retrying outside the pacer pushes the rate over the limit and sets off more 429s: measured
    ~200 refusals per 1,000 posts from 19 injected ones (bench/posting.py).
    """

    def __init__(self, pacer: PostPacer, max_retry_count: int = 3) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)
        self.pacer.wait(_channel_of(request))


def _channel_of(request: HttpRequest) -> str:
    if request.body_params and request.body_params.get("channel"):
        return str(request.body_params["channel"])
    try:
        body: Any = json.loads(request.data or b"{}")
    except ValueError:
        return ""
    return str(body.get("channel") or "") if isinstance(body, dict) else ""
