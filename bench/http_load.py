"""HTTP mode under load: the real server (`python app.py`: gunicorn + Bolt + SQLite) and a bare Bolt app.

Processes:
  * the Slack Web API double (tests/slack_double.py) in its own process, so its request threads never
    take the load generator's GIL (that would delay sends and read as app latency) and the app
    reaches it over loopback as it would reach Slack;
  * the app under test: `python app.py` (gunicorn master + 1 gthread worker, and the job worker
    process it forks at nice +10, which runs the work queued after each ack), env as in production;
  * this process: an asyncio load generator on raw keep-alive connections (no HTTP library),
    signing every request as Slack does.

Runs, in order:
  1. real app, open loop: a constant 200 req/s for 30 s of signed `/tip <text>`, `/tip search <words>`
     and `reaction_added` events on tips' posts; latency is send -> full HTTP response (the ack).
  2. real app, closed loop: N requests always in flight, same mix: maximum ack throughput; then the
     job queue's backlog at the end of the run and how fast the job worker drains it (jobs/s).
  3. bare Bolt app (bench/bare_app.py: ack only, same server config), closed loop: the ceiling.
`--closed-only N` instead serves the apps side by side and measures closed loops in alternating slices;
with `--pause-job-worker` the real app's job worker is stopped meanwhile (the web side alone), with
`--with-queued-bare` a third app, the bare one plus Peerlearn's durable enqueue, splits the real app's
extra cost into the enqueue and the rest.
Targets: p99 ack < 50 ms at 200 req/s; real >= 0.8 x bare throughput; worker RSS < 150 MB.

    .venv/bin/python bench/http_load.py [--rate 200] [--duration 30] [--tips 20000] ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import benchlib
from corpus import TEAM_ID, Corpus, seed_tips, tip_rows, tip_targets
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, create_engine, func, select

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Job, ProcessedEvent, Tip
from tests.slack_double import BOT_TOKEN, SlackDouble
from tests.slack_sender import SIGNING_SECRET

TARGET_P99_MS = 50.0
TARGET_RATIO = 0.8
TARGET_RSS_MB = 150.0
USERS = tuple(f"U{n}" for n in range(1, 51))
REACTIONS = ("+1", "heart", "raised_hands", "tada", "bulb", "+1::skin-tone-2")
KINDS = ("share", "search", "reaction")


# -- the Slack double, in its own process ------------------------------------------------------------
def _serve_double(control: Connection) -> None:
    double = SlackDouble()
    # socketserver listens with a backlog of 5. Under this load the app's WebClient (a new connection
    # per call) overflows it, the kernel drops SYNs and each dropped one costs the app a 1 s SYN
    # retransmit that Slack itself would not add. Re-listening on Linux just raises the backlog.
    double._server.socket.listen(1024)
    # Seconds added to every Slack call (Web API, response_url), as the network and Slack add them:
    # (least, most), each call's drawn evenly between them.
    latency = (0.0, 0.0)
    answer, take_response = double.handle, double.respond

    def wait() -> None:
        if latency[1]:
            time.sleep(random.uniform(*latency))

    def handle(method: str, args: dict[str, Any], token: str | None) -> tuple[int, dict[str, str], dict[str, Any]]:
        wait()
        return answer(method, args, token)

    def respond(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        wait()
        return take_response(body)

    double.handle = handle  # type: ignore[method-assign]
    double.respond = respond  # type: ignore[method-assign]
    double.start()
    for user in USERS:
        double.add_user(user, f"user{user[1:]}")
    double.add_channel("C1", "general", members=USERS)
    control.send(double.url)
    while True:
        command, value = control.recv()
        if command == "latency":
            latency = value if isinstance(value, tuple) else (value, value)
            control.send("ok")
        elif command == "arrange":  # calls of the double's own arranging methods (add_message, …)
            results = [getattr(double, name)(*args, **kwargs) for name, args, kwargs in value]
            control.send([result if isinstance(result, str | int | None) else None for result in results])
        elif command == "stop":
            double.stop()
            control.send("stopped")
            return


class DoubleProcess:
    """The Slack double in a process of its own, told what to do over a pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self.process = context.Process(target=_serve_double, args=(child,), name="slack-double", daemon=True)
        self.process.start()
        self.url: str = self._control.recv()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def set_latency(self, seconds: float | tuple[float, float]) -> None:
        """Answer every Web API call and response_url only after `seconds` (0: at once; a pair
        (least, most): each call after a delay drawn evenly between them)."""
        self._control.send(("latency", seconds))
        self._control.recv()

    def arrange(self, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[Any]:
        """Run the double's arranging methods (`add_user`, `add_channel`, `add_message`, …) in its
        process, in order; their results."""
        self._control.send(("arrange", calls))
        return list(self._control.recv())

    def stop(self) -> None:
        if self.process.is_alive():
            with suppress(OSError, EOFError):
                self._control.send(("stop", None))
                self._control.recv()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


# -- the app under test, as a subprocess ---------------------------------------------------------------
@dataclass
class Stopped:
    exit_code: int | None
    seconds: float


class AppProcess:
    """`python <script>` serving on `port`; stderr (warnings and errors) goes to a log file."""

    def __init__(self, name: str, script: Path, env: dict[str, str], port: int, log: Path) -> None:
        self.name, self.port, self.log = name, port, log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=benchlib.ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.worker_pid: int | None = None  # gunicorn's worker: the web side
        self.jobs_pid: int | None = None  # the job worker (real app only), told apart by its niceness

    def wait_healthy(self, timeout: float = 30.0) -> float:
        started = time.perf_counter()
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        children = benchlib.children_of(self.process.pid)
                        niced = [pid for pid in children if benchlib.niceness(pid) > 0]
                        web = [pid for pid in children if pid not in niced]
                        self.worker_pid = web[0] if web else None
                        self.jobs_pid = niced[0] if niced else None
                        return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        return benchlib.process_cpu_seconds(self.worker_pid) if self.worker_pid else 0.0

    def jobs_cpu_seconds(self) -> float:
        return benchlib.process_cpu_seconds(self.jobs_pid) if self.jobs_pid else 0.0

    def rss(self) -> str:
        worker = benchlib.proc_status_mb(self.worker_pid) if self.worker_pid else {}
        master = benchlib.proc_status_mb(self.process.pid)
        jobs = (
            f"; job worker VmRSS {benchlib.proc_status_mb(self.jobs_pid).get('VmRSS', 0):.0f} MB"
            if self.jobs_pid
            else ""
        )
        return (
            f"worker (pid {self.worker_pid}) VmRSS {worker.get('VmRSS', 0):.0f} MB"
            f" (peak {worker.get('VmHWM', 0):.0f} MB); gunicorn master VmRSS {master.get('VmRSS', 0):.0f} MB{jobs}"
        )

    def jobs_rss_mb(self) -> float:
        return benchlib.proc_status_mb(self.jobs_pid).get("VmRSS", 0.0) if self.jobs_pid else 0.0

    def worker_rss_mb(self) -> float:
        return benchlib.proc_status_mb(self.worker_pid).get("VmRSS", 0.0) if self.worker_pid else 0.0

    def stop(self, timeout: float = 30.0) -> Stopped:
        """SIGTERM, as a platform does; gunicorn finishes requests in flight, then exits."""
        started = time.perf_counter()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self._log_file.close()
                return Stopped(None, time.perf_counter() - started)
        self._log_file.close()
        for child in (self.worker_pid, self.jobs_pid):
            if child is not None and Path(f"/proc/{child}").exists():
                os.kill(child, signal.SIGKILL)
        return Stopped(self.process.returncode, time.perf_counter() - started)

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_lines()[-lines:])


