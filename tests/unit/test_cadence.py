"""Cadences and daylight saving: the wall clock wins (Berlin changes on 2026-03-29 and 2026-10-25)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.cadence import Cadence, CadenceError, format_local, parse_clock, parse_when, parse_zone


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


BERLIN_9 = Cadence("daily", time(9, 0), "Europe/Berlin")


def test_nine_in_berlin_stays_nine_across_spring_forward() -> None:
    assert BERLIN_9.fire_time(date(2026, 3, 28)) == utc(2026, 3, 28, 8, 0)  # CET, UTC+1
    assert BERLIN_9.fire_time(date(2026, 3, 29)) == utc(2026, 3, 29, 7, 0)  # CEST, UTC+2
    assert BERLIN_9.next_after(utc(2026, 3, 28, 8, 0)) == utc(2026, 3, 29, 7, 0)


def test_nine_in_berlin_stays_nine_across_fall_back() -> None:
    assert BERLIN_9.fire_time(date(2026, 10, 24)) == utc(2026, 10, 24, 7, 0)
    assert BERLIN_9.fire_time(date(2026, 10, 25)) == utc(2026, 10, 25, 8, 0)


def test_a_skipped_time_fires_at_the_next_valid_minute() -> None:
    at_230 = Cadence("daily", time(2, 30), "Europe/Berlin")

    fired = at_230.fire_time(date(2026, 3, 29))  # 02:00-02:59 does not exist that night

    assert fired == utc(2026, 3, 29, 1, 0)
    assert format_local(fired, "Europe/Berlin") == "2026-03-29 03:00 Europe/Berlin"


def test_a_repeated_time_fires_once_at_its_first_instance() -> None:
    at_230 = Cadence("daily", time(2, 30), "Europe/Berlin")
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)  # 02:30 CEST, then 02:30 CET

    assert at_230.fire_time(date(2026, 10, 25)) == first
    assert at_230.latest_at_or_before(second) == first  # the second 02:30 is not another firing
    assert at_230.next_after(first) == utc(2026, 10, 26, 1, 30)
    assert at_230.period_key(first) == at_230.period_key(at_230.latest_at_or_before(second)) == "2026-10-25"


def test_weekdays_skip_the_weekend() -> None:
    weekdays = Cadence("weekdays", time(9, 0), "UTC")
    friday = utc(2026, 11, 27, 9, 0)

    assert weekdays.next_after(friday) == utc(2026, 11, 30, 9, 0)  # Monday
    assert weekdays.latest_at_or_before(utc(2026, 11, 29, 23, 0)) == friday
    assert weekdays.previous_before(utc(2026, 11, 30, 9, 0)) == friday


def test_weekly_fires_on_its_day() -> None:
    monday = Cadence("weekly", time(10, 30), "America/New_York", weekday=0)

    assert monday.next_after(utc(2026, 11, 25, 12, 0)) == utc(2026, 11, 30, 15, 30)  # EST, UTC-5
    assert monday.previous_before(utc(2026, 11, 30, 15, 30)) == utc(2026, 11, 23, 15, 30)


def test_biweekly_alternates_weeks_from_its_anchor() -> None:
    friday = Cadence("biweekly", time(16, 0), "UTC", weekday=4, anchor=date(2026, 11, 27))

    assert friday.next_after(utc(2026, 11, 25)) == utc(2026, 11, 27, 16, 0)
    assert friday.next_after(utc(2026, 11, 27, 16, 0)) == utc(2026, 12, 11, 16, 0)
    assert not friday.posts_on(date(2026, 12, 4))
    assert friday.previous_before(utc(2026, 12, 11, 16, 0)) == utc(2026, 11, 27, 16, 0)
    assert friday.latest_at_or_before(utc(2026, 12, 10)) == utc(2026, 11, 27, 16, 0)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["daily"], ("daily", None, [])),
        (["weekdays", "09:00"], ("weekdays", None, ["09:00"])),
        (["Mon", "09:00"], ("weekly", 0, ["09:00"])),
        (["weekly", "fri"], ("weekly", 4, [])),
        (["biweekly", "wednesday", "9:05", "Asia/Tokyo"], ("biweekly", 2, ["9:05", "Asia/Tokyo"])),
    ],
)
def test_parse_when(words: list[str], expected: tuple[str, int | None, list[str]]) -> None:
    assert parse_when(words) == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_when(["fortnightly"]), "not a cadence"),
        (lambda: parse_when(["biweekly"]), "needs a weekday"),
        (lambda: parse_when(["biweekly", "funday"]), "`funday` is not a weekday"),
        (lambda: parse_clock("25:00"), "`25:00` is not a time of day"),
        (lambda: parse_clock("9am"), "HH:MM"),
        (lambda: parse_zone("Mars/Olympus"), "`Mars/Olympus` is not a time zone"),
        (lambda: parse_zone("../../etc/passwd"), "not a time zone"),
    ],
)
def test_bad_input_says_what_and_shows_an_example(call: object, message: str) -> None:
    with pytest.raises(CadenceError, match=message):
        call()  # type: ignore[operator]


def test_describe_reads_like_a_sentence() -> None:
    assert BERLIN_9.describe() == "every day at 09:00 Europe/Berlin"
    assert Cadence("biweekly", time(16, 0), "UTC", weekday=4).describe() == "every other Friday at 16:00 UTC"
