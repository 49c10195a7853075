"""Calendar weeks as a person lives them: Monday 00:00 to Monday 00:00 in their own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Week:
    start: datetime  # UTC-aware: the Monday's midnight in the zone the weeks were cut in
    end: datetime
    first_day: date  # that Monday, in that zone
    complete: bool  # False for the week still under way (its figures so far)

    @property
    def label(self) -> str:
        """`Nov 24` (the Monday), as a chart's axis and a CSV's reader want it."""
        return f"{self.first_day:%b} {self.first_day.day}"


def zone_or_utc(zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def last_weeks(now: datetime, zone: str | None, count: int) -> list[Week]:
    """The `count` weeks up to and including the current one, oldest first, cut in `zone`."""
    tz = zone_or_utc(zone)
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=back) for back in range(count - 1, -2, -1)]  # count + 1 edges
    edges = [datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC) for day in mondays]
    return [
        Week(start=edges[index], end=edges[index + 1], first_day=mondays[index], complete=index < count - 1)
        for index in range(count)
    ]


def bounds(weeks: list[Week]) -> list[datetime]:
    """The weeks' edges, n + 1 of them: what storage/figures.py counts between."""
    return [*(week.start for week in weeks), weeks[-1].end] if weeks else []
