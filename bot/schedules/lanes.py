"""Scheduled posts handed to the poster threads as each workspace's pace allows: one lane per
workspace, so workspaces post in parallel.

A post goes to a thread only when one is free and its workspace has a free pacing slot
(bot/slack/pacing.py), and takes that slot then. So no thread sleeps on one workspace's next slot
while another workspace's post could go, and a workspace with many posts never makes the others
wait (in one queue, its posts would hold every thread, each sleeping for its turn: one workspace
after another). The claiming
(bot/schedules/claims.py) feeds the lanes while they are being posted from.

A post that met a 429 comes back `held` (bot/schedules/posting.py): its channel's slots (or its
workspace's) are held until the Retry-After has passed, and the post waits beside its lane until
then, to be handed to a thread again before the lane's next. Its thread is given back at once: no
thread waits out a Retry-After, and the lane's other channels go on meanwhile. The lane's later
posts for a held channel wait beside it too, taking no slot until the hold has passed. A hold
longer than the run waits for (`horizon`) leaves the held workspace's (or channel's) posts to a
later tick (`leave`), so the run returns.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from heapq import heapify, heappop, heappush
from itertools import count
from typing import Generic, TypeVar

from bot.schedules.results import Delivered
from bot.slack.pacing import PostPacer

Post = TypeVar("Post")  # what the poster needs of a claimed post (its id, and what it knew at the claim)


class Lanes(Generic[Post]):
    def __init__(
        self,
        pacer: PostPacer,
        submit: Callable[[Post, str, float], Future[Delivered]],
        threads: int,
        leave: Callable[[Post, str, float], Future[Delivered]] | None = None,
        horizon: float = float("inf"),
    ) -> None:
        # `submit(post, workspace, slot)` delivers one post in a poster thread, at its reserved slot;
        # `leave(post, workspace, seconds)` leaves it to a later tick: its workspace (or channel) is
        # held for `seconds`, more than the `horizon` this run waits for a hold.
        self.pacer = pacer
        self._submit = submit
        self._leave, self._horizon = leave, horizon
        # Slots are taken only for posts a thread can make at once: queued behind busy threads, they
        # would go out late and together, over Slack's limit.
        self._threads_free = threading.Semaphore(threads)
        self._lanes: dict[str, deque[tuple[int, Post, str]]] = {}  # (order added, post, channel)
        # Held posts (a 429) by workspace, first the one free first, then the one added first:
        # (free at, order added, post, channel).
        self._held: dict[str, list[tuple[float, int, Post, str]]] = {}
        self._order = count()
        self._closed = False
        self._in_flight = 0  # handed to a thread and not finished: may come back (held)
        self._changed = threading.Condition()
        self.futures: list[Future[Delivered]] = []

    def add(self, post: Post, team_id: str, channel_id: str) -> None:
        with self._changed:
            self._lanes.setdefault(team_id, deque()).append((next(self._order), post, channel_id))
            self._changed.notify()

    def close(self) -> None:
        """Nothing more will be added: `dispatch` returns once every lane is empty and every post
        handed out is finished (one that comes back held is handed out again)."""
        with self._changed:
            self._closed = True
            self._changed.notify()

    def dispatch(self) -> None:
        """Hand each lane's posts to the threads as its workspace's slots come free, until closed
        and empty (run in a thread of its own while the posts are being claimed)."""
        with self._changed:
            while True:
                wake: float | None = None  # the next slot of a lane waiting on its pace
                waiting = False  # a lane whose slot is free, waiting for a thread
                for team_id, lane in self._lanes.items():  # (a held post came from its workspace's lane)
                    now = self.pacer.now()
                    self._leave_long_holds(team_id, lane)
                    self._set_aside_held_channels(team_id, lane, now)
                    held = self._held.get(team_id, [])
                    if not lane and not held:
                        continue
                    again = bool(held) and held[0][0] <= now
                    if self.pacer.free_at(team_id) <= now and (again or lane):
                        if not self._take_thread():
                            # Woken when a thread is freed (not polled: spinning here took the
                            # CPU the poster threads needed).
                            waiting = True
                            continue
                        if again:
                            _, order, post, channel_id = heappop(held)
                        else:
                            order, post, channel_id = lane.popleft()
                        future = self._submit(post, team_id, self.pacer.reserve(channel_id, team_id))
                        self._in_flight += 1
                        future.add_done_callback(partial(self._thread_freed, team_id, (order, post, channel_id)))
                        self.futures.append(future)
                    free = self.pacer.free_at(team_id)
                    held = self._held.get(team_id, [])  # (again: a post that came back at once)
                    if lane:
                        wake = free if wake is None else min(wake, free)
                    if held:
                        ready = max(free, held[0][0])
                        wake = ready if wake is None else min(wake, ready)
                if self._closed and wake is None and not waiting and not self._in_flight:
                    return
                self._changed.wait(None if wake is None else max(wake - self.pacer.now(), 0.0))

    def _leave_long_holds(self, team_id: str, lane: deque[tuple[int, Post, str]]) -> None:
        """Posts whose workspace (or channel) is held longer than this run waits are left to a later
        tick, not waited for here: the run would last the whole Retry-After."""
        if self._leave is None:
            return
        leaving: list[tuple[Post, float]] = []
        while lane and (wait := self.pacer.held_for(team_id, lane[0][2])) > self._horizon:
            leaving.append((lane.popleft()[1], wait))
        held = self._held.get(team_id, [])
        kept = []
        for entry in held:
            if (wait := self.pacer.held_for(team_id, entry[3])) > self._horizon:
                leaving.append((entry[2], wait))
            else:
                kept.append(entry)
        if len(kept) < len(held):
            heapify(kept)
            self._held[team_id] = kept
        for post, wait in leaving:
            self.futures.append(self._leave(post, team_id, wait))

    def _set_aside_held_channels(self, team_id: str, lane: deque[tuple[int, Post, str]], now: float) -> None:
        """The lane's next posts for a channel held after a 429 wait beside the lane with its held
        post, taking no slot: a slot taken now would be at the hold's end, and the workspace's
        slots after it would hold the lane's other channels as long."""
        while lane and self.pacer.channel_held_until(team_id, lane[0][2]) > now:
            order, post, channel_id = lane.popleft()
            free_at = self.pacer.channel_free_at(team_id, channel_id)
            heappush(self._held.setdefault(team_id, []), (free_at, order, post, channel_id))

    def _take_thread(self) -> bool:
        return self._threads_free.acquire(blocking=False)

    def _thread_freed(self, team_id: str, post: tuple[int, Post, str], done: Future[Delivered]) -> None:
        held = not done.cancelled() and done.exception() is None and done.result().held
        with self._changed:
            if held:  # rate limited: handed out again once its channel's (or workspace's) hold ends
                free_at = self.pacer.channel_free_at(team_id, post[2])
                heappush(self._held.setdefault(team_id, []), (free_at, *post))
            self._in_flight -= 1
            self._threads_free.release()
            self._changed.notify()
