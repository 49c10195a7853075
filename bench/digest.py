"""Building a digest (`bot.schedules.digests.gather`) for a big workspace: 1,000,000 tips and 5,000,000 votes.

Seeds a freshly migrated database (SQLite file in a temp dir by default, or a scratch database on
the PostgreSQL server named by --database-url) with two years of tips and helpful votes, plus a
second, smaller workspace as noise, then times `gather` inside `db.snapshot()` exactly as the
scheduled poster calls it: a weekly workspace-wide digest, a weekly channel-only one and 14-day
ones. Prints p50/p95/max per digest (target: under 500 ms), the time of each SQL statement behind
it, and the query plan of any statement that is slow.

The data: tip times grow denser towards now (usage grows) over ~2 years; ~2,000 authors with a
skewed share each; a few origin channels; votes per tip skewed (most tips 0-3, ~1.5% hundreds);
`helpful_count` equals the tip's inserted votes; every vote is by someone other than the author,
carries the tip's author (`tip_votes.author_id`) and comes after the tip, mostly within days.
The digest channel also has two years of posted daily prompts and weekly digests in the ledger.

    .venv/bin/python bench/digest.py                                  # SQLite, 1M tips / 5M votes
    .venv/bin/python bench/digest.py --tips 100000 --votes 500000     # a quick run
    .venv/bin/python bench/digest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import benchlib  # noqa: E402
from sqlalchemy import Engine, event, func, insert, select, text  # noqa: E402

from bot.schedules import digests  # noqa: E402
from bot.schedules.prompt_bank import BUILTIN_PROMPTS  # noqa: E402
from storage import digests as digest_queries  # noqa: E402
from storage import schedules as schedule_queries  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ScheduledPost, Tip, TipVote  # noqa: E402

TEAM_ID = "T0TEST"
NOISE_TEAM_ID = "T0NOISE"
TARGET_MS = 500.0
# Where tips are shared, and how much of the workspace's sharing each channel sees.
CHANNELS = ("C0GENERAL", "C0ENG", "C0DATA", "C0FRONTEND", "C0OPS", "C0MOBILE", "C0DESIGN", "C0RANDOM")
CHANNEL_WEIGHTS = (30, 20, 15, 10, 10, 7, 5, 3)
QUIET_CHANNEL = "C0NEWTEAM"  # where a channel-only digest was set up but nobody has shared a tip yet
SENTENCES = (
    "use git bisect to find the commit that broke a test run the query with explain before adding an index "
    "keep docker layers small cache pip downloads pin versions in a lockfile review small pull requests "
    "write the runbook while the incident is fresh prefer feature flags over long branches log request ids"
)
WORDS = SENTENCES.split()
TAGS = ("git", "sql", "docker", "python", "testing", "ops", "review", "career")
DAY_US = 86_400_000_000


# -- the machine and the database --------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def is_prime(number: int) -> bool:
    return number > 1 and all(number % divisor for divisor in range(2, math.isqrt(number) + 1))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


# -- the data ------------------------------------------------------------------------------------


class TimeText:
    """Microseconds since the epoch as the database's text for a UTC timestamp, fast (day prefixes cached)."""

    def __init__(self, suffix: str) -> None:
        self._suffix = suffix
        self._days: dict[int, str] = {}

    def __call__(self, epoch_us: int) -> str:
        day, rest = divmod(epoch_us, DAY_US)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (datetime(1970, 1, 1) + timedelta(days=day)).strftime("%Y-%m-%d ")
        seconds, micros = divmod(rest, 1_000_000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{micros:06d}{self._suffix}"


def to_us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@dataclass
class Workspace:
    """One team's tips, as parallel lists indexed like `ids` (oldest first)."""

    team_id: str
    ids: list[int]
    created_us: list[int]
    authors: list[int]  # user index of the author
    channels: list[str]
    votes: list[int]  # helpful votes each tip gets (= helpful_count)


@dataclass(frozen=True)
class Shape:
    tips: int
    votes: int
    authors: int
    users: int  # prime: voters are drawn as offset + j*stride (mod users), all distinct
    days: int
    noise_share: float
    seed: int
    now: datetime


def vote_counts(rng: random.Random, count: int, target: int, most: int) -> list[int]:
    """Votes per tip: 55% none, 30% 1-3, 13.5% a few to dozens, 1.5% hundreds; scaled to sum to `target`."""
    counts = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.55:
            counts.append(0)
        elif roll < 0.85:
            counts.append(rng.randint(1, 3))
        elif roll < 0.985:
            counts.append(4 + int(rng.expovariate(1 / 8)))
        else:
            counts.append(rng.randint(50, 400))
    total = sum(counts)
    if target <= 0 or total == 0:
        return [0] * count
    factor = target / total
    scaled = []
    for value in counts:
        exact = value * factor
        whole = int(exact)
        scaled.append(min(most, whole + (1 if rng.random() < exact - whole else 0)))
    difference = target - sum(scaled)
    while difference:  # a few hundred ±1 steps on random tips settle the total exactly
        index = rng.randrange(count)
        if difference > 0 and scaled[index] < most:
            scaled[index] += 1
            difference -= 1
        elif difference < 0 and scaled[index] > 0:
            scaled[index] -= 1
            difference += 1
    return scaled


def build_workspaces(shape: Shape) -> list[Workspace]:
    rng = random.Random(shape.seed)
    noise_tips = int(shape.tips * shape.noise_share)
    total = shape.tips + noise_tips
    now_us = to_us(shape.now)
    span_us = shape.days * DAY_US
    # Density grows linearly towards now: the last week has about twice the average week's tips.
    created = sorted(now_us - span_us + int(span_us * math.sqrt(rng.random())) for _ in range(total - 1))
    created.append(now_us - 60_000_000)  # one tip a minute ago, for the newest edge
    created.sort()
    noise = set(rng.sample(range(total), noise_tips))
    author_weights = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(shape.authors)))
    channel_cum = list(itertools.accumulate(CHANNEL_WEIGHTS))
    workspaces = []
    for team_id, tips, votes in (
        (TEAM_ID, shape.tips, shape.votes),
        (NOISE_TEAM_ID, noise_tips, int(shape.votes * shape.noise_share)),
    ):
        indexes = [i for i in range(total) if (i in noise) == (team_id == NOISE_TEAM_ID)]
        authors = rng.choices(range(shape.authors), cum_weights=author_weights, k=tips)
        channels = rng.choices(CHANNELS, cum_weights=channel_cum, k=tips)
        workspaces.append(
            Workspace(
                team_id=team_id,
                ids=[i + 1 for i in indexes],
                created_us=[created[i] for i in indexes],
                authors=authors,
                channels=channels,
                votes=vote_counts(rng, tips, votes, shape.users - 1),
            )
        )
    return workspaces


