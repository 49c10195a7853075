"""The job worker against its floor, per job kind and for the standard mix; 1 and 2 worker processes;
and what chatter costs. SQLite by default, `--database-url` for PostgreSQL (a scratch database).

Processes: the Slack Web API double in its own process (http_load.DoubleProcess), reached over HTTP
by everyone; this process (seeding, the floor, queueing); the real `python app.py --role worker`
process(es) and, for chatter, `python app.py --role web`.

1. **The floor**, per kind: what the job's listener does after the ack, minus everything else — the
   same use cases of bot/ (so the same statements, each in its own transaction as the use case
   opens it) and the same Slack calls over HTTP (Web API and response_url), called directly in a
   loop by `--threads` threads (the worker's own number) for `--seconds`: no queue, no Bolt, no
   request to parse, no job to claim or settle.
2. **The worker**: as many jobs of that kind as the floor did in `--seconds`, queued by the real web
   app in this process (signed requests through runtime.serving.wsgi_app: the edge, Bolt, the ack;
   their jobs kept aside), then written to the queue in one transaction while the worker process(es)
   wait, warmed up and idle, and timed until the queue is empty. Ratio = worker / floor.
   Kinds: vote (a reaction on a tip), share (`/tip <text>`), capture (the tip emoji on a message),
   search (`/tip search`), top (`/tip top`), answer (a circle check-in form), and the mix of
   bench/http_load.py (share 35, search 35, reaction on a tip 30).
3. **Speed-up**: votes and the mix (`--speedup-kinds`) drained by 1 and by 2 worker processes; then the mix
   while every Slack call takes `--slack-latency` ms (Slack's own pace), where threads waiting bind a
   worker rather than its CPU.
4. **Chatter**: `app.py --role web` sent `--chatter-rate` message events a second that matter to
   nobody (channel messages, bots, edits, replies in other people's threads); rows written anywhere
   in the database (and the queue's file) are counted by triggers installed for the run.

    .venv/bin/python bench/worker.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--seconds 3] [--threads 32] [--kinds vote,share,…,mix] [--workers 1,2] [--speedup-kinds vote,mix]
        [--chatter-rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import benchlib
from corpus import TEAM_ID, Corpus, seed_tips, tip_rows, tip_targets
from http_load import DoubleProcess, Outcome, open_loop, report_outcomes
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from sqlalchemy import Engine, func, select, text

from bot.circles import checkins
from bot.circles.answer_form import ANSWER_MODAL
from bot.services import Services
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.requests import request_key
from bot.slack.results import Failed
from bot.slack.users import UserDirectory
from bot.tips import rules as tips
from bot.tips import service as tip_service
from bot.tips.blocks import search_results, top_tips
from runtime.factory import build_app
from runtime.serving import wsgi_app
from runtime.settings import Settings
from runtime.workspace import Workspace
from storage.db import Database
from storage.jobs import DriverEnqueuer, NewJob
from storage.migrate import upgrade
from storage.models import Circle, CircleRound, Job, ParticipantStatus, RoundParticipant, RoundState, utcnow
from tests.slack_double import BOT_TOKEN, BOT_USER_ID
from tests.slack_sender import SIGNING_SECRET, SlackSender

KINDS = ("vote", "share", "capture", "search", "top", "answer")
MIX = {"share": 35.0, "search": 35.0, "vote": 30.0}  # bench/http_load.py's standard mix
TARGET_RATIO = 0.67
TARGET_SPEEDUP = 1.7
USERS = tuple(f"U{n}" for n in range(1, 101))
VOTE_REACTIONS = ("+1", "heart", "raised_hands", "tada", "bulb", "+1::skin-tone-2")  # on a tip, any counts
TIP_EMOJI = "bulb"
ROUND_SIZE = 100  # participants per seeded circle round (answers)
CAPTURE_CHANNEL_SIZE = 100  # messages per capture channel (the double reads a channel's history whole)
QUESTIONS = ["What did you learn?", "Where are you stuck?", "What can you teach?"]


# -- the jobs: one item per job, done directly (the floor) or sent as Slack sends it (the worker) -------
@dataclass(frozen=True)
class Item:
    kind: str
    params: dict[str, Any]


class Stage:
    """What the items act on: tips to vote on, messages to capture, rounds to answer, and fresh ids."""

    def __init__(self, double: DoubleProcess, db: Database, corpus: Corpus, seed: int) -> None:
        self.double = double
        self.db = db
        self.corpus = corpus
        self.rng = random.Random(seed)
        self.targets = list(tip_targets(db.engine, TEAM_ID, 2000))
        self.messages: list[tuple[str, str, str]] = []  # (channel, ts, author) not yet captured
        self.participants: list[tuple[int, str]] = []  # (round id, user) not yet answered
        self._lock = threading.Lock()
        self._count = 0
        self._channels = 0
        self._circles = 0

    def fresh(self, prefix: str) -> str:
        with self._lock:
            self._count += 1
            return f"{prefix}{self._count:08d}"

    def add_messages(self, count: int) -> None:
        """`count` messages written by people in channels of their own, for the tip emoji to capture."""
        calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        authors: list[tuple[str, str]] = []
        for index in range(count):
            if index % CAPTURE_CHANNEL_SIZE == 0:
                self._channels += 1
                channel = f"CCAP{self._channels:05d}"
                calls.append(("add_channel", (channel, f"capture-{self._channels}"), {"members": USERS}))
            author = self.rng.choice(USERS)
            calls.append(("add_message", (channel, author, self.corpus.tip_text(self.rng)[0]), {}))
            authors.append((channel, author))
        results = [ts for ts in self.double.arrange(calls) if isinstance(ts, str)]
        self.messages.extend((channel, ts, author) for (channel, author), ts in zip(authors, results, strict=True))

    def add_participants(self, count: int) -> None:
        """Open circle rounds (their thread in the channel, each member's invitation DM) with `count`
        members who have not answered yet."""
        now = utcnow()
        for _ in range(-(-count // ROUND_SIZE)):
            self._circles += 1
            channel = f"CCIR{self._circles:04d}"
            members = USERS[:ROUND_SIZE]
            calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
                ("add_channel", (channel, f"circle-{self._circles}"), {"members": members}),
                ("add_message", (channel, BOT_USER_ID, "Check-in time"), {}),
            ]
            for user in members:
                calls.append(("add_dm", (user,), {}))
                calls.append(("add_message", ("D" + user[1:], BOT_USER_ID, "Time to check in"), {}))
            results = self.double.arrange(calls)
            thread_ts, dm_ts = results[1], results[3::2]
            with self.db.transaction() as session:
                circle = Circle(
                    team_id=TEAM_ID, name=f"Circle {self._circles}", name_key=f"circle {self._circles}",
                    channel_id=channel, cadence="weekly", weekday=0, at_time="09:00", zone="UTC",
                    questions=json.dumps(QUESTIONS), reminder_minutes=60, window_minutes=60 * 24 * 5,
                    owner_id=members[0],
                )  # fmt: skip
                session.add(circle)
                session.flush()
                round_ = CircleRound(
                    team_id=TEAM_ID, circle_id=circle.id, period=f"bench-{self._circles}", due_at=now,
                    remind_at=now + timedelta(days=2), closes_at=now + timedelta(days=5), channel_id=channel,
                    thread_ts=thread_ts, status=RoundState.OPEN,
                )  # fmt: skip
                session.add(round_)
                session.flush()
                for user, ts in zip(members, dm_ts, strict=True):
                    invited = ParticipantStatus.INVITED
                    dm = {"dm_channel_id": "D" + user[1:], "dm_ts": ts}
                    session.add(
                        RoundParticipant(round_id=round_.id, user_id=user, team_id=TEAM_ID, status=invited, **dm)
                    )
                self.participants.extend((round_.id, user) for user in members)

    def item(self, kind: str) -> Item:
        rng, user = self.rng, self.rng.choice(USERS)
        with self._lock:
            match kind:
                case "vote":
                    channel, ts, author = self.targets[min(int(rng.expovariate(1 / 200)), len(self.targets) - 1)]
                    params = {"channel": channel, "ts": ts, "author": author, "reaction": rng.choice(VOTE_REACTIONS)}
                case "share":
                    params = {"text": self.corpus.tip_text(rng)[0]}
                case "capture":
                    if not self.messages:
                        raise StopIteration
                    channel, ts, author = self.messages.pop()
                    params = {"channel": channel, "ts": ts, "author": author}
                case "search":
                    params = {"query": self.corpus.query(rng)[1]}
                case "top":
                    params = {"window": rng.choice(("week", "month", "all"))}
                case "answer":
                    if not self.participants:
                        raise StopIteration
                    round_id, user = self.participants.pop()
                    params = {"round_id": round_id, "answers": [self.corpus.tip_text(rng)[0][:200], "", "Indexes"]}
                case _:
                    raise ValueError(kind)
        return Item(kind, {"user": user, "id": self.fresh("B"), **params})


def answer_values(answers: list[str]) -> dict[str, Any]:
    return {
        f"answer_{index}": {"answer": {"type": "plain_text_input", "value": text or None}}
        for index, text in enumerate(answers)
    }


class ResponseUrls:
    """What SlackSender needs of a Slack double: response_urls and trigger_ids (fresh each), no checks."""

    def __init__(self, double_url: str) -> None:
        self.double_url = double_url
        self.last_trigger = ""

    def response_url(self) -> str:
        return f"{self.double_url}/response/bench"

    def trigger_id(self, user: str = "", channel: str | None = None) -> str:
        return self.last_trigger

    def check_ack(self, payload: bytes) -> None:
        pass


def trigger_of(item: Item) -> str:
    return f"trigger-{item.params['id']}"


def event_of(item: Item) -> str:
    return f"Ev{item.params['id']}"


def send(sender: SlackSender, item: Item) -> None:
    """The signed request Slack sends for this job, through the real web app (its ack queues the job)."""
    params, user = item.params, item.params["user"]
    sender.double.last_trigger = trigger_of(item)  # type: ignore[attr-defined]
    match item.kind:
        case "vote" | "capture":
            reaction = params.get("reaction", TIP_EMOJI)
            response = sender.reaction(
                "reaction_added", user, params["channel"], params["ts"], reaction,
                item_user=params["author"], event_id=event_of(item),
            )  # fmt: skip
        case "share":
            response = sender.command(params["text"], user=user, channel="C1")
        case "search":
            response = sender.command("search " + params["query"], user=user, channel="C1")
        case "top":
            response = sender.command("top " + params["window"], user=user, channel="C1")
        case "answer":
            view = {"type": "modal", "callback_id": ANSWER_MODAL, "private_metadata": json.dumps(
                {"round_id": params["round_id"]}
            )}  # fmt: skip
            response = sender.view_submission(user=user, view=view, values=answer_values(params["answers"]))
        case _:
            raise ValueError(item.kind)
    assert response.status == 200, (item.kind, response.status, response.body[:200])


class Floor:
    """Each kind's work, as its listener does it after the ack, called directly."""

    def __init__(self, services: Services, double_url: str) -> None:
        self.services = services
        self.response_url = f"{double_url}/response/bench"

    def respond(self, text: str, blocks: list[Any] | None = None) -> None:
        # What Bolt's `respond` does: one POST to the request's response_url.
        message = {"text": text, "response_type": "ephemeral"}
        if blocks is not None:
            message["blocks"] = blocks
        answer = WebhookClient(self.response_url).send_dict(message)
        assert answer.status_code == 200, answer.status_code

    def run(self, item: Item) -> None:
        deps, params, user = self.services, item.params, item.params["user"]
        match item.kind:
            case "vote":
                voted = tip_service.react(
                    deps, team_id=TEAM_ID, event_id=event_of(item), channel_id=params["channel"], ts=params["ts"],
                    user_id=user, reaction=params["reaction"], request_key=request_key({"event_id": event_of(item)}),
                )  # fmt: skip
                assert voted
            case "share":
                shared = tip_service.share(
                    deps, team_id=TEAM_ID, author_id=user, draft=tips.draft_tip(params["text"]), channel_id="C1",
                    source="command", request_key=request_key({"trigger_id": trigger_of(item)}),
                )  # fmt: skip
                assert not isinstance(shared.post, Failed), shared.post
            case "capture":
                self.capture(item)
            case "search":
                found = tip_service.search(deps, team_id=TEAM_ID, query=params["query"])
                self.respond("Tips matching your search", search_results(params["query"], found))
            case "top":
                best = tip_service.top(deps, team_id=TEAM_ID, window=params["window"])
                self.respond("Most helpful tips", top_tips(params["window"], best))
            case "answer":
                recorded = checkins.record_answers(
                    deps, team_id=TEAM_ID, user_id=user, round_id=params["round_id"], answers=params["answers"]
                )
                assert recorded == checkins.Recorded(None), recorded
            case _:
                raise ValueError(item.kind)

    def capture(self, item: Item) -> None:
        """handlers/capture.py's reaction_added for the tip emoji on a message that is not a tip."""
        deps, params, user = self.services, item.params, item.params["user"]
        key = request_key({"event_id": event_of(item)})
        channel, ts = params["channel"], params["ts"]
        assert not tip_service.react(
            deps, team_id=TEAM_ID, event_id=event_of(item), channel_id=channel, ts=ts, user_id=user,
            reaction=TIP_EMOJI, request_key=key,
        )  # fmt: skip
        message = deps.slack.fetch_message(channel, ts)
        assert not isinstance(message, Failed), message
        saved = tip_service.save_message(
            deps, team_id=TEAM_ID, channel_id=channel, message=message, saved_by_id=user, source="reaction",
            request_key=key, event_id=event_of(item), reaction=TIP_EMOJI,
        )  # fmt: skip
        assert saved is not None
        assert saved.created
        tip = saved.tip
        note = f":{TIP_EMOJI}: Saved <@{tip.author_id}>'s message as tip #{tip.id}."
        failed = deps.slack.tell(user, note, channel=channel)
        assert failed is None, failed


# -- measuring ------------------------------------------------------------------------------------------
@dataclass
class Result:
    jobs: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)  # % of one core, by process

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """ms of CPU per job, every process of ours together (not what others on the machine took)."""
        ours = sum(value for name, value in self.cpu.items() if name not in ("machine", "others"))
        return ours * 10 / self.rate if self.rate else 0.0


