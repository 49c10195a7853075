"""Client-side pacing of channel posts, so bulk posting stays under Slack's limits instead of
bouncing off them: chat.postMessage allows about one message per second per channel, with a
workspace-wide ceiling on top. 429s that still happen are retried by the WebClient (Retry-After).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class PostPacer:
    def __init__(
        self,
        per_workspace_per_second: float = 20.0,
        per_channel_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._team_gap = 1.0 / per_workspace_per_second
        self._channel_gap = per_channel_interval
        self._clock, self._sleep = clock, sleep
        self._team_next: dict[str, float] = {}
        self._channel_next: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def wait(self, team_id: str, channel_id: str) -> None:
        """Block until this post's reserved slot; slots are handed out in call order."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._team_next.get(team_id, now), self._channel_next.get((team_id, channel_id), now))
            self._team_next[team_id] = slot + self._team_gap
            self._channel_next[(team_id, channel_id)] = slot + self._channel_gap
        if slot > now:
            self._sleep(slot - now)
