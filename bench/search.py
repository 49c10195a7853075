"""`/tip search` and `/tip top` over a realistic set of tips (100,000 by default).

Seeds a freshly migrated database with SQLAlchemy bulk inserts (see corpus.py for the data), then
times `bot.tips.rules.search` for a few hundred mixed queries and `bot.tips.rules.top` for each window, each
call inside `db.snapshot()` exactly as the /tip handler makes it. Prints p50/p95/p99/max per
operation, and the CPU time each call took (this process, plus on PostgreSQL the server process that
ran its statements, from /proc/<pid>/schedstat: steadier than wall time when other work shares
the cores), the seed time and this process's RSS, how busy the machine was meanwhile, and beside the
timings a relevance check: known queries (corpus.KNOWN_QUERIES, planted among the tips with their
near misses) whose best tip must come first, and how often the first result and the ten agree with
the former ranking (relevance and helpfulness over tips holding any of the words, no levels).

    .venv/bin/python bench/search.py                      # SQLite file in a temp dir
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import benchlib
from corpus import (
    KNOWN_QUERIES,
    OTHER_TEAM_ID,
    TEAM_ID,
    Corpus,
    any_word_ranking,
    known_query_rows,
    seed_tips,
    tip_rows,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.text import search_words
from bot.tips import rules as tips
from bot.tips.blocks import search_results
from storage.db import Database
from storage.migrate import upgrade

TARGET_P95_MS = 20.0


class ServerClock:
    """CPU time the PostgreSQL backend serving `session` used since this was made (0 on SQLite)."""

    def __init__(self, session: Session) -> None:
        self.path: Path | None = None
        if session.get_bind().dialect.name == "postgresql":
            pid = session.connection().connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            self.path = Path(f"/proc/{pid}/schedstat")
        self.started = self.read()

    def read(self) -> float:
        try:
            return int(self.path.read_text().split()[0]) / 1e9 if self.path else 0.0
        except OSError:  # a server on another machine
            return 0.0

    def elapsed(self) -> float:
        return self.read() - self.started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tips", type=int, default=100_000, help="tips to seed (default 100000)")
    parser.add_argument("--queries", type=int, default=300, help="search queries to time (default 300)")
    parser.add_argument("--top-repeats", type=int, default=50, help="calls per /tip top window (default 50)")
    parser.add_argument("--vocabulary", type=int, default=4000, help="distinct words (default 4000)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; a scratch database is created on it and dropped after"
        " (default: a SQLite file in a temp dir)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for data and queries")
    args = parser.parse_args()

    benchlib.print_header("bench/search.py: /tip search and /tip top")
    with (
        tempfile.TemporaryDirectory(prefix="peerlearn-bench-") as tmp,
        benchlib.scratch_database(args.database_url, Path(tmp)) as url,
    ):
        db = Database.connect(url)
        try:
            run(db, args, Path(tmp))
        finally:
            db.dispose()
    return 0


def run(db: Database, args: argparse.Namespace, tmp: Path) -> None:
    print(f"database: {db.dialect} ({benchlib.describe_url(str(db.engine.url))})")
    upgrade(db.engine)
    corpus = Corpus.build(args.vocabulary, seed=args.seed)
    now = datetime.now(UTC)
    report = seed_tips(db.engine, tip_rows(corpus, args.tips, seed=args.seed, now=now))
    seed_tips(db.engine, known_query_rows(now))
    print(
        f"seed: {report.tips:,} tips in {report.seconds:.1f} s ({report.tips / report.seconds:,.0f} tips/s),"
        f" {args.vocabulary:,}-word Zipf vocabulary, ~10% in a second workspace"
    )
    if db.dialect == "postgresql":
        # autovacuum would analyze a table this size within a minute of the load; don't bench the gap
        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
        print(f"ANALYZE: {time.perf_counter() - started:.1f} s (what autovacuum does after a bulk load)")
    else:
        size = (tmp / "bench.db").stat().st_size / 2**20
        print(f"SQLite file: {size:.0f} MB (no ANALYZE: the app never runs it)")
    with db.snapshot() as session:
        counts: dict[str, int] = dict(
            session.execute(text("SELECT team_id, count(*) FROM tips GROUP BY team_id")).all()
        )
    print(f"tips per workspace: {TEAM_ID}={counts.get(TEAM_ID, 0):,} {OTHER_TEAM_ID}={counts.get(OTHER_TEAM_ID, 0):,}")

    rng = random.Random(args.seed + 1)
    queries = [corpus.query(rng) for _ in range(args.queries)]
    for _, query in queries[:20]:  # warm the page cache and the statement caches; not counted
        with db.snapshot() as session:
            tips.search(session, TEAM_ID, query)

    busy_before, own_before = benchlib.machine_busy_seconds(), time.process_time()
    timed_before = time.perf_counter()
    timings: dict[str, list[float]] = defaultdict(list)
    found_counts: dict[str, list[int]] = defaultdict(list)
    render: list[float] = []
    slowest: list[tuple[float, str, str]] = []
    cpu_timings: dict[str, list[float]] = defaultdict(list)
    for category, query in queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        with db.snapshot() as session:
            server = ServerClock(session)
            found = tips.search(session, TEAM_ID, query)
            server_cpu = server.elapsed()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started + server_cpu
        for name in ("search (all)", f"search {category}"):
            timings[name].append(elapsed)
            cpu_timings[name].append(cpu)
        found_counts[category].append(len(found))
        slowest.append((elapsed, category, query))
        started = time.perf_counter()
        search_results(query, found)
        render.append(time.perf_counter() - started)

    for window in tips.WINDOWS:
        for _ in range(args.top_repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            with db.snapshot() as session:
                server = ServerClock(session)
                best = tips.top(session, TEAM_ID, window, now)
                server_cpu = server.elapsed()
            timings[f"top {window}"].append(time.perf_counter() - started)
            cpu_timings[f"top {window}"].append(time.process_time() - cpu_started + server_cpu)
        print(f"top {window}: {len(best)} tips, helpful counts {[tip.helpful_count for tip in best]}")

    timed_seconds = time.perf_counter() - timed_before
    others = benchlib.machine_busy_seconds() - busy_before - (time.process_time() - own_before)
    print()
    print(
        f"while timing ({timed_seconds:.1f} s): other processes used {others / timed_seconds:.2f} of the"
        f" {os.cpu_count()} cores"
        f" (the database server among them on PostgreSQL)"
    )
    print(f"per operation (target p95 < {TARGET_P95_MS:.0f} ms), each call in its own db.snapshot():")
    names = ("search (all)", *(f"search {c}" for c in sorted(found_counts)), "top week", "top month", "top all")
    for name in names:
        values = timings[name]
        p95 = benchlib.percentile(sorted(values), 0.95) * 1000
        print(f"  {name:<16s} {benchlib.summary_ms(values)}  {benchlib.verdict(p95 < TARGET_P95_MS)}")
    whose = "this process's and its PostgreSQL server process's" if db.dialect == "postgresql" else "this process's"
    print(f"CPU time per operation ({whose}; steadier than wall time when other work shares the cores):")
    for name in names:
        values = cpu_timings[name]
        p95 = benchlib.percentile(sorted(values), 0.95) * 1000
        print(f"  {name:<16s} {benchlib.summary_ms(values)}  {benchlib.verdict(p95 < TARGET_P95_MS)}")
    print(f"  {'render results':<16s} {benchlib.summary_ms(render)}  (search_results blocks, for scale)")
    print(
        "results per query (mean of up to 10): "
        + ", ".join(f"{c} {sum(v) / len(v):.1f}" for c, v in sorted(found_counts.items()))
    )
    print("slowest queries:")
    for elapsed, category, query in sorted(slowest, reverse=True)[:5]:
        print(f"  {elapsed * 1000:8.1f} ms  {category:<8s} {query!r}")
    print_relevance(db, [query for _, query in queries])
    status = benchlib.proc_status_mb()
    print(f"process RSS after: {status.get('VmRSS', 0):.0f} MB (peak {status.get('VmHWM', 0):.0f} MB)")


def print_relevance(db: Database, queries: list[str]) -> None:
    """Known queries whose best tip must come first, and agreement with the former ranking."""
    first = 0
    misses: list[str] = []
    with db.snapshot() as session:
        for case in KNOWN_QUERIES:
            best = session.execute(
                text("SELECT id FROM tips WHERE team_id = :team_id AND text = :text"),
                {"team_id": TEAM_ID, "text": case.best},
            ).scalar_one()
            found = [tip.id for tip in tips.search(session, TEAM_ID, case.query)]
            if found[:1] == [best]:
                first += 1
            else:
                place = f"#{found.index(best) + 1}" if best in found else "not in the ten"
                misses.append(f"  {case.query!r}: best tip {place}")
        same_first = same_ten = compared = 0
        for query in queries:
            words = search_words(query)
            if len(words) < 2:  # one word: one level, the former ranking by construction
                continue
            now_ids = [tip.id for tip in tips.search(session, TEAM_ID, query)]
            former = any_word_ranking(session, TEAM_ID, words, limit=10)
            compared += 1
            same_first += now_ids[:1] == former[:1]
            same_ten += now_ids == former
    print(f"relevance: {first}/{len(KNOWN_QUERIES)} known queries rank their best tip first")
    for miss in misses:
        print(miss)
    print(
        f"against the former ranking (any word, no levels), over the {compared} timed queries of several"
        f" words: same first tip {same_first}, same ten in the same order {same_ten}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