def items_of(stage: Stage, kind: str, rng: random.Random) -> Callable[[], Item]:
    def next_item() -> Item:
        chosen = rng.choices(list(MIX), list(MIX.values()))[0] if kind == "mix" else kind
        return stage.item(chosen)

    return next_item


def run_floor(
    floor: Floor, next_item: Callable[[], Item], threads: int, seconds: float, double: DoubleProcess
) -> Result:
    """`threads` threads doing items until `seconds` have passed (or the items ran out)."""
    done = [0] * threads
    deadline = time.perf_counter() + seconds

    def loop(index: int) -> None:
        while time.perf_counter() < deadline:
            try:
                item = next_item()
            except StopIteration:
                return
            floor.run(item)
            done[index] += 1

    cpu = CpuMeter({"this process": os.getpid(), "slack double": double.pid}, floor.services.db.engine)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads, thread_name_prefix="floor") as pool:
        list(pool.map(loop, range(threads)))
    return Result(sum(done), time.perf_counter() - started, cpu.shares())


class CpuMeter:
    """CPU of some processes, of PostgreSQL's backends serving `database` (when it is PostgreSQL),
    and of the whole machine, as % of one core since it was made."""

    def __init__(self, pids: dict[str, int], database: Engine | None = None) -> None:
        self.pids = pids
        self.database = database if database is not None and database.dialect.name == "postgresql" else None
        self.started = time.perf_counter()
        self.backends = self._backends()
        self.readings = self._read()

    def _backends(self) -> dict[int, float]:
        if self.database is None:
            return {}
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        with self.database.connect() as connection:
            return {int(pid): benchlib.process_cpu_seconds(pid) for pid in connection.scalars(text(query))}

    def _read(self) -> dict[str, float]:
        readings = {name: benchlib.process_cpu_seconds(pid) for name, pid in self.pids.items()}
        readings["machine"] = benchlib.machine_busy_seconds()
        return readings

    def shares(self) -> dict[str, float]:
        wall = time.perf_counter() - self.started
        now, backends = self._read(), self._backends()
        shares = {name: 100 * (now[name] - self.readings[name]) / wall for name in now}
        if self.database is not None:  # backends started meanwhile count from 0
            used = sum(cpu - self.backends.get(pid, 0.0) for pid, cpu in backends.items())
            shares["postgres"] = 100 * used / wall
        shares["others"] = max(0.0, shares["machine"] - sum(v for k, v in shares.items() if k != "machine"))
        return shares