TIP_COLUMNS = (
    "id, team_id, number, author_id, saved_by_id, text, tags, source, origin_channel_id, channel_id, message_ts,"
    " permalink, helpful_count, created_at"
)
# After the load: each workspace's tip counter at its last number (as migration 0021 sets it).
COUNTERS = (
    "INSERT INTO workspace_counters (team_id, kind, last) SELECT team_id, 'tip', max(number) FROM tips GROUP BY team_id"
)
VOTE_COLUMNS = "tip_id, user_id, team_id, author_id, created_at"


def tip_rows(workspaces: list[Workspace], shape: Shape, when: Callable[[int], str]) -> Iterator[tuple[Any, ...]]:
    """`tips` rows in id order (both workspaces interleaved, as in one database serving many)."""
    rng = random.Random(shape.seed + 1)
    merged = sorted(
        (tip_id, space, index) for space in workspaces for index, tip_id in enumerate(space.ids)
    )  # ids are unique across workspaces
    numbers: dict[str, int] = {}
    for tip_id, space, index in merged:
        numbers[space.team_id] = number = numbers.get(space.team_id, 0) + 1
        created_us = space.created_us[index]
        channel = space.channels[index]
        source = "command" if rng.random() < 0.7 else "reaction"
        ts = f"{created_us // 1_000_000}.{tip_id % 1_000_000:06d}"
        yield (
            tip_id,
            space.team_id,
            number,
            f"U{space.authors[index]:05d}",
            None if source == "command" else f"U{rng.randrange(shape.users):05d}",
            " ".join(rng.choices(WORDS, k=rng.randint(8, 16))).capitalize() + ".",
            rng.choice(TAGS) if rng.random() < 0.4 else "",
            source,
            channel,
            channel,
            ts,
            f"https://peerlearn.slack.com/archives/{channel}/p{ts.replace('.', '')}",
            space.votes[index],
            when(created_us),
        )


