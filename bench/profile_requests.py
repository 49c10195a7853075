"""Where a request's CPU goes: the real app in-process, one thread, under cProfile.

The app is built as app.py builds it (runtime.factory.build_app + runtime.serving.wsgi_app, and a job
worker from runtime.factory.build_job_worker), all in this thread: the web side's CPU per request (verify,
ack, enqueue) is `time.thread_time()` around the WSGI call alone (not the sender's signing and body
building, which Slack does), then the job worker's CPU per job around a one-thread drain of those
requests' jobs; cProfile sees every frame of the web side (`--side worker`:
of the job worker's drain). The Slack double runs in this process, in its own thread (its CPU is not
counted, but it takes the GIL from the drain: wall time and cProfile's worker figures include it). No
gunicorn, no HTTP client.

    .venv/bin/python bench/profile_requests.py [--requests 300] [--tips 20000] [--top 25] [--side worker]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import benchlib
from bare_app import build_bare_app
from corpus import TEAM_ID, Corpus, seed_tips, tip_rows, tip_targets

from bot.slack.client import build_client
from runtime.factory import build_app, build_job_worker
from runtime.serving import wsgi_app
from runtime.settings import Settings
from storage.db import Database
from storage.migrate import upgrade
from tests.slack_double import BOT_TOKEN, SlackDouble
from tests.slack_sender import SIGNING_SECRET, SlackSender


class Timed:
    """The WSGI app, its CPU and wall time counted (and profiled) only around its own call: the
    sender's signing and body building, which Slack does, are not the server's cost."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.profiler: cProfile.Profile | None = None
        self.reset()

    def reset(self) -> None:
        self.cpu = self.wall = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started_cpu, started = time.thread_time(), time.perf_counter()
        if self.profiler is not None:
            self.profiler.enable()
        try:
            return list(self.app(environ, start_response))  # the whole body, as a server writes it
        finally:
            if self.profiler is not None:
                self.profiler.disable()
            self.cpu += time.thread_time() - started_cpu
            self.wall += time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per kind (default 300)")
    parser.add_argument("--tips", type=int, default=20_000, help="tips seeded first (default 20000)")
    parser.add_argument("--top", type=int, default=25, help="functions to list per kind (default 25)")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative (default) or tottime")
    parser.add_argument(
        "--side", choices=("web", "worker"), default="web", help="which side cProfile lists: web (default) or worker"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    benchlib.print_header("bench/profile_requests.py: CPU per request kind, in-process, cProfile")
    with tempfile.TemporaryDirectory(prefix="peerlearn-bench-") as tmp:
        double = SlackDouble().start()
        try:
            profile(args, Path(tmp), double)
        finally:
            double.stop()
    return 0


def profile(args: argparse.Namespace, tmp: Path, double: SlackDouble) -> None:
    users = [f"U{n}" for n in range(1, 51)]
    for user in users:
        double.add_user(user, f"user{user[1:]}")
    double.add_channel("C1", "general", members=tuple(users))
    db = Database.connect(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(db.engine)
    corpus = Corpus.build(seed=args.seed)
    seeded = seed_tips(db.engine, tip_rows(corpus, args.tips, seed=args.seed))
    targets = list(tip_targets(db.engine, TEAM_ID, 2000))
    settings = Settings(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, slack_api_url=double.api_url, database_url=""
    )
    client = build_client(settings.bot_token, settings.slack_api_url)
    app = build_app(settings, client=client, db=db)
    worker = build_job_worker(settings, client=client, db=db, threads=1)
    timed = Timed(wsgi_app(app, db, SIGNING_SECRET))
    sender = SlackSender(timed, double)
    rng = random.Random(args.seed)
    print(f"SQLite, {seeded.tips:,} seeded tips; {args.requests} requests per kind after 20 warm-up ones")

    def share() -> Any:
        return sender.command(corpus.tip_text(rng)[0])

    def search() -> Any:
        return sender.command("search " + corpus.query(rng)[1])

    def reaction() -> Any:
        channel, ts, author = targets[min(int(rng.expovariate(1 / 200)), len(targets) - 1)]
        return sender.reaction("reaction_added", rng.choice(users), channel, ts, "+1", item_user=author)

    bare_timed = Timed(wsgi_app(build_bare_app(settings), db, SIGNING_SECRET))
    bare_sender = SlackSender(bare_timed, double)

    def bare_ack() -> Any:  # bench/bare_app.py: Bolt's own cost for the same /tip, ack() only
        return bare_sender.command("search " + corpus.query(rng)[1])

    kinds: dict[str, tuple[Callable[[], Any], Timed]] = {
        "share": (share, timed),
        "search": (search, timed),
        "reaction": (reaction, timed),
        "bare app /tip (ack only)": (bare_ack, bare_timed),
    }
    for name, (make, server) in kinds.items():
        for _ in range(20):
            make()
        worker.drain()
        server.reset()
        for _ in range(args.requests):
            response = make()
            assert response.status == 200, response.status
        cpu, wall = server.cpu, server.wall
        started_cpu = time.thread_time()
        jobs = worker.drain()
        job_cpu = (time.thread_time() - started_cpu) / max(jobs, 1)
        work = f"job worker {job_cpu * 1000:.2f} ms CPU per job ({jobs} jobs)" if jobs else "no jobs"
        print(
            f"\n-- {name}: web {cpu / args.requests * 1000:.2f} ms CPU per request in this thread"
            f" (wall {wall / args.requests * 1000:.2f} ms); {work};"
            f" cProfile of the {args.side} side of another {args.requests}:"
        )
        profiler = cProfile.Profile()
        web, jobs_side = (profiler, cProfile.Profile()) if args.side == "web" else (cProfile.Profile(), profiler)
        server.profiler = web
        for _ in range(args.requests):
            make()
        server.profiler = None
        jobs_side.enable()
        worker.drain()
        jobs_side.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
    db.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