class CollectedJobs:
    """Stands in for the web app's JobQueue: keeps each acknowledged request's job, to queue them all at once."""

    def __init__(self) -> None:
        self.jobs: list[NewJob] = []

    def enqueue(self, job: NewJob) -> None:
        self.jobs.append(job)


class Workers:
    """`count` real `python app.py --role worker` processes."""

    def __init__(self, count: int, env: dict[str, str], logs: Path) -> None:
        self.logs = [logs / f"worker-{n}.log" for n in range(count)]
        self.processes = []
        for log in self.logs:
            with log.open("wb") as out:
                self.processes.append(app_process("worker", env, out))

    def pids(self) -> dict[str, int]:
        return {f"worker {n + 1}": process.pid for n, process in enumerate(self.processes)}

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"worker exited with {process.returncode}:\n{log.read_text()[-3000:]}")

    def stop(self) -> list[int | None]:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(None)
        return codes

    def problems(self) -> list[str]:
        lines = []
        for log in self.logs:
            lines += [
                line
                for line in log.read_text(errors="replace").splitlines()
                if " ERROR " in line or " WARNING " in line
            ]
        return lines


@dataclass
class Bench:
    args: argparse.Namespace
    tmp: Path
    database_url: str
    double: DoubleProcess
    db: Database
    stage: Stage
    settings: Settings
    sender: SlackSender
    collected: CollectedJobs
    floor: Floor
    env: dict[str, str]

    @property
    def queue(self) -> Database:
        return self.db.queue

    def busy(self) -> bool:
        """Any job not yet done: one index lookup, cheap enough to ask 50 times a second beside the
        workers (a count over a table full of rows just deleted cost PostgreSQL more CPU than them)."""
        with self.queue.engine.connect() as connection:
            return connection.scalar(select(Job.id).where(Job.due_at.is_not(None)).limit(1)) is not None

    def pending(self) -> tuple[int, int]:
        """Jobs not yet done (queued or running), and jobs failed for good."""
        failed = Job.state == "failed"
        with self.queue.engine.connect() as connection:
            row = connection.execute(select(func.count().filter(~failed), func.count().filter(failed))).one()
        return int(row[0]), int(row[1])

    def queue_jobs(self, items: list[Item]) -> list[NewJob]:
        """The jobs the web app queues for these requests (its acks run here; nothing is written yet)."""
        self.collected.jobs.clear()
        for item in items:
            send(self.sender, item)
        assert len(self.collected.jobs) == len(items), (len(self.collected.jobs), len(items))
        return list(self.collected.jobs)

    def write(self, jobs: list[NewJob]) -> None:
        with self.queue.driver_transaction() as cursor:
            DriverEnqueuer(self.queue.engine.dialect).enqueue_many(cursor, jobs, utcnow())

    def drain(self, workers: Workers, jobs: list[NewJob], timeout: float = 300.0) -> Result:
        """Queue `jobs` in one transaction and time the workers until the queue is empty."""
        _, failed_before = self.pending()
        cpu = CpuMeter({**workers.pids(), "slack double": self.double.pid}, self.db.engine)
        started = time.perf_counter()
        self.write(jobs)
        while (busy := self.busy()) and time.perf_counter() - started < timeout:
            workers.check_alive()
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        pending = self.pending()[0] if busy else 0
        shares = cpu.shares()
        failed = self.pending()[1] - failed_before
        if pending or failed:
            raise RuntimeError(f"{pending} jobs left after {timeout:.0f} s, {failed} failed: {workers.problems()[-5:]}")
        return Result(len(jobs), seconds, shares)

    def prepare(self, kind: str, count: int) -> None:
        """Fresh messages to capture and rounds to answer, enough for `count` jobs of `kind`."""
        if kind == "capture" and len(self.stage.messages) < count:
            self.stage.add_messages(count - len(self.stage.messages))
        if kind == "answer" and len(self.stage.participants) < count:
            self.stage.add_participants(count - len(self.stage.participants))


