"""Short leases, kept alive by a heartbeat while their work runs.

A process claims a row (a job, a scheduled post, a circle round being opened, the scheduler's
leadership) for a short lease naming itself as holder. While it holds rows, a heartbeat thread
renews all of them every third of the lease: one UPDATE per kind of row, compare-and-set on the
holder. So a live process keeps work that runs far longer than the lease (a 500-member round), and a
dead one's leases run out within one lease, after which the work is claimed again.

A row that a beat could not renew is dropped from the beat: its work finished (or gave the row up)
meanwhile, or, rarely, the lease ran out first and another process took it over. The work's own
compare-and-set when it settles tells those apart.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from storage.models import utcnow

if TYPE_CHECKING:
    from storage.db import Database

log = logging.getLogger(__name__)

# Jobs: a dead worker's jobs run again within this (plus a poll); live workers renew every 10 s.
JOB_LEASE = timedelta(seconds=30)
# The scheduler ticks every 30 s: a dead scheduler's leadership and claimed posts and rounds run out
# within 20 s, and the next tick of another resumes them, within 50 s of the death.
SCHEDULER_LEASE = timedelta(seconds=20)

# renew(session, holder, keys, until): extend those of `keys` still held by `holder` to `until`;
# returns the keys renewed.
Renew = Callable[[Session, str, list[Hashable], datetime], Collection[Hashable]]


def process_name() -> str:
    """Names this process in lease columns, so an operator can tell who holds what."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Heartbeat:
    def __init__(
        self,
        db: Database,
        holder: str | None = None,
        *,
        lease: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.holder = holder or process_name()
        self.lease = lease
        self.clock = clock
        self.interval = lease.total_seconds() / 3  # two beats may fail before a lease runs out
        self._held: dict[Renew, set[Hashable]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def until(self, now: datetime) -> datetime:
        """The expiry of a lease taken or renewed at `now`."""
        return now + self.lease

    def hold(self, renew: Renew, key: Hashable) -> None:
        """Keep renewing `key`'s lease (claimed by this holder) until `release`."""
        with self._lock:
            self._held.setdefault(renew, set()).add(key)
            if self._thread is None:  # the thread runs while anything is held
                self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.holder}", daemon=True)
                self._thread.start()

    def release(self, renew: Renew, key: Hashable) -> None:
        with self._lock:
            self._held.get(renew, set()).discard(key)

    @contextmanager
    def holding(self, renew: Renew, key: Hashable) -> Iterator[None]:
        self.hold(renew, key)
        try:
            yield
        finally:
            self.release(renew, key)

    def holds(self, renew: Renew, key: Hashable) -> bool:
        """Whether `key`'s lease is still this holder's (a beat drops what the database says it lost)."""
        with self._lock:
            return key in self._held.get(renew, ())

    def held(self, renew: Renew) -> set[Hashable]:
        with self._lock:
            return set(self._held.get(renew, ()))

    def beat(self) -> int:
        """Renew every lease held, in one transaction; the number renewed."""
        with self._lock:
            held = [(renew, list(keys)) for renew, keys in self._held.items() if keys]
        if not held:
            return 0
        renewed = 0
        until = self.until(self.clock())
        with self.db.transaction() as session:
            outcomes = [(renew, keys, set(renew(session, self.holder, keys, until))) for renew, keys in held]
        with self._lock:
            for renew, keys, kept in outcomes:
                renewed += len(kept)
                gone = set(keys) - kept
                if gone:
                    self._held[renew] -= gone
                    log.debug("%s no longer holds %s", self.holder, sorted(map(str, gone)))
        return renewed

    def _run(self) -> None:
        while True:  # until nothing is held
            time.sleep(self.interval)
            with self._lock:
                if not any(self._held.values()):
                    self._thread = None
                    return
            # The one catch-all here: a beat that fails (the database away for a moment) must not
            # end the heartbeat; the next beat tries again, two before a lease runs out.
            try:
                self.beat()
            except Exception as error:
                log.warning("heartbeat of %s failed: %r; trying again in %.0f s", self.holder, error, self.interval)
