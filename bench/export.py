"""`/peerlearn export` of a large workspace (100,000 tips by default): time and memory.

Seeds a freshly migrated database (corpus.py's tips, all in one workspace), then runs the export use
case as the job worker does (`bot.people.export.export_tips`: rows streamed from the database into a
spooled file, uploaded by Slack's three-step flow) against the Slack double in a process of its own,
and downloads the shared file to check it holds every tip. Memory is this process's peak RSS during
the export, against its RSS before (the peak is reset first, so seeding does not count); for scale,
the same tips loaded whole as ORM objects, as a naive export would.

    .venv/bin/python bench/export.py                      # SQLite file in a temp dir
    .venv/bin/python bench/export.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import multiprocessing
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import benchlib
from corpus import TEAM_ID, Corpus, seed_tips, tip_rows
from slack_sdk import WebClient
from sqlalchemy import select

from bot.people.export import export_tips
from bot.people.files import Delivered
from bot.services import Services
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.users import UserDirectory
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Tip
from tests.slack_double import BOT_TOKEN, SlackDouble

ADMIN = "UADMIN"


def _serve_double(control: Connection) -> None:
    double = SlackDouble().start()
    double.add_user(ADMIN, "admin")
    control.send(double.url)
    control.recv()  # "stop"
    double.stop()


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux: /proc/self/clear_refs, 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measured(label: str, work: object) -> None:
    gc.collect()
    before = benchlib.proc_status_mb()
    reset = reset_peak_rss()
    started = time.perf_counter()
    result = work() if callable(work) else None
    elapsed = time.perf_counter() - started
    after = benchlib.proc_status_mb()
    peak = after.get("VmHWM", 0.0) - before.get("VmRSS", 0.0)
    note = "" if reset else " (peak not reset: includes seeding)"
    print(
        f"  {label:<34s} {elapsed:6.2f} s   RSS before {before.get('VmRSS', 0):5.0f} MB,"
        f" peak +{peak:6.1f} MB{note}   {result or ''}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tips", type=int, default=100_000, help="tips to seed (default 100000)")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: a SQLite file in a temp dir)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    benchlib.print_header("bench/export.py: /peerlearn export")
    context = multiprocessing.get_context("spawn")
    control, child = context.Pipe()
    double = context.Process(target=_serve_double, args=(child,), name="slack-double", daemon=True)
    double.start()
    url = control.recv()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="peerlearn-bench-") as tmp,
            benchlib.scratch_database(args.database_url, Path(tmp)) as database_url,
        ):
            db = Database.connect(database_url)
            try:
                run(db, args, WebClient(token=BOT_TOKEN, base_url=url + "/api/"), url)
            finally:
                db.dispose()
    finally:
        control.send("stop")
        double.join(5)
    return 0


def run(db: Database, args: argparse.Namespace, plain_client: WebClient, url: str) -> None:
    print(f"database: {db.dialect} ({benchlib.describe_url(str(db.engine.url))})")
    upgrade(db.engine)
    report = seed_tips(db.engine, tip_rows(Corpus.build(seed=args.seed), args.tips, seed=args.seed, other_team_share=0))
    print(f"seed: {report.tips:,} tips in {report.seconds:.1f} s")
    client = build_client(BOT_TOKEN, url + "/api/")
    services = Services(
        db=db,
        slack=SlackGateway(client),
        users=UserDirectory(client, frozenset({ADMIN})),
        clock=lambda: datetime.now(UTC),
        tip_emoji="bulb",
    )
    shared: list[Delivered] = []

    def export() -> str:
        delivered = export_tips(services, team_id=TEAM_ID, user_id=ADMIN, key=f"bench-{time.time()}")
        assert isinstance(delivered, Delivered), delivered
        shared.append(delivered)
        return f"file {delivered.file_id}"

    def load_whole() -> str:
        with db.snapshot() as session:
            tips = session.scalars(select(Tip).where(Tip.team_id == TEAM_ID)).all()
        return f"{len(tips):,} Tip objects"

    print("export (the use case as the job worker runs it) and, for scale, the tips loaded whole:")
    measured("export, streamed and uploaded", export)
    measured("naive: every tip as an ORM object", load_whole)

    history = plain_client.conversations_history(channel=shared[0].channel, limit=1)
    file = history["messages"][0]["files"][0]
    with urllib.request.urlopen(file["url_private_download"]) as answer:
        rows = sum(1 for _ in csv.reader(io.TextIOWrapper(answer, encoding="utf-8-sig", newline=""))) - 1
    print(f"shared file: {file['name']}, {file['size'] / 2**20:.1f} MB, {rows:,} tips")


if __name__ == "__main__":
    raise SystemExit(main())