def cpu(result: Result) -> str:
    """Each process's CPU as % of one core, and the ms of CPU they spent per job all together."""
    shares = result.cpu
    parts = [f"{name} {value:.0f}%" for name, value in shares.items() if name not in ("machine", "others")]
    return (
        ", ".join(parts) + f" ({result.cpu_ms:.1f} ms a job); anything else on the machine {shares['others']:.0f}%"
        f" (of {100 * (os.cpu_count() or 1)}%)"
    )


def measure(bench: Bench, kinds: list[str]) -> dict[str, tuple[Result, Result]]:
    """Per kind, its floor, then one worker on as many jobs as the floor did in `--seconds` (back to
    back, so both meet the machine in the same state; the worker waits idle during the floor)."""
    args, results = bench.args, {}
    rng = random.Random(args.seed)
    print(
        f"\n-- per kind: the floor ({args.threads} threads calling the work directly for {args.seconds:g} s),"
        " then one `app.py --role worker` on as many jobs"
    )
    workers = start_workers(bench, 1)
    try:
        for kind in kinds:
            bench.prepare(kind, args.pool)
            floor = run_floor(bench.floor, items_of(bench.stage, kind, rng), args.threads, args.seconds, bench.double)
            done = f"{floor.rate:7,.0f} jobs/s ({floor.jobs:,} in {floor.seconds:.1f} s)"
            print(f"  {kind:<8s} floor  {done}; CPU: {cpu(floor)}")
            count = max(args.min_jobs, round(floor.rate * args.seconds))
            bench.prepare(kind, count)
            next_item = items_of(bench.stage, kind, rng)
            worker = bench.drain(workers, bench.queue_jobs([next_item() for _ in range(count)]))
            results[kind] = (floor, worker)
            print(
                f"  {'':<8s} worker {worker.rate:7,.0f} jobs/s ({worker.jobs:,} in {worker.seconds:.1f} s)"
                f" = {worker.rate / floor.rate:.2f}x the floor; CPU: {cpu(worker)}"
            )
    finally:
        stop_workers(workers)
    return results