# -- signed Slack requests ---------------------------------------------------------------------------
class SlackRequests:
    """Whole HTTP/1.1 requests, body shapes as tests/slack_sender.py builds them, signed like Slack."""

    def __init__(
        self,
        *,
        port: int,
        double_url: str,
        corpus: Corpus,
        targets: list[tuple[str, str, str]],
        mix: dict[str, float],
        seed: int,
        label: str,
    ) -> None:
        self._verifier = SignatureVerifier(SIGNING_SECRET)
        self._host = f"127.0.0.1:{port}"
        self._double_url = double_url
        self._corpus = corpus
        self._targets = targets
        self._kinds = list(mix)
        self._weights = list(mix.values())
        self._rng = random.Random(seed)
        self._label = label
        self._count = 0

    def next(self) -> tuple[str, bytes]:
        self._count += 1
        kind = self._rng.choices(self._kinds, self._weights)[0]
        if kind == "reaction":
            return kind, self._signed(self._reaction(), "application/json")
        text = "search " + self._corpus.query(self._rng)[1] if kind == "search" else self._corpus.tip_text(self._rng)[0]
        return kind, self._signed(self._command(text), "application/x-www-form-urlencoded")

    def _command(self, text: str) -> str:
        user = self._rng.choice(USERS)
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "team_domain": "peerlearn-test",
                "channel_id": "C1",
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/tip",
                "text": text,
                "api_app_id": "A0PEERLEARN",
                "is_enterprise_install": "false",
                "response_url": f"{self._double_url}/response/{self._label}-{self._count}",
                "trigger_id": f"trigger-{self._label}-{self._count}",
            }
        )

    def _reaction(self) -> str:
        # Newer tips draw more reactions: an exponential pick over targets ordered newest first.
        index = min(int(self._rng.expovariate(1 / 200)), len(self._targets) - 1)
        channel, ts, author = self._targets[index]
        now = time.time()
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "api_app_id": "A0PEERLEARN",
                "event": {
                    "type": "reaction_added",
                    "user": self._rng.choice(USERS),
                    "reaction": self._rng.choice(REACTIONS),
                    "item": {"type": "message", "channel": channel, "ts": ts},
                    "item_user": author,
                    "event_ts": f"{now:.6f}",
                },
                "type": "event_callback",
                "event_id": f"Ev{self._label}{self._count:09d}",
                "event_time": int(now),
                "authorizations": [
                    {"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
                ],
            }
        )

    def _signed(self, body: str, content_type: str) -> bytes:
        timestamp = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body)
        raw = body.encode()
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: {self._host}\r\nUser-Agent: Slackbot 1.0\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(raw)}\r\n"
            f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: {signature}\r\n\r\n"
        )
        return head.encode() + raw


