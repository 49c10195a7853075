"""Opening a check-in round for a large circle against Slack's posting limits.

The real CircleRunner (bot/circle_rounds.py) opens a round for a circle of N members (default 500)
against the Slack double, which here enforces chat.postMessage limits: 1 post per second per
channel and 20 per second per workspace (a sliding one-second window), answering 429 with
Retry-After beyond them. The floor those limits set is (N + 1 header) / 20 s; the target is a wall
time within 1.2x of it, with every member DMed exactly once.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchlib

from bot.circles.rounds import CircleRunner
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.users import UserDirectory
from storage import circles as queries
from storage.db import Database
from storage.migrate import upgrade
from tests.slack_double import BOT_TOKEN, TEAM_ID, SlackDouble

DUE = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)


class RateLimitedSlack(SlackDouble):
    """The double, refusing chat.postMessage beyond Slack's per-channel and per-workspace rates."""

    def __init__(self, per_workspace: int) -> None:
        super().__init__()
        self.per_workspace = per_workspace
        self.recent: collections.deque[float] = collections.deque()
        self.last_in_channel: dict[str, float] = {}
        self.refused = 0
        self.gate = threading.Lock()

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if method == "chat.postMessage":
            with self.gate:
                now = time.monotonic()
                while self.recent and now - self.recent[0] >= 1.0:
                    self.recent.popleft()
                channel = str(args.get("channel"))
                if len(self.recent) >= self.per_workspace or now - self.last_in_channel.get(channel, -9.0) < 1.0:
                    self.refused += 1
                    return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
                self.recent.append(now)
                self.last_in_channel[channel] = now
        return super().handle(method, args, token)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--limit", type=int, default=20, help="posts per second the double allows per workspace")
    parser.add_argument("--pace", type=float, default=19.0, help="posts per second the app aims for")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    benchlib.print_header("circles: open a round for a large circle under Slack's posting limits")

    slack = RateLimitedSlack(args.limit).start()
    members = [f"U{n:05d}" for n in range(args.members)]
    for user in members:
        slack.add_user(user, user.lower())
    slack.add_channel("C1", "circle")
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/circles.db"
        db = Database.connect(url)
        upgrade(db.engine)
        with db.transaction() as session:
            circle = queries.add_circle(
                session, team_id=TEAM_ID, name=f"Bench {time.time()}", name_key=f"bench {time.time()}", description="",
                channel_id="C1", cadence="daily", weekday=None, at_time=DUE.strftime("%H:%M"), zone="UTC", anchor=None,
                questions=json.dumps(["Learned?", "Stuck on?"]), reminder_minutes=240, window_minutes=1440,
                owner_id=members[0], created_at=DUE - timedelta(days=1), updated_at=DUE - timedelta(days=1),
            )  # fmt: skip
            for user in members:
                queries.add_member(session, circle, user)
        client = build_client(BOT_TOKEN, slack.api_url, max_retries=5)
        runner = CircleRunner(
            db,
            SlackGateway(client),
            UserDirectory(client, frozenset()),
            clock=lambda: datetime.now(UTC),
            pacer=PostPacer(per_workspace_per_second=args.pace),
            workers=args.workers,
        )
        started = time.perf_counter()
        report = runner.run_due()
        wall = time.perf_counter() - started
        db.dispose()
    slack.stop()

    dms = collections.Counter(p["channel"] for p in slack.posts() if p["channel"].startswith("U"))
    accepted = collections.Counter(c.name for c in slack.channels.values() if c.is_im for _ in c.messages)
    floor = (args.members + 1) / args.limit
    print(f"database: {url.split('://')[0]}   members: {args.members}   rounds opened: {report.opened}")
    print(f"double allows {args.limit} posts/s per workspace, 1/s per channel; app paces at {args.pace}/s")
    print(f"wall time: {wall:.1f} s   floor: {floor:.1f} s   ratio: {wall / floor:.2f} (target <= 1.2)")
    print(f"DMs delivered: {sum(accepted.values())}   members without a DM: {args.members - len(accepted)}")
    print(f"duplicate DMs: {sum(n - 1 for n in accepted.values() if n > 1)}   429s from the double: {slack.refused}")
    print(
        f"users.list calls: {len(slack.calls_to('users.list'))}   users.info calls: {len(slack.calls_to('users.info'))}"
    )
    print(f"DM attempts (incl. retried 429s): {sum(dms.values())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