def start_workers(bench: Bench, count: int, threads: int | None = None) -> Workers:
    """Start `count` workers (`threads` threads each, or `--threads`) and warm them up (each has run
    jobs) before anything is timed."""
    env = bench.env if threads is None else {**bench.env, "PEERLEARN_LISTENER_THREADS": str(threads)}
    workers = Workers(count, env, bench.tmp)
    rng = random.Random(-1)
    seen: set[str] = set()
    for _ in range(20):
        next_item = items_of(bench.stage, "vote", rng)
        bench.write(bench.queue_jobs([next_item() for _ in range(100 * count)]))
        while bench.busy():
            workers.check_alive()
            with bench.queue.engine.connect() as connection:
                seen.update(
                    str(h).split(":")[1] for h in connection.scalars(select(Job.holder).where(Job.holder.is_not(None)))
                )
            time.sleep(0.005)
        if len(seen) >= count:
            return workers
    workers.stop()
    raise RuntimeError(f"only {len(seen)} of {count} workers took jobs: {workers.problems()[-5:]}")


def release_connections(bench: Bench) -> None:
    """Close the connections this process keeps from its floor runs (one per floor thread, 34): with
    two workers' 34 each they passed PostgreSQL's default max_connections (100), and jobs failed to
    connect, to be retried 10 s later (2 workers on votes: 0.24x one, on 2026-12-01)."""
    bench.db.engine.dispose()
    if bench.queue is not bench.db:
        bench.queue.engine.dispose()


def stop_workers(workers: Workers) -> None:
    codes = workers.stop()
    problems = workers.problems()
    print(f"  workers stopped with SIGTERM: exit codes {codes}; {len(problems)} warnings/errors logged")
    for line in problems[-5:]:
        print(f"    {line[:200]}")


def speedup(
    bench: Bench, counts: list[int], kinds: list[str], floors: dict[str, Result]
) -> dict[str, dict[int, Result]]:
    """Each kind drained by 1, then by 2 (…) worker processes: as many jobs as its floor does in 2 x `--seconds`."""
    args = bench.args
    rng, results = random.Random(args.seed + 1), {kind: {} for kind in kinds}
    for kind in kinds:
        if kind not in floors:
            floors[kind] = run_floor(bench.floor, items_of(bench.stage, kind, rng), args.threads, 1.0, bench.double)
    sizes = {kind: max(args.min_jobs, round(floors[kind].rate * args.seconds * 2)) for kind in kinds}
    print(
        f"\n-- speed-up: {', '.join(f'{sizes[kind]:,} jobs of {kind}' for kind in kinds)},"
        f" drained by {' and by '.join(map(str, counts))} worker processes"
    )
    for workers_count in counts:
        release_connections(bench)
        workers = start_workers(bench, workers_count)
        try:
            for kind in kinds:
                bench.prepare(kind, sizes[kind])
                next_item = items_of(bench.stage, kind, rng)
                jobs = bench.queue_jobs([next_item() for _ in range(sizes[kind])])
                results[kind][workers_count] = result = bench.drain(workers, jobs)
                done = f"{result.rate:7,.0f} jobs/s ({result.seconds:.1f} s)"
                print(f"  {kind:<8s} {workers_count} worker(s): {done}; CPU: {cpu(result)}")
        finally:
            stop_workers(workers)
    return results