# -- the load generator --------------------------------------------------------------------------------
@dataclass
class Outcome:
    kind: str
    due: float  # when the schedule wanted it sent (closed loop: when the client was ready)
    sent: float  # when a connection slot was free and sending began
    done: float
    status: int  # 0: no HTTP response (see error)
    error: str = ""


class StaleConnection(Exception):
    """A kept-alive connection the server had closed before our request reached it."""


class HttpPool:
    """Keep-alive HTTP/1.1 connections over asyncio streams; one request per connection at a time.

    Like any keep-alive client it drops a connection that sat idle for `max_idle` seconds, under
    gunicorn's keepalive (5 s), rather than race the server closing it; a request that still meets
    a connection the server closed before reading it is sent again, once, on a new connection.
    """

    def __init__(self, port: int, limit: int, timeout: float, max_idle: float = 4.0) -> None:
        self._port = port
        self._idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(limit)
        self._timeout = timeout
        self._max_idle = max_idle
        self.opened = 0
        self.stale_retries = 0

    async def _connection(self, fresh: bool) -> tuple[bool, asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle and not fresh:
            idle_since, reader, writer = self._idle.pop()
            if time.monotonic() - idle_since < self._max_idle:
                return True, reader, writer
            writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", self._port)
        self.opened += 1
        return False, reader, writer

    async def send(self, request: bytes, outcome: Outcome) -> int:
        """Send and read the answer; sets `outcome.sent` once a connection slot is free."""
        async with self._slots:
            outcome.sent = time.perf_counter()
            for attempt in range(2):
                reused, reader, writer = await self._connection(fresh=attempt > 0)
                try:
                    status, keep = await asyncio.wait_for(self._exchange(reader, writer, request), self._timeout)
                except StaleConnection:
                    writer.close()
                    if reused:
                        self.stale_retries += 1
                        continue
                    raise ConnectionResetError("server closed a new connection unanswered") from None
                except BaseException:
                    writer.close()
                    raise
                if keep:
                    self._idle.append((time.monotonic(), reader, writer))
                else:
                    writer.close()
                return status
        raise AssertionError("unreachable: the second attempt uses a new connection")

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bool]:
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            partial = getattr(error, "partial", b"")
            if not partial:
                raise StaleConnection from error
            raise
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep = headers.get("connection", "").lower() != "close"
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        else:
            await reader.read()
            keep = False
        return status, keep

    def close(self) -> None:
        for _, _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _one(pool: HttpPool, kind: str, request: bytes, due: float) -> Outcome:
    outcome = Outcome(kind, due, sent=due, done=0.0, status=0)
    try:
        outcome.status = await pool.send(request, outcome)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
        outcome.error = error.__class__.__name__
    outcome.done = time.perf_counter()
    return outcome


@dataclass
class Run:
    outcomes: list[Outcome]
    connections_opened: int
    stale_retries: int


async def open_loop(requests: SlackRequests, port: int, rate: float, duration: float) -> Run:
    """Send at a constant rate whatever the responses do (no coordinated omission)."""
    pool = HttpPool(port, limit=4096, timeout=30)
    tasks = []
    start = time.perf_counter() + 0.05
    for index in range(int(rate * duration)):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, request = requests.next()
        tasks.append(asyncio.create_task(_one(pool, kind, request, due)))
    outcomes = await asyncio.gather(*tasks)
    pool.close()
    return Run(list(outcomes), pool.opened, pool.stale_retries)


async def closed_loop(requests: SlackRequests, port: int, concurrency: int, duration: float) -> Run:
    """`concurrency` clients, each sending its next request as soon as the last one is answered."""
    pool = HttpPool(port, limit=concurrency, timeout=30)
    outcomes: list[Outcome] = []
    stop_at = time.perf_counter() + duration

    async def client() -> None:
        while time.perf_counter() < stop_at:
            kind, request = requests.next()
            outcomes.append(await _one(pool, kind, request, time.perf_counter()))

    await asyncio.gather(*(client() for _ in range(concurrency)))
    pool.close()
    return Run(outcomes, pool.opened, pool.stale_retries)


