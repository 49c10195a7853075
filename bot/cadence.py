"""When a schedule posts: wall-clock times in the schedule's own time zone, across DST changes.

Pure functions of (cadence, now); no database, no Slack. A schedule fires at most once per local
date, so an occurrence's local date names its period in the post ledger. Daylight-saving rules:
- a wall time that does not exist that day (spring forward) fires at the next valid minute;
- a wall time that happens twice (fall back) fires once, at its first instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_NAMES = {name: index for index, name in enumerate(WEEKDAYS)} | {
    full.lower(): index for index, full in enumerate(DAY_NAMES)
}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class CadenceError(ValueError):
    """Bad schedule input; the message says what was wrong and shows a correct example."""


@dataclass(frozen=True)
class Cadence:
    kind: str  # daily | weekdays | weekly | biweekly
    at: time
    zone: str
    weekday: int | None = None  # 0 = Monday; weekly and biweekly only
    # Biweekly: a date in a "posting" week; weeks an even number of weeks away from it post.
    anchor: date | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def describe(self) -> str:
        clock = self.at.strftime("%H:%M")
        if self.kind == "daily":
            when = "every day"
        elif self.kind == "weekdays":
            when = "every weekday (Mon–Fri)"
        else:
            assert self.weekday is not None
            day = DAY_NAMES[self.weekday]
            when = f"every {day}" if self.kind == "weekly" else f"every other {day}"
        return f"{when} at {clock} {self.zone}"

    def posts_on(self, day: date) -> bool:
        if self.kind == "daily":
            return True
        if self.kind == "weekdays":
            return day.weekday() < 5
        if day.weekday() != self.weekday:
            return False
        if self.kind == "weekly":
            return True
        anchor = self.anchor or day
        return ((day - anchor).days // 7) % 2 == 0

    def fire_time(self, day: date) -> datetime:
        """The UTC instant this cadence fires on local `day` (assumes it posts that day)."""
        return local_to_utc(day, self.at, self.tz)

    def latest_at_or_before(self, now: datetime) -> datetime | None:
        """The most recent firing at or before `now` (UTC), looking back up to three weeks."""
        local_today = now.astimezone(self.tz).date()
        for back in range(0, 22):
            day = local_today - timedelta(days=back)
            if self.posts_on(day):
                fired = self.fire_time(day)
                if fired <= now:
                    return fired
        return None

    def next_after(self, now: datetime) -> datetime:
        """The first firing strictly after `now` (UTC)."""
        local_today = now.astimezone(self.tz).date()
        for ahead in range(0, 22):
            day = local_today + timedelta(days=ahead)
            if self.posts_on(day):
                fired = self.fire_time(day)
                if fired > now:
                    return fired
        raise AssertionError("every cadence fires within three weeks")

    def previous_before(self, fired: datetime) -> datetime | None:
        """The firing before `fired`: where a digest's period starts."""
        return self.latest_at_or_before(fired - timedelta(minutes=1))

    def period_key(self, fired: datetime) -> str:
        """The local date of a firing: unique per occurrence, since a cadence fires once a day at most."""
        return fired.astimezone(self.tz).date().isoformat()


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Wall-clock `at` on `day` in `tz`, as UTC; a time skipped by DST moves to the next valid minute."""
    wall = datetime.combine(day, at)
    candidate = wall.replace(tzinfo=tz, fold=0)
    if _round_trips(candidate):
        return candidate.astimezone(UTC)
    # In a spring-forward gap: walk forward to the first minute that exists (at most a few hours).
    for minutes in range(1, 24 * 60):
        later = (wall + timedelta(minutes=minutes)).replace(tzinfo=tz, fold=0)
        if _round_trips(later):
            return later.astimezone(UTC)
    raise AssertionError("no valid local minute within a day")


def _round_trips(moment: datetime) -> bool:
    back = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def parse_clock(text: str) -> time:
    match = _CLOCK.match(text.strip())
    if not match:
        raise CadenceError(f"`{text}` is not a time of day; use 24-hour HH:MM, e.g. `09:00` or `16:30`.")
    return time(int(match.group(1)), int(match.group(2)))


def parse_zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CadenceError(
            f"`{text}` is not a time zone I know; use an Area/City name, e.g. `Europe/Berlin` or `America/New_York`."
        ) from error
    return text


def parse_weekday(text: str) -> int:
    index = _WEEKDAY_NAMES.get(text.lower())
    if index is None:
        raise CadenceError(f"`{text}` is not a weekday; use one of {', '.join(WEEKDAYS)}.")
    return index


def parse_when(words: list[str]) -> tuple[str, int | None, list[str]]:
    """`daily` | `weekdays` | `<weekday>` | `biweekly <weekday>` at the front of `words`.

    Returns (kind, weekday, the words after it).
    """
    if not words:
        raise CadenceError("Say when: `daily`, `weekdays`, a weekday such as `mon`, or `biweekly fri`.")
    first = words[0].lower()
    if first in ("daily", "weekdays"):
        return first, None, words[1:]
    if first == "biweekly":
        if len(words) < 2:
            raise CadenceError("`biweekly` needs a weekday, e.g. `biweekly fri`.")
        return "biweekly", parse_weekday(words[1]), words[2:]
    if first == "weekly":
        if len(words) < 2:
            raise CadenceError("`weekly` needs a weekday, e.g. `weekly mon` (or just `mon`).")
        return "weekly", parse_weekday(words[1]), words[2:]
    if first in _WEEKDAY_NAMES:
        return "weekly", _WEEKDAY_NAMES[first], words[1:]
    raise CadenceError(
        f"`{words[0]}` is not a cadence; use `daily`, `weekdays`, a weekday such as `mon`, or `biweekly fri`."
    )


def format_local(moment: datetime, zone: str) -> str:
    """`YYYY-MM-DD HH:MM Zone/Name`, as confirmations show the next post."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") + f" {zone}"