def vote_rows(workspaces: list[Workspace], shape: Shape, when: Callable[[int], str]) -> Iterator[tuple[Any, ...]]:
    """Every tip's votes, by distinct people other than its author, after it was shared, mostly soon after."""
    rng = random.Random(shape.seed + 2)
    users = [f"U{n:05d}" for n in range(shape.users)]
    now_us = to_us(shape.now)
    for space in workspaces:
        team_id = space.team_id
        for index, tip_id in enumerate(space.ids):
            count = space.votes[index]
            if not count:
                continue
            created_us, author = space.created_us[index], space.authors[index]
            age_us = max(1, now_us - created_us - 1)
            mean_us = (30 if count >= 50 else 2) * DAY_US
            tail = 1 - math.exp(-age_us / mean_us)  # truncated exponential delay: every vote lands before now
            offset, stride = rng.randrange(shape.users), rng.randrange(1, shape.users)
            author_id = users[author]
            voter, made = offset, 0
            while made < count:
                if voter != author:
                    delay = 1_000_000 + int(-mean_us * math.log(1 - rng.random() * tail))
                    yield tip_id, users[voter], team_id, author_id, when(created_us + min(delay, age_us))
                    made += 1
                voter = (voter + stride) % shape.users


def ledger_rows(shape: Shape, hit_ids: list[int]) -> list[dict[str, Any]]:
    """Two years of posted daily prompts and weekly digests in the digest channels (the recap and the
    recently-resurfaced exclusion read them)."""
    rng = random.Random(shape.seed + 3)
    rows: list[dict[str, Any]] = []
    day0 = shape.now.replace(hour=9, minute=0, second=0, microsecond=0)
    if day0 > shape.now:
        day0 -= timedelta(days=1)
    for channel, back in itertools.product((CHANNELS[0], QUIET_CHANNEL), range(shape.days)):
        due = day0 - timedelta(days=back)
        base = {"team_id": TEAM_ID, "channel_id": channel, "schedule_id": None, "due_at": due}
        common = {"status": "posted", "attempts": 1, "lease_until": None, "error": None, "posted_at": due}
        rows.append(
            {
                **base,
                **common,
                "kind": "prompt",
                "period": due.date().isoformat(),
                "message_ts": f"{int(due.timestamp())}.000100",
                "prompt_key": BUILTIN_PROMPTS[back % len(BUILTIN_PROMPTS)].key,
                "prompt_cycle": back // len(BUILTIN_PROMPTS),
                "resurfaced_tip_id": None,
                "reply_count": rng.randint(0, 12),
                "created_at": due,
            }
        )
        if back % 7 == 0 and hit_ids:
            rows.append(
                {
                    **base,
                    **common,
                    "kind": "digest",
                    "period": due.date().isoformat(),
                    "message_ts": f"{int(due.timestamp())}.000200",
                    "prompt_key": None,
                    "prompt_cycle": None,
                    "resurfaced_tip_id": rng.choice(hit_ids),
                    "reply_count": 0,
                    "created_at": due,
                }
            )
    return rows


# -- seeding ---------------------------------------------------------------------------------------


def batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def seed_sqlite(engine: Engine, tips: Iterator[tuple[Any, ...]], votes: Iterator[tuple[Any, ...]]) -> None:
    """Large executemany batches on the raw sqlite3 connection, synchronous=OFF for the load only."""
    raw = engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MB, for the index inserts
        for sql, rows in (
            (f"INSERT INTO tips ({TIP_COLUMNS}) VALUES ({', '.join('?' * 14)})", tips),  # noqa: S608
            (f"INSERT INTO tip_votes ({VOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?)", votes),  # noqa: S608
        ):
            for chunk in batches(rows, 200_000):  # a transaction per chunk keeps the WAL from growing huge
                connection.execute("BEGIN")
                connection.executemany(sql, chunk)
                connection.execute("COMMIT")
        connection.execute(COUNTERS)
        connection.commit()
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def seed_postgres(engine: Engine, tips: Iterator[tuple[Any, ...]], votes: Iterator[tuple[Any, ...]]) -> None:
    """COPY through psycopg's cursor.copy on the raw connection."""
    raw = engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            for table, columns, rows in (("tips", TIP_COLUMNS, tips), ("tip_votes", VOTE_COLUMNS, votes)):
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cursor.execute("SELECT setval(pg_get_serial_sequence('tips', 'id'), (SELECT max(id) FROM tips))")
            cursor.execute(COUNTERS)
        connection.commit()
    finally:
        raw.close()


def seed(db: Database, shape: Shape) -> tuple[list[Workspace], float]:
    started = time.perf_counter()
    workspaces = build_workspaces(shape)
    generated = time.perf_counter() - started
    when = TimeText("" if db.dialect == "sqlite" else "+00")
    check = datetime(2025, 3, 4, 5, 6, 7, 891_011, tzinfo=UTC)
    column_type = Tip.__table__.c.created_at.type.dialect_impl(db.engine.dialect)
    processor = column_type.bind_processor(db.engine.dialect)
    expected = processor(check) if processor else check
    if db.dialect == "sqlite":  # the raw rows must hold the very text SQLAlchemy writes and compares
        assert when(to_us(check)) == expected, (when(to_us(check)), expected)
    load = seed_sqlite if db.dialect == "sqlite" else seed_postgres
    load(db.engine, tip_rows(workspaces, shape, when), vote_rows(workspaces, shape, when))
    main = workspaces[0]
    hits = [tip_id for tip_id, votes in zip(main.ids, main.votes, strict=True) if votes >= 50]
    with db.engine.begin() as connection:
        connection.execute(insert(ScheduledPost.__table__), ledger_rows(shape, hits))  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    print(f"seed: {elapsed:.1f} s (generating the shape {generated:.1f} s, the rest rows + load)")
    return workspaces, elapsed