# -- measuring and reporting -----------------------------------------------------------------------------
@dataclass
class Meters:
    """CPU seconds of the processes involved, and wall time, between start() and stop()."""

    app: AppProcess
    double: DoubleProcess
    readings: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        return {
            "wall": time.perf_counter(),
            "app": self.app.cpu_seconds(),
            "jobs": self.app.jobs_cpu_seconds(),
            "double": benchlib.process_cpu_seconds(self.double.pid),
            "generator": time.process_time(),
            "machine": benchlib.machine_busy_seconds(),
            "master": benchlib.process_cpu_seconds(self.app.process.pid),
        }

    def start(self) -> None:
        self.readings = self._now()

    def report(self) -> dict[str, float]:
        """Print each one's CPU as % of one core over the interval; returns those percentages."""
        end = self._now()
        wall = end["wall"] - self.readings["wall"]
        share = {name: 100 * (end[name] - self.readings[name]) / wall for name in end if name != "wall"}
        ours = share["app"] + share["jobs"] + share["double"] + share["generator"] + share["master"]
        share["others"] = max(0.0, share["machine"] - ours)
        print(
            f"  CPU (% of one core): app worker {share['app']:.0f}%, job worker {share['jobs']:.0f}%,"
            f" slack double {share['double']:.0f}%,"
            f" load generator {share['generator']:.0f}%; anything else on the machine"
            f" {share['others']:.0f}% (of {100 * (os.cpu_count() or 1)}%)"
        )
        return share


def report_outcomes(outcomes: list[Outcome], wall: float, *, open_loop_rate: float | None = None) -> dict[str, float]:
    ok = [o for o in outcomes if o.status == 200]
    failures = Counter(o.error or f"HTTP {o.status}" for o in outcomes if o.status != 200)
    first, last = min(o.sent for o in outcomes), max(o.done for o in outcomes)
    sent_rate = len(outcomes) / max(max(o.sent for o in outcomes) - first, 1e-9)
    print(
        f"  requests {len(outcomes):,} in {wall:.1f} s: sent at {sent_rate:,.1f} req/s,"
        f" {len(ok) / (last - first):,.1f} ok responses/s;"
        f" errors: {', '.join(f'{k} x{v}' for k, v in failures.items()) or 'none'}"
    )
    print("  ack latency, send -> full HTTP response:")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for outcome in ok:
        by_kind[outcome.kind].append(outcome.done - outcome.sent)
    every = [o.done - o.sent for o in ok]
    print(f"    {'all':<9s} {benchlib.summary_ms(every)}")
    for kind in KINDS:
        if by_kind[kind]:
            print(f"    {kind:<9s} {benchlib.summary_ms(by_kind[kind])}")
    result = {"throughput": len(ok) / (last - first), "p99": benchlib.percentile(sorted(every), 0.99) * 1000}
    if open_loop_rate is not None:
        late = [o.sent - o.due for o in outcomes]
        from_due = [o.done - o.due for o in ok]
        print(f"    {'vs sched':<9s} {benchlib.summary_ms(from_due)}  (from the scheduled send time)")
        print(f"  generator send lateness vs schedule: {benchlib.summary_ms(late)}")
        result["late_p99"] = benchlib.percentile(sorted(late), 0.99) * 1000
    return result


def jobs_pending(engine: Engine) -> tuple[int, int]:
    """Jobs not yet run (queued or running), and jobs failed for good."""
    with engine.connect() as connection:
        pending = connection.scalar(select(func.count()).select_from(Job).where(Job.state != "failed")) or 0
        failed = connection.scalar(select(func.count()).select_from(Job).where(Job.state == "failed")) or 0
    return pending, failed


def drain_backlog(engine: Engine, timeout: float) -> dict[str, float]:
    """The queue's backlog as the load stops, and how fast the job worker then empties it."""
    backlog, _ = jobs_pending(engine)
    started = time.perf_counter()
    pending = backlog
    while pending and time.perf_counter() - started < timeout:
        time.sleep(0.05)
        pending, _ = jobs_pending(engine)
    seconds = time.perf_counter() - started
    _, failed = jobs_pending(engine)
    rate = (backlog - pending) / seconds if backlog and seconds > 0 else 0.0
    state = "drained" if not pending else f"NOT drained ({pending:,} left after {timeout:.0f} s)"
    print(
        f"  job queue at the end of the run: {backlog:,} jobs waiting; {state} in {seconds:.1f} s"
        f" = {rate:,.0f} jobs/s; {failed:,} failed"
    )
    return {"backlog": backlog, "drain_seconds": seconds, "drain_rate": rate, "failed": failed}