def latency_range(text: str) -> tuple[float, float]:
    """`--slack-latency`: "250" (ms, every call) or "100-250" (each call's drawn between them)."""
    least, _, most = text.partition("-")
    return float(least), float(most or least)


def slow_slack(bench: Bench, counts: list[int]) -> dict[int, Result]:
    """The mix while every Slack call takes `--slack-latency` ms, as Slack's own do (100-300 ms): a
    worker's jobs then mostly wait, so it is bound by its threads, not by its CPU, and a second worker
    process should nearly double the rate as long as the machine has CPU to spare. Each worker has
    `--slow-threads` threads: on a 2-core machine shared with others, 32 threads of one worker already
    keep the CPU left to us busy at Slack's pace (the mix costs ~10 ms of CPU a job, all processes
    together), which would measure the CPU again, not the threads."""
    args = bench.args
    rng, results = random.Random(args.seed + 2), {}
    least, most = latency_range(args.slack_latency)
    print(
        f"\n-- the mix while every Slack call (Web API, response_url) takes {least:g}-{most:g} ms:"
        f" {args.slow_jobs:,} jobs drained by {' and by '.join(map(str, counts))} worker processes"
        f" of {args.slow_threads} threads each"
    )
    bench.double.set_latency((least / 1000, most / 1000))
    try:
        for workers_count in counts:
            release_connections(bench)
            workers = start_workers(bench, workers_count, args.slow_threads)
            try:
                next_item = items_of(bench.stage, "mix", rng)
                jobs = bench.queue_jobs([next_item() for _ in range(args.slow_jobs)])
                results[workers_count] = result = bench.drain(workers, jobs)
            finally:
                stop_workers(workers)
            done = f"{result.rate:7,.0f} jobs/s ({result.seconds:.1f} s)"
            print(f"  mix      {workers_count} worker(s): {done}; CPU: {cpu(result)}")
    finally:
        bench.double.set_latency(0)
    return results


# -- chatter ---------------------------------------------------------------------------------------------
class ChatterRequests:
    """Signed message events that matter to nobody: what a busy channel sends the app."""

    def __init__(self, port: int, seed: int) -> None:
        self._verifier = SignatureVerifier(SIGNING_SECRET)
        self._host = f"127.0.0.1:{port}"
        self._rng = random.Random(seed)
        self._count = 0

    def next(self) -> tuple[str, bytes]:
        self._count += 1
        rng, now = self._rng, time.time()
        user = rng.choice(USERS)
        event: dict[str, Any] = {"type": "message", "channel": "C1", "channel_type": "channel", "ts": f"{now:.6f}"}
        kind = rng.choices(("message", "bot", "edit", "reply"), (70, 10, 10, 10))[0]
        if kind == "message":
            event.update(user=user, text="lunch anyone?")
        elif kind == "bot":
            event.update(subtype="bot_message", bot_id="B0OTHER", text="build passed")
        elif kind == "edit":
            event.update(subtype="message_changed", message={"user": user, "text": "edited", "ts": f"{now - 5:.6f}"})
        else:  # a reply in someone else's thread (Slack names the parent's author)
            event.update(user=user, text="+1", thread_ts=f"{now - 60:.6f}", parent_user_id=rng.choice(USERS))
        body = json.dumps(
            {
                "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0PEERLEARN",
                "event": event, "type": "event_callback", "event_id": f"EvChat{self._count:09d}",
                "event_time": int(now),
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
            }
        )  # fmt: skip
        timestamp = str(int(now))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body)
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: {self._host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
            f"X-Slack-Signature: {signature}\r\n\r\n"
        )
        return "chatter", head.encode() + body.encode()


def count_writes(engines: list[Engine]) -> None:
    """Triggers that count every row inserted, updated or deleted, in a `bench_writes` table."""
    for engine in engines:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE bench_writes (n INTEGER NOT NULL)"))
            connection.execute(text("INSERT INTO bench_writes VALUES (0)"))
            if engine.dialect.name == "postgresql":
                connection.execute(text(
                    "CREATE FUNCTION bench_count() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN UPDATE bench_writes SET n = n + 1; RETURN NULL; END $$"
                ))  # fmt: skip
                tables = connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            else:
                tables = connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            for table in [
                name for name in tables if name != "bench_writes" and not name.startswith(("sqlite_", "tips_fts"))
            ]:
                # Names from the catalogue of a scratch database this run made, not input.
                if engine.dialect.name == "postgresql":
                    trigger = (
                        f'CREATE TRIGGER bench_count AFTER INSERT OR UPDATE OR DELETE ON "{table}"'
                        " FOR EACH ROW EXECUTE FUNCTION bench_count()"
                    )
                    connection.execute(text(trigger))
                    continue
                for operation in ("INSERT", "UPDATE", "DELETE"):
                    trigger = (
                        f'CREATE TRIGGER "bench_{table}_{operation}" AFTER {operation} ON "{table}"'  # noqa: S608
                        " BEGIN UPDATE bench_writes SET n = n + 1; END"
                    )
                    connection.execute(text(trigger))


def writes(engines: list[Engine]) -> int:
    total = 0
    for engine in engines:
        with engine.connect() as connection:
            total += int(connection.scalar(text("SELECT n FROM bench_writes")) or 0)
    return total


