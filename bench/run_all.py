"""Every benchmark with its defaults, one after the other, each in a fresh process (`make bench`).

  1. http_load.py: the real server under load on SQLite, and a bare Bolt app for comparison;
  2. search.py on SQLite;
  3. search.py on PostgreSQL, when a server answers ($BENCH_DATABASE_URL, else $TEST_DATABASE_URL,
     else postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a scratch database is made and dropped;
  4. worker.py (the job worker against its floor) on SQLite, and on PostgreSQL when a server answers;
  5. circles.py, sandbox.py, refused_requests.py, pairing.py, export.py, home.py, questions.py (SQLite,
     then PostgreSQL), and digest.py, posting.py and workspaces.py (the scheduler's; the last with 100
     workspaces from one deployment).

Exits non-zero only when a benchmark could not run; missed targets are in the printed figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import benchlib

BENCH = benchlib.ROOT / "bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-http", action="store_true", help="leave out http_load.py")
    parser.add_argument("--skip-search", action="store_true", help="leave out search.py")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only for search, the worker and questions")
    args = parser.parse_args()

    benchlib.print_header("bench/run_all.py")
    runs: list[tuple[str, list[str]]] = []
    if not args.skip_http:
        runs.append(("http_load", [str(BENCH / "http_load.py")]))
    if not args.skip_search:
        runs.append(("search on SQLite", [str(BENCH / "search.py")]))
        postgres = None if args.skip_postgres else benchlib.postgres_server_url()
        if postgres:
            runs.append(("search on PostgreSQL", [str(BENCH / "search.py"), "--database-url", postgres]))
        elif not args.skip_postgres:
            print(
                "PostgreSQL: no server answers at 127.0.0.1:5432 (or $BENCH_DATABASE_URL); search runs on SQLite only"
            )
    runs.append(("job worker against its floor, SQLite", [str(BENCH / "worker.py")]))
    if postgres := None if args.skip_postgres else benchlib.postgres_server_url():
        runs.append(
            ("job worker against its floor, PostgreSQL", [str(BENCH / "worker.py"), "--database-url", postgres])
        )
    runs.append(("circles: a round for 500 members", [str(BENCH / "circles.py")]))
    runs.append(("sandbox: the page's requests", [str(BENCH / "sandbox.py")]))
    runs.append(("refused requests: 50 MB and malformed bodies", [str(BENCH / "refused_requests.py")]))
    runs.append(("pairing: 5,000 people, quality against the optimum", [str(BENCH / "pairing.py")]))
    runs.append(("export: 100,000 tips as a CSV in a DM", [str(BENCH / "export.py")]))
    runs.append(("home: the App Home and the admins' figures", [str(BENCH / "home.py")]))
    runs.append(("questions: whom to ask, on SQLite", [str(BENCH / "questions.py")]))
    if (postgres_url := None if args.skip_postgres else benchlib.postgres_server_url()) is not None:
        runs.append(
            ("questions: whom to ask, on PostgreSQL", [str(BENCH / "questions.py"), "--database-url", postgres_url])
        )
    for extra in ("digest.py", "posting.py", "workspaces.py"):  # the scheduler's benchmarks, when present
        if (BENCH / extra).exists():
            runs.append((extra, [str(BENCH / extra)]))

    failed = []
    for name, command in runs:
        print(flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, *command], cwd=benchlib.ROOT)
        print(f"[{name}: exit {code} after {time.perf_counter() - started:.0f} s]", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nFAILED to run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