def wait_for_background(engine: Engine, expected_tips: int, expected_events: int, timeout: float) -> str:
    """Work Bolt runs after the ack (posting shared tips, recording reactions) until it is all done."""
    started = time.perf_counter()
    while True:
        with engine.connect() as connection:
            tips = connection.scalar(select(func.count()).select_from(Tip)) or 0
            unposted = connection.scalar(select(func.count()).select_from(Tip).where(Tip.permalink.is_(None))) or 0
            events = connection.scalar(select(func.count()).select_from(ProcessedEvent)) or 0
        waited = time.perf_counter() - started
        if tips >= expected_tips and unposted == 0 and events >= expected_events:
            return (
                f"after-ack work done {waited:.1f} s after the last response: {tips:,} tips all posted"
                f" and linked, {events:,} reaction events recorded"
            )
        if waited > timeout:
            return (
                f"after-ack work NOT done {timeout:.0f} s after the last response: tips {tips:,}/{expected_tips:,},"
                f" {unposted:,} not yet posted, events {events:,}/{expected_events:,}"
            )
        time.sleep(0.2)


# -- the runs ------------------------------------------------------------------------------------------
@dataclass
class Context:
    args: argparse.Namespace
    tmp: Path
    database_url: str
    double: DoubleProcess
    corpus: Corpus
    targets: list[tuple[str, str, str]]
    mix: dict[str, float]
    engine: Engine
    queue: Database  # where the job queue lives (on SQLite, a file of its own)
    acked_shares: int = 0
    acked_reactions: int = 0
    runs: int = 0
    clean_exits: list[bool] = field(default_factory=list)

    def requests(self, port: int) -> SlackRequests:
        self.runs += 1
        return SlackRequests(
            port=port,
            double_url=self.double.url,
            corpus=self.corpus,
            targets=self.targets,
            mix=self.mix,
            seed=self.args.seed * 1000 + self.runs,
            label=f"R{self.runs}",
        )

    def count_acks(self, outcomes: list[Outcome]) -> None:
        self.acked_shares += sum(1 for o in outcomes if o.kind == "share" and o.status == 200)
        self.acked_reactions += sum(1 for o in outcomes if o.kind == "reaction" and o.status == 200)


@contextmanager
def running_app(
    context: Context, name: str, script: Path, extra_env: dict[str, str] | None = None
) -> Iterator[AppProcess]:
    port = benchlib.free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "PEERLEARN_", "DATABASE_URL", "LOG_LEVEL", "TIP_EMOJI"))
    }
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN="",  # empty wins over a developer's .env: HTTP mode for sure
        SLACK_API_URL=context.double.api_url,
        DATABASE_URL=context.database_url,
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="WARNING",
        PEERLEARN_ADMINS="",
        TIP_EMOJI="bulb",
    )
    env.update(item.split("=", 1) for item in context.args.app_env)
    env.update(extra_env or {})
    app = AppProcess(name, script, env, port, context.tmp / f"{name.replace(' ', '-')}.log")
    try:
        seconds = app.wait_healthy()
        print(f"  started {name}: `python {script.relative_to(benchlib.ROOT)}` healthy in {seconds:.1f} s, {app.rss()}")
        yield app
    finally:
        stopped = app.stop()
        clean = stopped.exit_code == 0
        print(
            f"  stopped {name} with SIGTERM: exit code {stopped.exit_code} after {stopped.seconds:.1f} s"
            f" ({'clean' if clean else 'NOT clean'})"
        )
        problems = [line for line in app.log_lines() if " ERROR " in line or " WARNING " in line or "Traceback" in line]
        if problems:
            print(f"  {name} logged {len(problems)} warnings/errors, last ones:")
            for line in problems[-5:]:
                print(f"    {line[:200]}")
        context.clean_exits.append(clean)


def run_open_loop(context: Context, app: AppProcess, rate: float, duration: float) -> dict[str, float]:
    meters = Meters(app, context.double)
    meters.start()
    started = time.perf_counter()
    run = asyncio.run(open_loop(context.requests(app.port), app.port, rate, duration))
    wall = time.perf_counter() - started
    context.count_acks(run.outcomes)
    result = report_outcomes(run.outcomes, wall, open_loop_rate=rate)
    print(f"  generator: {run.connections_opened} connections opened, {run.stale_retries} stale keep-alive retries")
    result["app_cpu"] = meters.report()["app"]
    return result


def run_closed_loop(
    context: Context, app: AppProcess, concurrency: int, duration: float, *, drain: bool = True
) -> dict[str, float]:
    meters = Meters(app, context.double)
    meters.start()
    started = time.perf_counter()
    run = asyncio.run(closed_loop(context.requests(app.port), app.port, concurrency, duration))
    wall = time.perf_counter() - started
    context.count_acks(run.outcomes)
    result = report_outcomes(run.outcomes, wall)
    shares = meters.report()
    result["app_cpu"], result["jobs_cpu"] = shares["app"], shares["jobs"]
    if app.jobs_pid and drain:
        result.update(drain_backlog(context.queue.engine, context.args.drain_timeout))
    return result


