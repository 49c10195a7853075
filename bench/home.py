"""The App Home and the admins' figures for a big workspace: how long drawing one Home takes.

Seeds a freshly migrated database (SQLite in a temp dir by default, or a scratch database on the
PostgreSQL server named by --database-url) with a year of tips and helpful votes (the busiest
author has 1% of the tips), circles with a year of weekly rounds, a year of pairing rounds, and
300 schedules; then times, each in its own `db.snapshot()` as the job worker runs them:

- `home_summary` for the busiest author (their tips, votes this month and all time, their weekly
  streak, the week's most helpful, their circles with open rounds, their match);
- `admin_summary` (every schedule and circle, and the last 8 weeks' figures);
- `weekly_figures` over 52 weeks (what `/peerlearn report 52` counts), and the report's CSV and PNG;
- `home_view`: the blocks of the admin's whole Home.

Target: the whole Home (summary + admin part + blocks) under 500 ms at p95, far inside a job.

    .venv/bin/python bench/home.py                                    # SQLite, 100,000 tips / 500,000 votes
    .venv/bin/python bench/home.py --tips 20000 --votes 100000        # a quick run
    .venv/bin/python bench/home.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchlib
from sqlalchemy import insert

from bot.figures.report import report_csv, report_png
from bot.figures.weekly import weekly_figures
from bot.figures.weeks import last_weeks
from bot.home.admin import admin_summary
from bot.home.blocks import home_view
from bot.home.summary import home_summary
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    Circle,
    CircleMember,
    CircleRound,
    PairingGroup,
    PairingRound,
    RoundParticipant,
    Schedule,
    Tip,
    TipVote,
)

TEAM = "T0BENCH"
ZONE = "Europe/Berlin"
BATCH = 20_000


def seed(db: Database, tips: int, votes: int, now: datetime, rng: random.Random) -> str:
    """The data; returns the busiest author (who is also the admin looking at the Home)."""
    authors = [f"U{n:06d}" for n in range(2000)]
    heavy = authors[0]
    year = timedelta(days=365).total_seconds()

    def when() -> datetime:  # denser towards now
        return now - timedelta(seconds=year * (1 - rng.random() ** 0.5))

    rows = []
    for n in range(tips):
        author = heavy if n % 100 == 0 else rng.choice(authors)
        rows.append({"id": n + 1, "team_id": TEAM, "author_id": author, "text": f"tip {n} about git and sql",
                     "tags": "git", "source": "command", "created_at": when(), "helpful_count": 0})  # fmt: skip
    counts = [0] * tips
    vote_rows, seen = [], set()
    while len(vote_rows) < votes:
        tip = rng.randrange(tips)
        voter = rng.choice(authors)
        if (tip, voter) in seen or voter == rows[tip]["author_id"]:
            continue
        seen.add((tip, voter))
        counts[tip] += 1
        created = rows[tip]["created_at"] + timedelta(hours=rng.random() * 72)
        vote_rows.append({"tip_id": tip + 1, "user_id": voter, "team_id": TEAM,
                          "author_id": rows[tip]["author_id"], "created_at": min(created, now)})  # fmt: skip
    for row, count in zip(rows, counts, strict=True):
        row["helpful_count"] = count
    _insert(db, Tip, rows)
    _insert(db, TipVote, vote_rows)
    _circles_and_rounds(db, authors, heavy, now, rng)
    schedules = [{"team_id": TEAM, "channel_id": f"C{n:06d}", "kind": ("prompt", "digest", "pairing")[n % 3],
                  "cadence": "weekly", "weekday": n % 7, "at_time": "09:00", "zone": ZONE, "scope": "workspace",
                  "configured_by": heavy, "created_at": now, "updated_at": now} for n in range(300)]  # fmt: skip
    _insert(db, Schedule, schedules)
    return heavy


def _circles_and_rounds(db: Database, authors: list[str], heavy: str, now: datetime, rng: random.Random) -> None:
    circles, members, rounds, participants = [], [], [], []
    round_id = 0
    for c in range(200):
        circles.append({"id": c + 1, "team_id": TEAM, "name": f"Circle {c}", "name_key": f"circle {c}",
                        "description": "", "channel_id": "C000001", "cadence": "weekly", "weekday": c % 5,
                        "at_time": "09:00", "zone": ZONE, "questions": '["What did you learn?"]',
                        "reminder_minutes": 240, "window_minutes": 1440, "owner_id": heavy,
                        "created_at": now - timedelta(days=400), "updated_at": now - timedelta(days=400)})  # fmt: skip
        people = {heavy, *rng.sample(authors, 9)} if c < 12 else set(rng.sample(authors, 10))
        members += [{"circle_id": c + 1, "user_id": u, "team_id": TEAM, "streak": rng.randrange(8)} for u in people]
        for week in range(52):
            round_id += 1
            due = now - timedelta(weeks=week, hours=c % 24)
            rounds.append({"id": round_id, "team_id": TEAM, "circle_id": c + 1, "period": f"w{week}", "due_at": due,
                           "remind_at": due, "closes_at": due + timedelta(days=1), "channel_id": "C000001",
                           "status": "open" if week == 0 else "closed", "created_at": due})  # fmt: skip
            participants += [{"round_id": round_id, "user_id": u, "team_id": TEAM,
                              "status": rng.choice(("answered", "answered", "invited", "paused"))}
                             for u in people]  # fmt: skip
    _insert(db, Circle, circles)
    _insert(db, CircleMember, members)
    _insert(db, CircleRound, rounds)
    _insert(db, RoundParticipant, participants)
    pairing_rounds, groups = [], []
    for week in range(52):
        created = now - timedelta(weeks=week)
        pairing_rounds.append({"id": week + 1, "team_id": TEAM, "channel_id": "C000002", "period": f"p{week}",
                               "mode": "coffee", "size": 2, "seed": week, "status": "closed",
                               "configured_by": heavy, "pool_size": 400, "learners": 0, "learners_taught": 0,
                               "follow_up_at": created, "closes_at": created, "created_at": created})  # fmt: skip
        groups += [{"team_id": TEAM, "round_id": week + 1, "members": f"{a} {b}", "skills": "", "cross_team": False,
                    "outcome": rng.choice(("met", "met", "not_yet", "unknown"))}
                   for a, b in zip(authors[0:400:2], authors[1:400:2], strict=True)]  # fmt: skip
    _insert(db, PairingRound, pairing_rounds)
    _insert(db, PairingGroup, groups)


def _insert(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        with db.transaction() as session:
            session.execute(insert(model), rows[start : start + BATCH])


def timed(runs: int, work: Callable[[], object]) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tips", type=int, default=100_000)
    parser.add_argument("--votes", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", help="a PostgreSQL server (a scratch database is made and dropped)")
    args = parser.parse_args()
    benchlib.print_header("bench/home.py: the App Home and the admins' figures")
    now = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory() as directory,
        benchlib.scratch_database(args.database_url, Path(directory)) as url,
    ):
        db = Database.connect(url)
        upgrade(db.engine)
        started = time.perf_counter()
        heavy = seed(db, args.tips, args.votes, now, random.Random(12))
        print(f"database {benchlib.describe_url(url).split('/')[0]} | {args.tips:,} tips, {args.votes:,} votes, "
              f"200 circles x 52 weekly rounds, 52 pairing rounds x 200 groups, 300 schedules "
              f"| seeded in {time.perf_counter() - started:.0f} s")  # fmt: skip
        figures = {}

        def summary() -> Any:
            with db.snapshot() as session:
                return home_summary(session, TEAM, heavy, now, ZONE)

        def admin() -> Any:
            return admin_summary(db, TEAM, now, ZONE)

        def year() -> Any:
            with db.snapshot() as session:
                figures["year"] = weekly_figures(session, TEAM, last_weeks(now, ZONE, 52))
            return figures["year"]

        def whole_home() -> Any:
            return home_view(summary(), admin(), first_visit=True)

        results = {
            "home_summary (one person's part)": timed(args.runs, summary),
            "admin_summary (schedules, circles, 8 weeks)": timed(args.runs, admin),
            "weekly_figures over 52 weeks": timed(args.runs, year),
            "the whole admin Home, blocks included": timed(args.runs, whole_home),
            "report: CSV of 52 weeks": timed(args.runs, lambda: report_csv(figures["year"])),
            "report: PNG chart of 52 weeks": timed(max(3, args.runs // 4), lambda: report_png(figures["year"])),
        }
        for name, seconds in results.items():
            print(f"{name:<46} {benchlib.summary_ms(seconds)}")
        blocks = len(whole_home()["blocks"])
        p95 = benchlib.percentile(sorted(results["the whole admin Home, blocks included"]), 0.95) * 1000
        print(f"the admin's Home: {blocks} blocks (limit 100); p95 {p95:.0f} ms, target < 500 ms: "
              f"{benchlib.verdict(p95 < 500)}")  # fmt: skip
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