def chatter(bench: Bench) -> dict[str, float]:
    args = bench.args
    engines = [bench.db.engine] + ([bench.queue.engine] if bench.queue is not bench.db else [])
    count_writes(engines)
    port = benchlib.free_port()
    env = {**bench.env, "HOST": "127.0.0.1", "PORT": str(port)}
    log = bench.tmp / "web.log"
    rate, seconds = args.chatter_rate, args.chatter_seconds
    print(
        f"\n-- chatter: `app.py --role web` sent {rate:g} message events a second that matter to nobody,"
        f" for {seconds:g} s"
    )
    with log.open("wb") as out:
        web = app_process("web", env, out)
    try:
        wait_healthy(port, web, log)
        server = benchlib.children_of(web.pid)  # gunicorn's worker
        before = writes(engines)
        meter = CpuMeter({"web worker": server[0] if server else web.pid}, bench.db.engine)
        chatter = ChatterRequests(port, args.seed)
        run = asyncio.run(open_loop(chatter, port, rate, seconds))  # type: ignore[arg-type]
        shares = meter.shares()
        time.sleep(0.5)
        written = writes(engines) - before
    finally:
        web.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            web.wait(30)
    outcomes: list[Outcome] = run.outcomes
    result = report_outcomes(outcomes, args.chatter_seconds, open_loop_rate=args.chatter_rate)
    ok = sum(1 for o in outcomes if o.status == 200)
    busy = shares["web worker"]
    print(
        f"  rows written meanwhile (every table, counted by triggers): {written}; the web worker was {busy:.0f}%"
        f" busy: {busy * 10 / max(rate, 1):.2f} ms of CPU a message"
    )
    return {"written": written, "acked": ok, "sent": len(outcomes), "p99": result["p99"]}


def app_process(role: str, env: dict[str, str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(benchlib.ROOT / "app.py"), "--role", role]
    return subprocess.Popen(command, cwd=benchlib.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"web exited {process.returncode}: {log.read_text()[-2000:]}")
        with suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            if answer.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError("web not healthy")


# -- main ------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server URL to use a scratch database on (default: SQLite)")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="each floor run's length; the worker gets as many jobs (default 3)"
    )
    parser.add_argument("--threads", type=int, default=32, help="the worker's threads, and the floor's (default 32)")
    parser.add_argument("--kinds", default=",".join((*KINDS, "mix")), help="job kinds to measure (default all and mix)")
    parser.add_argument(
        "--workers", default="1,2", help="worker processes for the speed-up runs (default 1,2; empty skips)"
    )
    parser.add_argument(
        "--speedup-kinds", default="vote,mix", help="job kinds the speed-up runs drain (default vote,mix)"
    )
    parser.add_argument(
        "--chatter-rate", type=float, default=1000, help="irrelevant messages a second (default 1000; 0 skips)"
    )
    parser.add_argument("--chatter-seconds", type=float, default=5, help="seconds of chatter (default 5)")
    parser.add_argument(
        "--slack-latency",
        default="100-250",
        help="ms every Slack call takes in the slow-Slack run, or a range each call's is drawn from (default 100-250;"
        " 0 skips)",
    )
    parser.add_argument(
        "--slow-jobs", type=int, default=1500, help="jobs of the mix in the slow-Slack run (default 1500)"
    )
    parser.add_argument(
        "--slow-threads", type=int, default=8, help="threads of each worker in the slow-Slack run (default 8)"
    )
    parser.add_argument("--tips", type=int, default=20_000, help="tips seeded first (default 20000)")
    parser.add_argument("--min-jobs", type=int, default=300, help="fewest jobs a worker run gets (default 300)")
    parser.add_argument(
        "--pool", type=int, default=3000, help="messages and round members ready for the floor (default 3000)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    kinds = [kind for kind in args.kinds.split(",") if kind]
    for kind in (*kinds, *args.speedup_kinds.split(",")):
        if kind not in (*KINDS, "mix"):
            parser.error(f"unknown kind {kind!r}")

    benchlib.print_header("bench/worker.py: the job worker against its floor")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="peerlearn-bench-")))
        database_url = stack.enter_context(benchlib.scratch_database(args.database_url, tmp))
        double = DoubleProcess()
        stack.callback(double.stop)
        # The double starts with U1…U50 and #general (C1) (http_load.py's); the rest of the people here.
        double.arrange([("add_user", (user, f"user{user[1:]}"), {}) for user in USERS[50:]])
        db = Database.connect(database_url, threads=args.threads)  # the floor's pool is the worker's
        stack.callback(db.dispose)
        upgrade(db.engine)
        corpus = Corpus.build(seed=args.seed)
        seeded = seed_tips(db.engine, tip_rows(corpus, args.tips, seed=args.seed))
        db.refresh_statistics()
        settings = Settings(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            slack_api_url=double.api_url,
            database_url=database_url,
            tip_emoji=TIP_EMOJI,
        )
        client = build_client(settings.bot_token, settings.slack_api_url)
        web = build_app(settings, client=client, db=db, workspace=Workspace(TEAM_ID))
        collected = CollectedJobs()
        web.listener_runner.lazy_listener_runner.queue = collected  # type: ignore[attr-defined]
        sender = SlackSender(wsgi_app(web, db, SIGNING_SECRET), ResponseUrls(double.url))  # type: ignore[arg-type]
        services = Services(
            db=db,
            slack=SlackGateway(client),
            users=UserDirectory(client, frozenset()),
            clock=utcnow,
            tip_emoji=TIP_EMOJI,
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "PEERLEARN_", "DATABASE_URL", "LOG_LEVEL", "TIP_EMOJI"))
        }
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_APP_TOKEN="",
            SLACK_API_URL=double.api_url, DATABASE_URL=database_url, LOG_LEVEL="WARNING", PEERLEARN_ADMINS="",
            TIP_EMOJI=TIP_EMOJI, PEERLEARN_LISTENER_THREADS=str(args.threads),
        )  # fmt: skip
        bench = Bench(
            args,
            tmp,
            database_url,
            double,
            db,
            Stage(double, db, corpus, args.seed),
            settings,
            sender,
            collected,
            Floor(services, double.url),
            env,
        )
        where = benchlib.describe_url(database_url) if args.database_url else "a file"
        print(
            f"setup: {db.dialect} ({where}), {seeded.tips:,} tips seeded; Slack double in its own process"
            f" (pid {double.pid}); {args.threads} threads for the floor and in each worker"
        )
        results = measure(bench, kinds) if kinds else {}
        counts = [int(n) for n in args.workers.split(",") if n]
        speedup_kinds = [kind for kind in args.speedup_kinds.split(",") if kind]
        floors = {kind: floor for kind, (floor, _) in results.items()}
        scaled = speedup(bench, counts, speedup_kinds, floors) if counts else {}
        slow = slow_slack(bench, counts or [1]) if latency_range(args.slack_latency)[1] > 0 else {}
        chat = chatter(bench) if args.chatter_rate > 0 else None
    summarize(args, results, scaled, slow, chat)
    return 0