def background(context: Context, timeout: float) -> None:
    print(
        "  "
        + wait_for_background(
            context.engine, context.args.tips + context.acked_shares, context.acked_reactions, timeout
        )
    )


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind.strip() not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown request kind {kind!r}; use {', '.join(KINDS)}")
        mix[kind.strip()] = float(weight)
    return mix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200, help="open-loop requests per second (default 200)")
    parser.add_argument("--duration", type=float, default=30, help="open-loop seconds (default 30)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before each measurement (default 3)")
    parser.add_argument("--max-duration", type=float, default=15, help="closed-loop seconds per app (default 15)")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop requests in flight (default 32)")
    parser.add_argument("--tips", type=int, default=20_000, help="tips seeded before the runs (default 20000)")
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=parse_mix("share=35,search=35,reaction=30"),
        help="request mix, weights (default share=35,search=35,reaction=30)",
    )
    parser.add_argument("--drain-timeout", type=float, default=180, help="max wait for after-ack work (default 180)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL to use a scratch database on (default: SQLite in a temp dir)",
    )
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=250,
        help="ms every Slack call (Web API, response_url) takes in the last real-app run (default 250: Slack's own"
        " time plus a new TLS connection per call, which WebClient makes; 0 skips the run)",
    )
    parser.add_argument("--slow-duration", type=float, default=15, help="seconds of that run (default 15)")
    parser.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for both apps, e.g. PEERLEARN_LISTENER_THREADS=128 (repeatable)",
    )
    parser.add_argument("--skip-bare", action="store_true", help="skip the bare Bolt app run")
    parser.add_argument(
        "--closed-only",
        type=int,
        metavar="ROUNDS",
        default=0,
        help="only the closed-loop comparison: both apps served side by side, ROUNDS slices on each in turn",
    )
    parser.add_argument(
        "--slice", type=float, default=5, help="with --closed-only: seconds of each closed-loop slice (default 5)"
    )
    parser.add_argument(
        "--pause-job-worker",
        action="store_true",
        help="with --closed-only: the real app's job worker stopped (SIGSTOP) during the slices: the web side alone;"
        " the jobs its acks committed are drained after",
    )
    parser.add_argument(
        "--with-queued-bare",
        action="store_true",
        help="with --closed-only (SQLite): a third app, the bare app that also stores each request's job before its"
        " ack (bench/bare_app.py BARE_APP_QUEUE=1, its own queue file), to split the real app's extra cost",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args()
    if args.with_queued_bare and args.database_url:
        parser.error("--with-queued-bare measures SQLite only (its queue is a file of its own)")

    benchlib.print_header("bench/http_load.py: HTTP mode, real server, signed Slack requests")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="peerlearn-bench-")))
        database_url = stack.enter_context(benchlib.scratch_database(args.database_url, tmp))
        double = DoubleProcess()
        stack.callback(double.stop)
        corpus = Corpus.build(seed=args.seed)
        db = Database.connect(database_url)
        upgrade(db.engine)
        seeded = seed_tips(db.engine, tip_rows(corpus, args.tips, seed=args.seed))
        targets = list(tip_targets(db.engine, TEAM_ID, 2000))
        db.dispose()
        engine = create_engine(database_url)
        queue = Database.connect(database_url).queue
        stack.callback(queue.dispose)
        stack.callback(engine.dispose)
        context = Context(args, tmp, database_url, double, corpus, targets, args.mix, engine, queue)
        mix = " / ".join(f"{kind} {weight:g}" for kind, weight in args.mix.items())
        print(
            f"setup: Slack double in its own process (pid {double.pid}, {double.url});"
            f" {db.dialect} database with {seeded.tips:,} seeded tips ({seeded.seconds:.1f} s);"
            f" mix {mix}; load generator: asyncio, raw keep-alive HTTP/1.1, this process"
        )
        print(
            "server: runtime.serving.serve_http = gunicorn, 1 gthread worker x 32 threads;"
            " a job worker process (nice +10) x 32 threads"
        )
        if args.closed_only:
            compare_closed_loops(context, args.closed_only)
            return 0
        results = run_all(context)
    summarize(args, results, context.clean_exits)
    return 0


