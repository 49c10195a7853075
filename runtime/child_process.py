"""Long-running loops as processes: run one until SIGTERM/SIGINT, or fork one beside the server.

`--role all` forks its job worker so that the after-ack work runs in a process of its own: in the
web process it would hold the GIL against the acks. Forking (rather than starting `app.py --role
worker`) hands the child its settings in memory, so the secrets never go back into an environment.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

Loop = Callable[[threading.Event], None]  # runs until the event is set, then returns


def stop_on_signals(what: str) -> threading.Event:
    """An event set by SIGTERM or SIGINT, for a loop to finish what it does and return."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping %s", signum, what)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def run_until_signalled(loop: Loop, *, parent: int | None = None) -> None:
    """Run `loop` in this process until SIGTERM or SIGINT (or until `parent`, a pid, is gone)."""
    stop = stop_on_signals("after the jobs in hand")
    if parent is not None:
        threading.Thread(target=_stop_when_orphaned, args=(parent, stop), daemon=True, name="parent-watch").start()
    loop(stop)


def _stop_when_orphaned(parent: int, stop: threading.Event) -> None:
    # A parent killed outright (SIGKILL, OOM) cannot stop us; being re-parented is the sign.
    while not stop.wait(1.0):
        if os.getppid() != parent:
            log.warning("parent process %s is gone: stopping", parent)
            stop.set()


class ChildProcess:
    def __init__(self, pid: int, name: str) -> None:
        self.pid = pid
        self.name = name

    @classmethod
    def fork(cls, name: str, loop: Loop, *, niceness: int) -> ChildProcess:
        """Run `loop` in a forked child at lower CPU priority. Fork before starting any thread."""
        parent = os.getpid()
        pid = os.fork()
        if pid:
            log.info("%s started (pid %s, nice +%s)", name, pid, niceness)
            return cls(pid, name)
        code = 1
        try:
            os.nice(niceness)
            run_until_signalled(loop, parent=parent)
            code = 0
        except BaseException:
            log.exception("%s crashed", name)
        finally:
            os._exit(code)  # never the parent's atexit handlers or its server's code

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to `timeout` for the jobs in hand to finish, then SIGKILL. The exit code."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # already reaped (gunicorn's master reaps any child)
                log.info("%s stopped", self.name)
                return None
            if pid:
                code = os.waitstatus_to_exitcode(status)
                log.info("%s stopped (exit %s)", self.name, code)
                return code
            time.sleep(0.05)
        log.error("%s did not stop within %s s: killing it", self.name, timeout)
        os.kill(self.pid, signal.SIGKILL)
        try:
            return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        except ChildProcessError:
            return None
