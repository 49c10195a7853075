"""`/tip search` and `/tip top` over a realistic set of tips (100,000 by default).

Seeds a freshly migrated database with SQLAlchemy bulk inserts (see corpus.py for the data), then
times `bot.tips.rules.search` for a few hundred mixed queries and `bot.tips.rules.top` for each window, each
call inside `db.snapshot()` exactly as the /tip handler makes it. Prints p50/p95/p99/max per
operation, the seed time and this process's RSS.

    .venv/bin/python bench/search.py                      # SQLite file in a temp dir
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import benchlib
from corpus import OTHER_TEAM_ID, TEAM_ID, Corpus, seed_tips, tip_rows
from sqlalchemy import text

from bot.tips import rules as tips
from bot.tips.blocks import search_results
from storage.db import Database
from storage.migrate import upgrade

TARGET_P95_MS = 50.0


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

    timings: dict[str, list[float]] = defaultdict(list)
    found_counts: dict[str, list[int]] = defaultdict(list)
    render: list[float] = []
    slowest: list[tuple[float, str, str]] = []
    for category, query in queries:
        started = time.perf_counter()
        with db.snapshot() as session:
            found = tips.search(session, TEAM_ID, query)
        elapsed = time.perf_counter() - started
        timings["search (all)"].append(elapsed)
        timings[f"search {category}"].append(elapsed)
        found_counts[category].append(len(found))
        slowest.append((elapsed, category, query))
        started = time.perf_counter()
        search_results(query, found)
        render.append(time.perf_counter() - started)

    for window in tips.WINDOWS:
        for _ in range(args.top_repeats):
            started = time.perf_counter()
            with db.snapshot() as session:
                best = tips.top(session, TEAM_ID, window, now)
            timings[f"top {window}"].append(time.perf_counter() - started)
        print(f"top {window}: {len(best)} tips, helpful counts {[tip.helpful_count for tip in best]}")

    print()
    print(f"per operation (target p95 < {TARGET_P95_MS:.0f} ms), each call in its own db.snapshot():")
    for name in (
        "search (all)",
        *(f"search {c}" for c in sorted(found_counts)),
        "top week",
        "top month",
        "top all",
    ):
        values = timings[name]
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
    status = benchlib.proc_status_mb()
    print(f"process RSS after: {status.get('VmRSS', 0):.0f} MB (peak {status.get('VmHWM', 0):.0f} MB)")


if __name__ == "__main__":
    raise SystemExit(main())