def compare_closed_loops(context: Context, rounds: int) -> None:
    """Closed loop only: the real app and the bare app served side by side, measured in turns.

    Each round is a slice of `--slice` seconds on each (real then bare, bare then real the next
    round), so both meet the same machine: on 2 cores shared with other work, load that comes and
    goes over tens of seconds would otherwise favour whichever ran in the quieter minute. The real
    app's job worker (nice +10) is busy all through, on the backlog its acks build (they outrun it),
    so the bare app's slices run beside the same work as the real app's. The ratio of the totals is
    the figure; each slice, and each web worker's CPU per request, are printed too."""
    args = context.args
    with ExitStack() as stack:
        bare_script = benchlib.ROOT / "bench" / "bare_app.py"
        real_app = stack.enter_context(running_app(context, "real app", benchlib.ROOT / "app.py"))
        apps = {"real": real_app, "bare": stack.enter_context(running_app(context, "bare app", bare_script))}
        if args.with_queued_bare:
            queued_env = {"BARE_APP_QUEUE": "1", "DATABASE_URL": f"sqlite:///{context.tmp / 'bare-queued.db'}"}
            apps["bare+queue"] = stack.enter_context(running_app(context, "bare+queue app", bare_script, queued_env))
        for app in apps.values():
            warmup = asyncio.run(closed_loop(context.requests(app.port), app.port, args.concurrency, args.warmup))
            context.count_acks(warmup.outcomes)
        totals = {name: [0.0, 0.0, 0.0] for name in apps}  # ok responses, seconds, web worker CPU seconds
        jobs_cpu = benchlib.process_cpu_seconds(real_app.jobs_pid) if real_app.jobs_pid else 0.0
        if args.pause_job_worker and real_app.jobs_pid:
            os.kill(real_app.jobs_pid, signal.SIGSTOP)
        started = time.perf_counter()
        idle_slices = 0
        print(
            f"\n-- closed loop, {args.concurrency} in flight: {rounds} rounds of {args.slice:g} s on each app in turn"
            + (
                " (the real app's job worker stopped: the web side alone)"
                if args.pause_job_worker
                else " (the real app's job worker busy throughout)"
            )
        )
        for number in range(rounds):
            order = list(apps) if number % 2 == 0 else list(reversed(apps))
            for name in order:
                app = apps[name]
                cpu = app.cpu_seconds()
                run = asyncio.run(closed_loop(context.requests(app.port), app.port, args.concurrency, args.slice))
                context.count_acks(run.outcomes)
                ok = [o for o in run.outcomes if o.status == 200]
                seconds = max(o.done for o in run.outcomes) - min(o.sent for o in run.outcomes)
                used = app.cpu_seconds() - cpu
                pending = jobs_pending(context.queue.engine)[0]
                idle_slices += pending == 0
                total = totals[name]
                total[0], total[1], total[2] = total[0] + len(ok), total[1] + seconds, total[2] + used
                load = " ".join(f"{value:.2f}" for value in os.getloadavg())
                print(
                    f"  round {number + 1} {name}: {len(ok) / seconds:,.0f} req/s,"
                    f" web worker {used * 1000 / max(len(ok), 1):.2f} ms CPU per request;"
                    f" {len(run.outcomes) - len(ok)} failed; {pending:,} jobs queued; load average {load}"
                )
        wall = time.perf_counter() - started
        if args.pause_job_worker and real_app.jobs_pid:
            os.kill(real_app.jobs_pid, signal.SIGCONT)
        worker_share = (
            100 * ((benchlib.process_cpu_seconds(real_app.jobs_pid) if real_app.jobs_pid else 0.0) - jobs_cpu) / wall
        )
        real, bare = (totals[name][0] / totals[name][1] for name in ("real", "bare"))
        cpu_real, cpu_bare = (totals[name][2] * 1000 / max(totals[name][0], 1) for name in ("real", "bare"))
        print(
            f"\n-- summary: max throughput real {real:,.0f} req/s vs bare Bolt {bare:,.0f} req/s = {real / bare:.2f}x"
            f" (target >= {TARGET_RATIO}x) {benchlib.verdict(real / bare >= TARGET_RATIO)};"
            f" web worker CPU per request real {cpu_real:.2f} ms vs bare {cpu_bare:.2f} ms;"
            f" the job worker {worker_share:.0f}% of a core throughout"
            + (f"; it ran out of work in {idle_slices} slices" if idle_slices else "")
        )
        if "bare+queue" in totals:
            queued = totals["bare+queue"]
            rate, cpu_queued = queued[0] / queued[1], queued[2] * 1000 / max(queued[0], 1)
            print(
                f"  bare app + the durable enqueue: {rate:,.0f} req/s = {rate / bare:.2f}x bare,"
                f" web worker {cpu_queued:.2f} ms CPU per request (of the real app's extra"
                f" {cpu_real - cpu_bare:.2f} ms a request, the enqueue is {cpu_queued - cpu_bare:.2f} ms)"
            )
        drain_backlog(context.queue.engine, args.drain_timeout)
    print(f"  clean SIGTERM exits {sum(context.clean_exits)}/{len(context.clean_exits)}")


