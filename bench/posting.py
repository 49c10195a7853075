"""Posting prompts to 1,000 channels through the real ScheduledPoster, against a rate-limited Slack double.

The double (tests.slack_double.SlackDouble, subclassed here) enforces Slack's limits on
chat.postMessage: at most 20 posts per workspace in any sliding 1 s window and 1 post per second per
channel. A request over either limit, and a seeded random 2% of the others, get HTTP 429 with
`Retry-After: 1` and `{"ok": false, "error": "ratelimited"}`. Every accepted post is recorded.

The database (SQLite file in a temp dir, or a scratch database on the PostgreSQL server named by
--database-url) holds 1,000 daily prompt schedules that fired a few minutes ago. One `run_due()` of
`ScheduledPoster(db, SlackGateway(build_client(..., max_retries=5)), pacer=PostPacer(rate), ...)`
is timed; 1,000 posts at 20/s take 50 s at best, and the target is wall <= 1.2 x 50 s with no
duplicate and no dropped post.

    .venv/bin/python bench/posting.py                         # SQLite, pacer at 19.5/s, 8 workers
    .venv/bin/python bench/posting.py --rate 20 --rate 19.5   # one fresh run per rate
    .venv/bin/python bench/posting.py --posters 2 --shared-holder   # two posters that both think they lead
    .venv/bin/python bench/posting.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import benchlib  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.schedules.posting import METADATA_EVENT, PostingSettings, RunReport, ScheduledPoster  # noqa: E402
from bot.slack.client import build_client  # noqa: E402
from bot.slack.gateway import SlackGateway  # noqa: E402
from bot.slack.pacing import PostPacer  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Schedule, ScheduledPost  # noqa: E402
from tests.slack_double import BOT_TOKEN, TEAM_ID, SlackDouble  # noqa: E402

IDEAL_RATE = 20.0  # Slack's workspace ceiling: N posts take N / 20 s at best
TARGET_RATIO = 1.2


# -- the machine and the database --------------------------------------------------------------


# -- Slack with its limits -----------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    channel: str
    at: float  # time.monotonic() when the double let it through
    ledger_id: int | None


class RateLimitedSlack(SlackDouble):
    """The Slack double, with chat.postMessage limited per workspace (sliding 1 s) and per channel, and
    seeded random 429s on top. Everything else answers as the base class does."""

    def __init__(self, *, per_workspace: int, channel_interval: float, inject: float, seed: int) -> None:
        super().__init__()
        self.per_workspace = per_workspace
        self.channel_interval = channel_interval
        self.inject = inject
        self.accepted: list[Accepted] = []
        self.rejected: Counter[str] = Counter()  # workspace | channel | injected
        self.attempts: Counter[str] = Counter()  # chat.postMessage requests per channel, 429s included
        self._random = random.Random(seed)
        self._window: deque[float] = deque()  # accepted posts in the last second
        self._channel_last: dict[str, float] = {}
        self._limits = threading.Lock()

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if method != "chat.postMessage" or token != BOT_TOKEN:
            return super().handle(method, args, token)
        channel = str(args.get("channel"))
        with self._limits:
            now = time.monotonic()
            self.attempts[channel] += 1
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.per_workspace:
                reason: str | None = "workspace"
            elif now - self._channel_last.get(channel, -math.inf) < self.channel_interval:
                reason = "channel"
            elif self._random.random() < self.inject:
                reason = "injected"
            else:
                reason = None
                self._window.append(now)
                self._channel_last[channel] = now
            if reason is not None:
                self.rejected[reason] += 1
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
        status, headers, body = super().handle(method, args, token)
        if body.get("ok"):
            with self._limits:
                self.accepted.append(Accepted(channel, now, _ledger_id(args.get("metadata"))))
        return status, headers, body


def _ledger_id(metadata: Any) -> int | None:
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return None
    value = (metadata.get("event_payload") or {}).get("ledger_id")
    return int(value) if value is not None else None


def busiest_second(times: list[float]) -> int:
    """The most posts in any sliding 1 s window."""
    ordered, most, start = sorted(times), 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


# -- a prototype of the fix this bench suggests (bench-only, not app code) ------------------------


def poster_client(url: str, args: argparse.Namespace, pacer: PostPacer) -> WebClient:
    """The client the app's scheduler uses. The posts' own 429s are not retried in it: the poster
    defers them (bot/slack/ratelimits.py), holding the channel or the workspace in the pacer."""
    return build_client(BOT_TOKEN, url, max_retries=args.max_retries, pacer=None if args.unpaced_retries else pacer)


# -- a run ----------------------------------------------------------------------------------------


class LogCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}"] += 1


def add_schedules(db: Database, channels: list[str], now: datetime, minutes_ago: int) -> None:
    """Daily prompts that fired `minutes_ago` (the shape of tests/storage/test_exactly_once.py)."""
    fired = now - timedelta(minutes=minutes_ago)
    with db.transaction() as session:
        for channel in channels:
            session.add(
                Schedule(
                    team_id=TEAM_ID, channel_id=channel, kind="prompt", cadence="daily", weekday=None,
                    at_time=fired.strftime("%H:%M"), zone="UTC", anchor=None, scope="workspace", configured_by="U4",
                    created_at=now - timedelta(days=2), updated_at=now - timedelta(days=2),
                )
            )  # fmt: skip


def run_once(db: Database, args: argparse.Namespace, rate: float) -> bool:
    channels = [f"C{n:05d}" for n in range(args.channels)]
    slack = RateLimitedSlack(
        per_workspace=args.workspace_limit, channel_interval=1.0, inject=args.inject, seed=args.seed
    )
    slack.start()
    logs = LogCounter()
    logging.getLogger().addHandler(logs)
    try:
        for channel in channels:
            slack.add_channel(channel, channel.lower())
        add_schedules(db, channels, clock(), args.minutes_ago)
        pacer = PostPacer(per_workspace_per_second=rate)  # one process: its posters share the pacer
        holders = ["bench-shared"] * args.posters if args.shared_holder else [f"bench-{n}" for n in range(args.posters)]
        posters = [
            ScheduledPoster(
                db,
                SlackGateway(poster_client(slack.api_url, args, pacer)),
                clock=clock,
                pacer=pacer,
                settings=PostingSettings(workers=args.workers),
                holder=holder,
            )
            for holder in holders
        ]
        started = time.monotonic()
        with ThreadPoolExecutor(len(posters)) as pool:
            timed = list(pool.map(lambda poster: _timed_run(poster, started), posters))
        wall = time.monotonic() - started
    finally:
        logging.getLogger().removeHandler(logs)
        slack.stop()
    return report(db, args, rate, slack, channels, timed, wall, started, logs)


def clock() -> datetime:
    return datetime.now(UTC)


def _timed_run(poster: ScheduledPoster, started: float) -> tuple[RunReport, float]:
    result = poster.run_due()
    return result, time.monotonic() - started


def report(
    db: Database,
    args: argparse.Namespace,
    rate: float,
    slack: RateLimitedSlack,
    channels: list[str],
    timed: list[tuple[RunReport, float]],
    wall: float,
    started: float,
    logs: LogCounter,
) -> bool:
    with db.snapshot() as session:
        statuses = Counter(
            {
                str(status): int(count)
                for status, count in session.execute(
                    select(ScheduledPost.status, func.count()).group_by(ScheduledPost.status)
                ).all()
            }
        )
        errors = Counter(
            str(error) for error in session.scalars(select(ScheduledPost.error).where(ScheduledPost.status != "posted"))
        )
    per_channel = Counter(post.channel for post in slack.accepted)
    duplicates = sum(count - 1 for count in per_channel.values() if count > 1)
    dropped = [channel for channel in channels if channel not in per_channel]
    not_posted = sum(count for status, count in statuses.items() if status != "posted")
    ledger_ids = Counter(post.ledger_id for post in slack.accepted)
    times = [post.at - started for post in slack.accepted]
    ideal = len(channels) / IDEAL_RATE
    ratio = wall / ideal
    ok = ratio <= TARGET_RATIO and duplicates == 0 and not dropped and not_posted == 0
    first, last = (min(times), max(times)) if times else (math.nan, math.nan)
    retried = sum(1 for count in slack.attempts.values() if count > 1)

    print()
    print(
        f"run: {len(channels):,} channels, pacer {rate}/s, {args.workers} workers, max_retries {args.max_retries},"
        f" {args.posters} poster(s){' sharing one holder' if args.shared_holder else ''}"
        f"{'; 429 retries outside the pacer (the old behaviour)' if args.unpaced_retries else ''}"
    )
    for index, (result, elapsed) in enumerate(timed):
        print(
            f"  poster {index}: leader={result.leader} claimed={result.claimed} posted={result.posted}"
            f" retrying={result.retrying} failed={result.failed} skipped={result.skipped} ({elapsed:.1f} s)"
        )
    print(f"  wall time of run_due: {wall:.1f} s; ideal {ideal:.0f} s at {IDEAL_RATE:.0f}/s; ratio {ratio:.3f}")
    print(
        f"  first post at {first:.2f} s (claiming), last at {last:.2f} s; posting phase {last - first:.1f} s"
        f" = {len(times) / max(last - first, 1e-9):.2f} posts/s; busiest sliding second {busiest_second(times)} posts"
    )
    print(
        f"  posts accepted {len(slack.accepted):,}; duplicates {duplicates} (channels posted twice:"
        f" {sum(1 for count in per_channel.values() if count > 1)}, ledger ids posted twice:"
        f" {sum(1 for count in ledger_ids.values() if count > 1)}); channels without a post {len(dropped)}"
    )
    print(f"  ledger rows by status {dict(sorted(statuses.items()))}; not posted {not_posted}; errors {dict(errors)}")
    print(
        f"  429s returned {sum(slack.rejected.values())}: limit-enforced {slack.rejected['workspace']} workspace"
        f" + {slack.rejected['channel']} channel, injected {slack.rejected['injected']};"
        f" chat.postMessage requests {sum(slack.attempts.values()):,},"
        f" posts retried {retried}, most attempts for one post {max(slack.attempts.values(), default=0)}"
    )
    if logs.counts:
        print(f"  warnings logged: {dict(logs.counts)}")
    print(
        f"  target wall <= {TARGET_RATIO} x {ideal:.0f} s, 0 duplicates, 0 drops: {'PASS' if ok else 'MISS'}"
        + ("" if not dropped else f" (first dropped: {dropped[:5]})")
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=1000, help="channels with a due prompt (default 1000)")
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help="PostPacer per_workspace_per_second; repeat for one fresh run per rate (default 19.5)",
    )
    parser.add_argument("--workers", type=int, default=8, help="PostingSettings.workers (default 8, the app's)")
    parser.add_argument("--max-retries", type=int, default=5, help="WebClient retries per call (default 5)")
    parser.add_argument("--inject", type=float, default=0.02, help="share of allowed posts answered 429 (0.02)")
    parser.add_argument("--workspace-limit", type=int, default=20, help="posts per sliding second (default 20)")
    parser.add_argument("--minutes-ago", type=int, default=3, help="the schedules fired this long ago (default 3)")
    parser.add_argument("--posters", type=int, default=1, help="ScheduledPosters running run_due at once (1)")
    parser.add_argument(
        "--shared-holder",
        action="store_true",
        help="give the posters one lease holder name, so all think they lead and only the ledger stops duplicates",
    )
    parser.add_argument(
        "--unpaced-retries",
        action="store_true",
        help="retry 429s outside the pacer, as the app did before bot.slack.pacing.PacedRateLimitRetryHandler"
        " (no effect on the posts since the poster defers their 429s: bot/slack/ratelimits.py)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the injected 429s (default 1)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; a scratch database is created on it and dropped afterwards"
        " (default: a SQLite file in a temp dir)",
    )
    args = parser.parse_args()
    rates = args.rate or [19.5]

    benchlib.print_header("bench/posting.py: ScheduledPoster.run_due to 1,000 channels under Slack's rate limits")
    print(
        f"double: {args.workspace_limit} posts per sliding second per workspace, 1 per second per channel,"
        f" {args.inject:.1%} injected 429s (seed {args.seed}), Retry-After: 1"
    )
    all_ok = True
    for rate in rates:
        with (
            tempfile.TemporaryDirectory(prefix="peerlearn-bench-posting-") as tmp,
            benchlib.scratch_database(args.database_url, Path(tmp)) as url,
        ):
            db = Database.connect(url)
            try:
                print(f"database: {db.dialect} {db.engine.url.render_as_string(hide_password=True)}")
                upgrade(db.engine)
                all_ok &= run_once(db, args, rate)
            finally:
                db.dispose()
    print()
    print(f"all runs: {'PASS' if all_ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