def summarize(
    args: argparse.Namespace,
    results: dict[str, tuple[Result, Result]],
    scaled: dict[str, dict[int, Result]],
    slow: dict[int, Result],
    chat: dict[str, float] | None,
) -> None:
    print("\n-- summary (jobs/s; then CPU a job, all our processes, and its ratio floor / worker, which what")
    print("   others run on the machine meanwhile moves far less than the rates)")
    header = f"  {'kind':<8s} {'floor':>8s} {'worker':>8s} {'ratio':>6s}"
    print(header + f" {'CPU ms: floor':>14s} {'worker':>7s} {'ratio':>6s}")
    for kind, (floor, worker) in results.items():
        ratio = worker.rate / floor.rate
        cpu_ratio = floor.cpu_ms / worker.cpu_ms if worker.cpu_ms else 0.0
        target = (
            f"  (target >= {TARGET_RATIO}) {benchlib.verdict(ratio >= TARGET_RATIO)}" if kind in ("vote", "mix") else ""
        )
        print(
            f"  {kind:<8s} {floor.rate:8,.0f} {worker.rate:8,.0f} {ratio:6.2f}"
            f" {floor.cpu_ms:14.2f} {worker.cpu_ms:7.2f} {cpu_ratio:6.2f}{target}"
        )
    for kind, by_count in scaled.items():
        if len(by_count) < 2:
            continue
        one, most = by_count[min(by_count)], by_count[max(by_count)]
        gain = most.rate / one.rate
        print(
            f"  speed-up of {kind} with {max(by_count)} workers: {gain:.2f}x ({one.rate:,.0f} -> {most.rate:,.0f}"
            f" jobs/s; CPU {one.cpu_ms:.2f} -> {most.cpu_ms:.2f} ms a job)"
            f" (target >= {TARGET_SPEEDUP}x) {benchlib.verdict(gain >= TARGET_SPEEDUP)}"
        )
    for workers_count, result in slow.items():
        where = (
            f"the mix with Slack answering in {args.slack_latency} ms, {workers_count} worker(s)"
            f" of {args.slow_threads} threads"
        )
        print(f"  {where}: {result.rate:,.0f} jobs/s; CPU {result.cpu_ms:.2f} ms a job")
    if len(slow) >= 2:
        one, most = slow[min(slow)], slow[max(slow)]
        gain = most.rate / one.rate
        print(
            f"  speed-up of the mix with {max(slow)} workers of {args.slow_threads} threads, Slack answering in"
            f" {args.slack_latency} ms:"
            f" {gain:.2f}x (target >= {TARGET_SPEEDUP}x) {benchlib.verdict(gain >= TARGET_SPEEDUP)}"
        )
    if scaled or len(slow) >= 2:
        print(
            "  (with Slack at once, a worker is bound by its CPU: a second one helps only as far as the machine has"
            " a core to spare beside the first, PostgreSQL and the double; with Slack's latency its jobs mostly"
            " wait and its threads bound it, so a second worker adds threads, which help while the CPU is not"
            " yet taken: compare the CPU shares printed with each run)"
        )
    if chat is not None:
        print(
            f"  chatter: {chat['acked']:,.0f}/{chat['sent']:,.0f} acknowledged at {args.chatter_rate:g}/s,"
            f" p99 {chat['p99']:.1f} ms; rows written {chat['written']:.0f} (target 0)"
            f" {benchlib.verdict(chat['written'] == 0)}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