def run_all(context: Context) -> dict[str, Any]:
    args = context.args
    results: dict[str, Any] = {}
    app_script = benchlib.ROOT / "app.py"
    print(f"\n-- real app: open loop, {args.rate:g} req/s for {args.duration:g} s (after {args.warmup:g} s warm-up)")
    with running_app(context, "real app", app_script) as app:
        warmup = asyncio.run(open_loop(context.requests(app.port), app.port, args.rate, args.warmup))
        context.count_acks(warmup.outcomes)
        background(context, args.drain_timeout)
        results["open"] = run_open_loop(context, app, args.rate, args.duration)
        background(context, args.drain_timeout)
        results["rss"], results["jobs_rss"] = app.worker_rss_mb(), app.jobs_rss_mb()
        print(f"  RSS after the load: {app.rss()}")
        print(f"\n-- real app: closed loop, {args.concurrency} in flight for {args.max_duration:g} s")
        results["real"] = run_closed_loop(context, app, args.concurrency, args.max_duration)
        background(context, args.drain_timeout)
        results["rss_max"] = app.worker_rss_mb()
        print(f"  RSS after max load: {app.rss()}")
        if args.slack_latency > 0:
            print(
                f"\n-- real app: open loop, {args.rate:g} req/s for {args.slow_duration:g} s while every Slack"
                f" call (Web API and response_url) takes {args.slack_latency:g} ms"
            )
            context.double.set_latency(args.slack_latency / 1000)
            results["slow"] = run_open_loop(context, app, args.rate, args.slow_duration)
            background(context, args.drain_timeout)
            context.double.set_latency(0)
    if args.skip_bare:
        return results
    print(f"\n-- bare Bolt app (ack only): closed loop, {args.concurrency} in flight for {args.max_duration:g} s")
    with running_app(context, "bare app", benchlib.ROOT / "bench" / "bare_app.py") as bare:
        asyncio.run(closed_loop(context.requests(bare.port), bare.port, args.concurrency, args.warmup))
        results["bare"] = run_closed_loop(context, bare, args.concurrency, args.max_duration)
        print(f"  RSS after max load: {bare.rss()}")
    return results


def summarize(args: argparse.Namespace, results: dict[str, Any], clean_exits: list[bool]) -> None:
    print("\n-- summary")
    p99 = results["open"]["p99"]
    ok = p99 < TARGET_P99_MS
    print(f"  p99 ack at {args.rate:g} req/s: {p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms) {benchlib.verdict(ok)}")
    print(
        f"  generator kept schedule: p99 send lateness {results['open']['late_p99']:.2f} ms"
        f" {benchlib.verdict(results['open']['late_p99'] < 5)} (< 5 ms)"
    )
    real = results["real"]["throughput"]
    if "bare" in results:
        bare = results["bare"]["throughput"]
        print(
            f"  max throughput: real {real:,.0f} req/s vs bare Bolt {bare:,.0f} req/s = {real / bare:.2f}x"
            f" (target >= {TARGET_RATIO}x) {benchlib.verdict(real / bare >= TARGET_RATIO)}"
        )
        cpu_real = results["real"]["app_cpu"] * 10 / real  # % of a core -> ms of CPU per response
        cpu_bare = results["bare"]["app_cpu"] * 10 / bare
        print(
            f"    web worker CPU per request at max load: real {cpu_real:.2f} ms vs bare {cpu_bare:.2f} ms;"
            f" it was {results['real']['app_cpu']:.0f}% vs {results['bare']['app_cpu']:.0f}% busy"
            f" (the job worker {results['real']['jobs_cpu']:.0f}%)"
        )
    else:
        print(f"  max throughput: real {real:,.0f} req/s (bare run skipped)")
    if "drain_rate" in results["real"]:
        real_run = results["real"]
        print(
            f"  the work behind those acks: {real_run['backlog']:,.0f} jobs still queued when the run ended,"
            f" drained in {real_run['drain_seconds']:.1f} s ({real_run['drain_rate']:,.0f} jobs/s);"
            f" {real_run['failed']:,.0f} failed"
        )
    if "slow" in results:
        p99 = results["slow"]["p99"]
        print(
            f"  p99 ack at {args.rate:g} req/s while Slack API calls take {args.slack_latency:g} ms: {p99:.1f} ms"
            f" (target < {TARGET_P99_MS:.0f} ms) {benchlib.verdict(p99 < TARGET_P99_MS)}"
        )
    rss = results["rss"]
    print(
        f"  app worker RSS after the {args.rate:g} req/s load: {rss:.0f} MB"
        f" (target < {TARGET_RSS_MB:.0f} MB) {benchlib.verdict(rss < TARGET_RSS_MB)};"
        f" job worker {results['jobs_rss']:.0f} MB"
    )
    print(f"  clean SIGTERM exits: {sum(clean_exits)}/{len(clean_exits)}")


if __name__ == "__main__":
    raise SystemExit(main())