def settle(db: Database, tmp: Path, analyze_sqlite: bool) -> None:
    if db.dialect == "postgresql":
        # autovacuum vacuums and analyzes an insert-only table this size soon after the load (PG 13+):
        # bench the steady state (statistics, visibility map for index-only scans), not the gap.
        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        print(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s (what autovacuum does after a bulk load)")
        print(f"database size: {size / 2**20:,.0f} MB")
        return
    if analyze_sqlite:
        started = time.perf_counter()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        print(f"ANALYZE: {time.perf_counter() - started:.1f} s (--sqlite-analyze; the app itself never runs it)")
    else:
        print("SQLite: no ANALYZE (the app never runs it), so the planner has no sqlite_stat1")
    print(f"SQLite file: {(tmp / 'bench.db').stat().st_size / 2**20:,.0f} MB")


# -- timing ------------------------------------------------------------------------------------------


class QueryTimer:
    """Times each storage query `gather` makes (call to return, rows fetched) by wrapping the functions in
    their modules for this process, and keeps the SQL and parameters each one last ran, for EXPLAIN."""

    def __init__(self, engine: Engine) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.last: dict[str, tuple[str, Any]] = {}
        self._current: str | None = None
        for module in (digest_queries, schedule_queries):
            for name in TIMED[module.__name__]:
                setattr(module, name, self._timed(f"{module.__name__.removeprefix('storage.')}.{name}", module, name))
        event.listen(engine, "before_cursor_execute", self._statement)

    def reset(self) -> None:
        self.times.clear()

    def _timed(self, label: str, module: Any, name: str) -> Callable[..., Any]:
        function = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._current = label
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.times[label].append(time.perf_counter() - started)
                self._current = None

        return timed

    def _statement(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if self._current is not None:
            self.last[self._current] = (statement, parameters)


TIMED = {
    "storage.digests": ("sharing_counts", "best_tips_shared", "top_teachers", "most_helpful_older_tip"),
    "storage.schedules": ("posts_between", "recent_posts"),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    days: int
    channel_only: bool
    channel: str = CHANNELS[0]


SCENARIOS = (
    Scenario("weekly, workspace-wide", 7, False),
    Scenario("weekly, channel-only (busiest channel)", 7, True),
    Scenario("14-day, workspace-wide", 14, False),
    Scenario("14-day, channel-only (busiest channel)", 14, True),
    Scenario("weekly, channel-only (a channel with no tips yet)", 7, True, QUIET_CHANNEL),
)


def gather_once(db: Database, scenario: Scenario, now: datetime) -> tuple[float, digests.Digest]:
    started = time.perf_counter()
    with db.snapshot() as session:
        digest = digests.gather(
            session,
            team_id=TEAM_ID,
            channel_id=scenario.channel,
            channel_only=scenario.channel_only,
            start=now - timedelta(days=scenario.days),
            end=now,
        )
    return time.perf_counter() - started, digest


def describe(digest: digests.Digest) -> str:
    best = [tip.helpful_count for tip in digest.best]
    teachers = ", ".join(f"{author}:{votes}" for author, votes in digest.teachers)
    resurfaced = f"#{digest.resurfaced.id} ({digest.resurfaced.helpful_count} votes)" if digest.resurfaced else "none"
    recap = f"{digest.prompt.replies} replies" if digest.prompt else "none"
    return (
        f"{digest.tips_shared:,} tips by {digest.sharers:,} people; best helpful {best}; teachers {teachers};"
        f" prompt recap {recap}; resurfaced {resurfaced}"
    )


def votes_between(db: Database, start: datetime, end: datetime) -> int:
    """The index range top_teachers reads (with a join to tips per vote when channel-only)."""
    query = select(func.count()).where(
        TipVote.team_id == TEAM_ID, TipVote.created_at >= start, TipVote.created_at < end
    )
    with db.snapshot() as session:
        return int(session.scalar(query) or 0)


def explain(db: Database, statement: str, parameters: Any) -> list[str]:
    with db.engine.connect() as connection:
        if db.dialect == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * depth[node] + str(detail))
            return lines
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
        return [str(row[0]) for row in rows]


def bench(db: Database, args: argparse.Namespace, now: datetime) -> bool:
    timer = QueryTimer(db.engine)
    all_ok = True
    for scenario in SCENARIOS:
        cold, digest = gather_once(db, scenario, now)
        timer.reset()
        totals = []
        for _ in range(args.runs):
            elapsed, digest = gather_once(db, scenario, now)
            totals.append(elapsed)
        p50, p95, worst = percentile(totals, 0.5), percentile(totals, 0.95), max(totals)
        ok = p95 * 1000 < TARGET_MS
        all_ok &= ok
        print()
        scope = f"tips from {scenario.channel} only" if scenario.channel_only else "all channels"
        print(f"{scenario.name}: last {scenario.days} days, {scope}, posted in {scenario.channel}")
        print(
            f"  gather  n={len(totals)}  p50 {ms(p50)}  p95 {ms(p95)}  max {ms(worst)} ms"
            f"  first (untimed warm-up) {ms(cold)} ms  {'PASS' if ok else 'MISS'} (< {TARGET_MS:.0f} ms)"
        )
        print(f"  digest: {describe(digest)}")
        window_votes = votes_between(db, now - timedelta(days=scenario.days), now)
        print(f"  votes in the window, whole workspace: {window_votes:,}")
        print("  per query, call to last row (p50 / p95 / max ms):")
        slow = []
        for label, values in sorted(timer.times.items(), key=lambda item: -percentile(item[1], 0.5)):
            s50, s95 = percentile(values, 0.5), percentile(values, 0.95)
            print(f"    {label:<36s} {ms(s50)} {ms(s95)} {ms(max(values))}")
            if args.explain == "all" or (args.explain == "slow" and s95 * 1000 >= args.slow_ms):
                slow.append(label)
        for label in slow:
            statement, parameters = timer.last[label]
            print(f"  plan of {label}:")
            print("    " + " ".join(statement.split()))
            print(f"    parameters: {parameters}")
            for line in explain(db, statement, parameters):
                print(f"      {line}")
    return all_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tips", type=int, default=1_000_000, help="tips in the workspace (default 1000000)")
    parser.add_argument("--votes", type=int, default=5_000_000, help="helpful votes in it (default 5000000)")
    parser.add_argument("--authors", type=int, default=2000, help="people who share tips (default 2000)")
    parser.add_argument("--users", type=int, default=5003, help="people who vote; a prime (default 5003)")
    parser.add_argument("--days", type=int, default=730, help="history the tips span (default 730)")
    parser.add_argument("--noise-share", type=float, default=0.1, help="second workspace's size (default 0.1)")
    parser.add_argument("--runs", type=int, default=25, help="timed gathers per digest (default 25)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--explain",
        choices=("slow", "all", "none"),
        default="slow",
        help="print query plans of slow statements (default), of all, or none",
    )
    parser.add_argument("--slow-ms", type=float, default=50.0, help="'slow' statement: p95 at least this (50)")
    parser.add_argument("--sqlite-analyze", action="store_true", help="run ANALYZE on SQLite before timing")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; a scratch database is created on it and dropped afterwards"
        " (default: a SQLite file in a temp dir)",
    )
    args = parser.parse_args()
    if not all(args.users > n for n in (2, args.authors)) or any(
        args.users % d == 0 for d in range(2, math.isqrt(args.users) + 1)
    ):
        parser.error("--users must be a prime larger than --authors")

    benchlib.print_header("bench/digest.py: bot.schedules.digests.gather on a big workspace")
    now = datetime.now(UTC).replace(microsecond=0)
    shape = Shape(args.tips, args.votes, args.authors, args.users, args.days, args.noise_share, args.seed, now)
    with (
        tempfile.TemporaryDirectory(prefix="peerlearn-bench-digest-") as tmp,
        benchlib.scratch_database(args.database_url, Path(tmp)) as url,
    ):
        db = Database.connect(url)
        try:
            print(f"database: {db.dialect} {db.engine.url.render_as_string(hide_password=True)}")
            if db.dialect == "sqlite":
                import sqlite3

                print(f"SQLite library {sqlite3.sqlite_version}")
            else:
                with db.snapshot() as session:
                    print(session.execute(text("SELECT version()")).scalar_one())
            upgrade(db.engine)
            noise = int(args.tips * args.noise_share)
            print(
                f"shape: {TEAM_ID} {args.tips:,} tips / {args.votes:,} votes over {args.days} days,"
                f" {args.authors:,} authors, {args.users:,} voters, {len(CHANNELS)} channels;"
                f" noise {NOISE_TEAM_ID} {noise:,} tips / {int(args.votes * args.noise_share):,} votes"
            )
            seed(db, shape)
            settle(db, Path(tmp), args.sqlite_analyze)
            with db.snapshot() as session:
                counts = session.execute(
                    text("SELECT team_id, count(*), sum(helpful_count) FROM tips GROUP BY team_id ORDER BY team_id")
                ).all()
                rows = session.execute(text("SELECT team_id, count(*) FROM tip_votes GROUP BY team_id")).all()
                votes = {str(team_id): int(count) for team_id, count in rows}
            for team_id, tips, helpful in counts:
                print(f"  {team_id}: {tips:,} tips, sum(helpful_count) {helpful:,}, {votes.get(team_id, 0):,} votes")
            ok = bench(db, args, now)
        finally:
            db.dispose()
    print()
    print(f"target p95 < {TARGET_MS:.0f} ms for every digest: {'PASS' if ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
