"""What `/peerlearn report [weeks]` asks for (the words after `report`), every value bounded."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.schedules.commands import InvalidCommand, shown

DEFAULT_WEEKS = 8  # as the admins' Home shows
MAX_WEEKS = 52
REPORT_USAGE = "`/peerlearn report [weeks]` — the weekly figures as a CSV file and a chart, e.g. `/peerlearn report 12`"
_WEEKS = re.compile(r"([0-9]{1,3})(?:w|wk|wks|weeks?)?", re.IGNORECASE)


@dataclass(frozen=True)
class ShowReport:
    weeks: int  # 1..MAX_WEEKS, the current week (so far) included


def parse_report(words: list[str]) -> ShowReport | InvalidCommand:
    """`[]` → the default; `["12"]`, `["12", "weeks"]`, `["12w"]` → 12; anything else says what fits."""
    if not words:
        return ShowReport(DEFAULT_WEEKS)
    number = _WEEKS.fullmatch(words[0])
    tail_ok = len(words) == 1 or (len(words) == 2 and words[1].lower() in ("week", "weeks"))
    if number is None or not tail_ok:
        return InvalidCommand(f"`{shown(' '.join(words))}` is not a number of weeks.", REPORT_USAGE)
    weeks = int(number.group(1))
    if not 1 <= weeks <= MAX_WEEKS:
        return InvalidCommand(f"A report covers 1 to {MAX_WEEKS} weeks.", REPORT_USAGE)
    return ShowReport(weeks)
