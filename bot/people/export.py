"""`/peerlearn export`: every tip of the workspace as a CSV file in the admin's DM.

The rows are streamed from the database (bot/people/files.py spools them to disk past 1 MB), so a
workspace of 100,000 tips exports in a few megabytes of memory (bench/export.py). Cells a
spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) are
prefixed with `'`, so a tip can never become a formula in the admin's spreadsheet.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from bot.people.files import Delivered, FileToSend, deliver
from bot.services import Services
from bot.slack.results import Failed
from storage import people_data as queries

log = logging.getLogger(__name__)

HEADER = ("number", "author", "text", "tags", "channel", "created", "helpful_votes", "permalink")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ADMINS_ONLY = "Only workspace admins and owners, and Peerlearn's own admins, can export the workspace's tips."


@dataclass(frozen=True)
class Refused:
    text: str


def safe_cell(value: str) -> str:
    """A text cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_row(values: Sequence[Any]) -> list[str | int]:
    return [safe_cell(value) if isinstance(value, str) else value for value in values]


def write_tips_csv(rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    """The CSV of `rows` (storage's TIP_COLUMNS) in UTF-8 with a BOM (so Excel reads it as UTF-8); how many rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(HEADER)
    count = 0
    for number, author, body, tags, channel, created, helpful, permalink in rows:
        writer.writerow(csv_row((number, author, body, tags, channel or "", _iso(created), helpful, permalink or "")))
        count += 1
    text.flush()
    text.detach()  # the caller's file stays open
    return count


def export_tips(services: Services, *, team_id: str, user_id: str, key: str) -> Delivered | Failed | Refused:
    """The workspace's tips to an admin (asked of Slack now, within the request's team), once per request."""
    status = services.users.admin_status(user_id, team_id)
    if isinstance(status, Failed):
        return Refused(
            f"I couldn't check your admin rights with Slack just now (`{status.error}`), so I didn't export "
            "anything. Please try again in a minute."
        )
    if not status:
        log.info("export refused: not an admin team=%s user=%s", team_id, user_id)
        return Refused(ADMINS_ONLY)
    exported: list[int] = []

    def write(out: BinaryIO) -> None:
        with services.db.snapshot() as session:
            exported.append(write_tips_csv(queries.workspace_tips(session, team_id), out))

    day = services.clock().astimezone(UTC).strftime("%Y-%m-%d")
    file = FileToSend(
        kind="export",
        filename=f"peerlearn-tips-{day}.csv",
        title=f"Peerlearn tips, {day}",
        comment="Here are the workspace's tips, as you asked (`/peerlearn export`). "
        "Only you can see this file unless you share it.",
        write=write,
    )
    delivered = deliver(services, team_id=team_id, user_id=user_id, key=key, file=file)
    if isinstance(delivered, Delivered) and exported:
        log.info("export team=%s user=%s tips=%s", team_id, user_id, exported[0])
    return delivered


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
