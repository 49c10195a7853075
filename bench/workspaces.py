"""One deployment, 100 workspaces (OAuth mode): scheduled posts for 1,000 channels spread over them,
and what finding a request's installation costs an ack.

Part 1. 100 workspaces are installed (their installations saved through slack_sdk's SQLAlchemy store,
as the OAuth flow saves them), with 1,000 channels spread over them as companies come: a few large
workspaces and many small ones (channels per workspace proportional to 1/rank, from 193 down to 2).
Each channel has a daily prompt that fired a few minutes ago. One `run_due()` of the scheduler's
ScheduledPoster, built as `runtime.factory.build_schedulers` builds it in OAuth mode (each post made
with its workspace's own token through bot/slack/workspaces.py, paced per workspace), is timed
against the Slack double holding the 100 workspaces, which enforces Slack's limits on
chat.postMessage per workspace: at most 20 posts in any sliding second, 1 per second per channel
(HTTP 429 with Retry-After: 1 beyond them).

The floor is what Slack's limits allow when workspaces post in parallel: the largest workspace's
posts at 20/s (193 posts: 9.7 s). One workspace after another would take 1,000 / 20 = 50 s. Target:
wall <= 1.2 x the floor, every channel posted once, each with its own workspace's token.

Part 2. The installation lookup each request makes (PeerlearnAuthorize, from the cache) in
microseconds, against the target of 0.2 ms; and, for context, the ack of a signed `/tip` share in
OAuth mode and in single-workspace mode, in-process (the difference is within the noise of the
enqueue's write).

    .venv/bin/python bench/workspaces.py
    .venv/bin/python bench/workspaces.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import benchlib  # noqa: E402
from slack_bolt.context import BoltContext  # noqa: E402
from slack_sdk.oauth.installation_store import Installation  # noqa: E402
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.schedules.posting import PostingSettings, ScheduledPoster  # noqa: E402
from bot.slack.client import build_client  # noqa: E402
from bot.slack.gateway import SlackGateway  # noqa: E402
from bot.slack.installations import Installations  # noqa: E402
from bot.slack.pacing import PostPacer  # noqa: E402
from bot.slack.workspaces import SlackClients, TeamClient  # noqa: E402
from runtime.factory import build_app  # noqa: E402
from runtime.oauth import PeerlearnAuthorize  # noqa: E402
from runtime.serving import wsgi_app  # noqa: E402
from runtime.settings import OAuthSettings, Settings  # noqa: E402
from sandbox.workspace import Team  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Schedule, ScheduledPost  # noqa: E402
from tests.slack_double import BOT_TOKEN, TEAM, SlackDouble  # noqa: E402
from tests.slack_sender import SIGNING_SECRET, SlackSender  # noqa: E402

CLIENT_ID = "1000000000.2000000000"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
SLACK_RATE = 20.0  # Slack's per-workspace ceiling for chat.postMessage: n posts take n / 20 s at best
TARGET_RATIO = 1.2
LOOKUP_TARGET_MS = 0.2


def spread(channels: int, workspaces: int) -> list[int]:
    """Channels per workspace, proportional to 1/rank (largest first), summing to `channels`."""
    weights = [1 / rank for rank in range(1, workspaces + 1)]
    shares = [max(1, math.floor(channels * weight / sum(weights))) for weight in weights]
    for index in range(channels - sum(shares)):  # the rounding's remainder, to the largest first
        shares[index % workspaces] += 1
    return shares


# -- Slack, with its limits per workspace ----------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    team_id: str
    channel: str
    at: float
    token: str


class LimitedSlack(SlackDouble):
    """The double holding every workspace, limiting chat.postMessage per workspace (sliding second)
    and per channel, as Slack does. Other calls answer as the base class does."""

    def __init__(self, per_workspace: int, latency: float = 0.0) -> None:
        super().__init__()
        self.per_workspace = per_workspace
        self.latency = latency  # added to every Web API call, as the network and Slack add it
        self.accepted: list[Accepted] = []
        self.rejected: Counter[str] = Counter()
        self._windows: dict[str, deque[float]] = {}
        self._channel_last: dict[tuple[str, str], float] = {}
        self._limits = threading.Lock()

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if self.latency:
            time.sleep(self.latency)
        if method != "chat.postMessage":
            return super().handle(method, args, token)
        team_id, channel = self._owner_of(token, args).team.id, str(args.get("channel"))
        with self._limits:
            now = time.monotonic()
            window = self._windows.setdefault(team_id, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.per_workspace:
                reason: str | None = "workspace"
            elif now - self._channel_last.get((team_id, channel), -math.inf) < 1.0:
                reason = "channel"
            else:
                reason = None
                window.append(now)
                self._channel_last[(team_id, channel)] = now
            if reason is not None:
                self.rejected[reason] += 1
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
        status, headers, body = super().handle(method, args, token)
        if body.get("ok"):
            with self._limits:
                self.accepted.append(Accepted(team_id, channel, now, token or ""))
        return status, headers, body


def team_of(rank: int) -> Team:
    if rank == 0:
        return TEAM
    return Team(id=f"T{rank:04d}", name=f"Company {rank}", domain=f"company-{rank}", bot_user_id=TEAM.bot_user_id,
                bot_id=f"B{rank:04d}", app_id=TEAM.app_id)  # fmt: skip


def token_of(rank: int) -> str:
    return BOT_TOKEN if rank == 0 else f"xoxb-bench-{rank:04d}"


def _serve_slack(control: Connection, shares: list[int], latency: float) -> None:
    """The double in a process of its own (its request threads would otherwise take the GIL from the
    poster being measured): every workspace and its channels, then the accepted posts on request."""
    slack = LimitedSlack(per_workspace=int(SLACK_RATE), latency=latency)
    slack._server.socket.listen(1024)  # socketserver's backlog of 5 drops connections under load
    slack.start()
    for rank, count in enumerate(shares):
        double = slack if rank == 0 else slack.add_workspace(team_of(rank), bot_token=token_of(rank))
        for index in range(count):
            double.add_channel(channel_of(rank, index), channel_of(rank, index).lower())
    control.send(slack.api_url)
    while (command := control.recv()) != "stop":
        if command == "accepted":
            control.send([(p.team_id, p.channel, p.at, p.token) for p in slack.accepted])
            control.send(dict(slack.rejected))
        elif command == "cpu":  # the double's CPU seconds so far (it shares the cores with the poster)
            control.send(time.process_time())
    slack.stop()
    control.send("stopped")


class SlackProcess:
    def __init__(self, shares: list[int], latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self.process = context.Process(target=_serve_slack, args=(child, shares, latency), daemon=True)
        self.process.start()
        self.api_url: str = self._control.recv()

    def accepted(self) -> tuple[list[Accepted], dict[str, int]]:
        self._control.send("accepted")
        posts = [Accepted(*post) for post in self._control.recv()]
        return posts, self._control.recv()

    def cpu(self) -> float:
        self._control.send("cpu")
        return float(self._control.recv())

    def stop(self) -> None:
        with suppress(OSError, EOFError):
            self._control.send("stop")
            self._control.recv()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


def channel_of(rank: int, index: int) -> str:
    return f"C{rank:03d}X{index:04d}"


def install_all(db: Database, teams: list[Team]) -> None:
    """What the OAuth flow saves for each workspace, saved through the same store."""
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=db.engine)
    for rank, team in enumerate(teams):
        store.save(
            Installation(
                app_id=team.app_id, team_id=team.id, team_name=team.name, bot_token=token_of(rank),
                bot_id=team.bot_id, bot_user_id=team.bot_user_id, bot_scopes="commands,chat:write",
                user_id="U1", installed_at=time.time(),
            )
        )  # fmt: skip


# -- part 1: scheduled posts ------------------------------------------------------------------------


def scheduled_posts(db: Database, args: argparse.Namespace) -> bool:
    shares = spread(args.channels, args.workspaces)
    teams = [team_of(rank) for rank in range(args.workspaces)]
    slack = SlackProcess(shares, args.slack_latency)
    now = datetime.now(UTC)
    fired = now - timedelta(minutes=3)
    channels: dict[str, str] = {}  # channel -> team
    with db.transaction() as session:
        for rank, count in enumerate(shares):
            for index in range(count):
                channel = channel_of(rank, index)
                channels[channel] = teams[rank].id
                session.add(
                    Schedule(
                        team_id=teams[rank].id, channel_id=channel, kind="prompt", cadence="daily", weekday=None,
                        at_time=fired.strftime("%H:%M"), zone="UTC", anchor=None, scope="workspace",
                        configured_by="U1", created_at=now - timedelta(days=2), updated_at=now - timedelta(days=2),
                    )
                )  # fmt: skip
    install_all(db, teams)
    installations = Installations(db, CLIENT_ID)
    pacer = PostPacer(per_workspace_per_second=args.rate)
    client = TeamClient(SlackClients(installations, slack.api_url, pacer=pacer, max_retries=5))
    poster = ScheduledPoster(
        db,
        SlackGateway(client),
        clock=lambda: datetime.now(UTC),
        pacer=pacer,
        settings=PostingSettings(workers=args.workers),
        holder="bench-workspaces",
        served=installations.serves_team,
    )
    slack_cpu = slack.cpu()
    started, cpu = time.monotonic(), time.process_time()
    try:
        report = poster.run_due()
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        slack_cpu = slack.cpu() - slack_cpu
        accepted, rejected = slack.accepted()
    finally:
        poster.release_leadership()
        slack.stop()

    floor = max(shares) / SLACK_RATE
    ratio = wall / floor
    per_channel = Counter(post.channel for post in accepted)
    duplicates = sum(count - 1 for count in per_channel.values() if count > 1)
    dropped = [channel for channel in channels if channel not in per_channel]
    wrong_token = sum(1 for post in accepted if post.token != token_of(teams.index(_team(teams, post.team_id))))
    misplaced = sum(1 for post in accepted if channels.get(post.channel) != post.team_id)
    finished: dict[str, float] = {}
    for post in accepted:  # (the double's monotonic clock is the machine's, as ours)
        finished[post.team_id] = max(finished.get(post.team_id, 0.0), post.at - started)
    first = min((post.at - started for post in accepted), default=math.nan)
    with db.snapshot() as session:
        statuses = dict(
            session.execute(select(ScheduledPost.status, func.count()).group_by(ScheduledPost.status)).all()
        )
    ok = ratio <= TARGET_RATIO and not duplicates and not dropped and not wrong_token and not misplaced

    print()
    print(
        f"part 1: {args.channels:,} channels over {args.workspaces} workspaces (largest {shares[0]}, then"
        f" {shares[1]}, {shares[2]} … smallest {shares[-1]}); pacer {args.rate}/s per workspace; {args.workers} workers"
    )
    print(
        f"  run_due: claimed {report.claimed}, posted {report.posted}, retrying {report.retrying},"
        f" failed {report.failed}; first post at {first:.2f} s (claiming goes on meanwhile);"
        f" Slack latency {args.slack_latency * 1000:.0f} ms"
    )
    posts = max(report.claimed, 1)
    print(
        f"  CPU: the poster {cpu:.1f} s ({cpu / posts * 1000:.2f} ms a post), the Slack double {slack_cpu:.1f} s"
        f" ({slack_cpu / posts * 1000:.2f} ms a post), on {os.cpu_count()} cores; load average"
        f" {' '.join(f'{load:.2f}' for load in os.getloadavg())}"
    )
    print(
        f"  wall {wall:.2f} s; floor {floor:.2f} s (the largest workspace's {shares[0]} posts at {SLACK_RATE:.0f}/s);"
        f" ratio {ratio:.3f}; one workspace after another would take {args.channels / SLACK_RATE:.0f} s"
    )
    smallest_done = sorted(finished[team.id] for team in teams[-50:] if team.id in finished)
    print(
        f"  when each workspace's last post went: the largest at {finished.get(teams[0].id, math.nan):.2f} s,"
        f" the 50 smallest by {smallest_done[-1] if smallest_done else math.nan:.2f} s (median"
        f" {statistics.median(smallest_done) if smallest_done else math.nan:.2f} s)"
    )
    print(
        f"  posts accepted {len(accepted):,}; duplicates {duplicates}; channels without a post {len(dropped)};"
        f" posted with another workspace's token {wrong_token}; in another workspace {misplaced};"
        f" 429s {sum(rejected.values())} ({dict(rejected)}); ledger {statuses}"
    )
    print(f"  target wall <= {TARGET_RATIO} x floor, every channel once, own tokens: {'PASS' if ok else 'MISS'}")
    return ok


def _team(teams: list[Team], team_id: str) -> Team:
    return next(team for team in teams if team.id == team_id)


# -- part 2: the installation lookup in each request ------------------------------------------------


def lookup_cost(db: Database, args: argparse.Namespace, url: str) -> bool:
    with db.transaction() as session:  # part 1's rows would slow nothing, but keep the app's data clean
        session.execute(ScheduledPost.__table__.delete())
    installations = Installations(db, CLIENT_ID)
    authorize = PeerlearnAuthorize(installations)
    team_ids = [team_of(rank).id for rank in range(args.workspaces)]
    for team_id in team_ids:  # warm: each process reads each installation once per minute
        assert installations.bot_for(team_id) is not None
    context = BoltContext()
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        for team_id in team_ids:
            authorize(context=context, enterprise_id=None, team_id=team_id, user_id="U1")
    per_lookup_ms = (time.perf_counter() - started) / (rounds * len(team_ids)) * 1000

    acks = {mode: ack_times(db, url, mode, installations, args.acks) for mode in ("single", "oauth")}
    ok = per_lookup_ms < LOOKUP_TARGET_MS
    print()
    print(f"part 2: the installation lookup of each request (PeerlearnAuthorize, cached), {args.workspaces} workspaces")
    verdict, lookups = "PASS" if ok else "MISS", rounds * len(team_ids)
    print(
        f"  {per_lookup_ms * 1000:.1f} µs per request ({lookups:,} lookups); target < {LOOKUP_TARGET_MS} ms: {verdict}"
    )
    for mode, times in acks.items():
        ordered = sorted(times)
        print(
            f"  ack of a signed /tip share, {mode:>6} mode, in-process ({len(times)} requests): p50"
            f" {benchlib.percentile(ordered, 0.5) * 1000:.2f} ms,"
            f" p95 {benchlib.percentile(ordered, 0.95) * 1000:.2f} ms"
        )
    difference = statistics.median(acks["oauth"]) - statistics.median(acks["single"])
    print(
        f"  OAuth minus single-workspace, p50: {difference * 1000:+.2f} ms (the enqueue's write varies more than this)"
    )
    return ok


def ack_times(db: Database, url: str, mode: str, installations: Installations, count: int) -> list[float]:
    slack = SlackDouble().start()
    try:
        slack.add_channel("C1", "general", members=("U1",))
        slack.add_user("U1", "alice")
        oauth = None if mode == "single" else OAuthSettings(CLIENT_ID, CLIENT_SECRET)
        settings = Settings(
            bot_token=BOT_TOKEN if mode == "single" else None, signing_secret=SIGNING_SECRET,
            slack_api_url=slack.api_url, database_url=url, oauth=oauth,
        )  # fmt: skip
        client = build_client(settings.bot_token, slack.api_url)
        app = build_app(settings, client=client, db=db, installations=None if mode == "single" else installations)
        sender = SlackSender(wsgi_app(app, db, SIGNING_SECRET), slack)
        times = []
        for index in range(count):
            response = sender.command(f"Measure before you tune, number {index} #perf")
            assert response.status == 200, response.body
            times.append(response.elapsed)
        return times[count // 10 :]  # the first tenth warms up
    finally:
        slack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspaces", type=int, default=100, help="workspaces installed (default 100)")
    parser.add_argument("--channels", type=int, default=1000, help="channels with a due prompt (default 1000)")
    parser.add_argument("--rate", type=float, default=19.5, help="pacer, posts per second per workspace (19.5)")
    parser.add_argument("--workers", type=int, default=8, help="PostingSettings.workers (default 8, the app's)")
    parser.add_argument("--acks", type=int, default=1000, help="signed requests per mode in part 2 (default 1000)")
    parser.add_argument("--slack-latency", type=float, default=0.0, help="seconds added to each Slack call (0)")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (a scratch database is made); default SQLite")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    benchlib.print_header("bench/workspaces.py: one deployment, 100 workspaces (OAuth mode)")
    with (
        tempfile.TemporaryDirectory(prefix="peerlearn-bench-workspaces-") as tmp,
        benchlib.scratch_database(args.database_url, Path(tmp)) as url,
    ):
        db = Database.connect(url)
        try:
            print(f"database: {db.dialect}; Slack double in its own process, limits per workspace:"
                  f" {SLACK_RATE:.0f} posts per sliding second, 1 per second per channel")  # fmt: skip
            upgrade(db.engine)
            posts_ok = scheduled_posts(db, args)
            lookup_ok = lookup_cost(db, args, url)
        finally:
            db.dispose()
    print()
    print(f"all: {'PASS' if posts_ok and lookup_ok else 'MISS'}")
    print(json.dumps({"posts": posts_ok, "lookup": lookup_ok}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
