"""The admins' figures as people read them: text sparklines, calendar weeks in a time zone, the
report command's words, and the report's CSV and chart."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.figures.commands import DEFAULT_WEEKS, REPORT_USAGE, ShowReport, parse_report
from bot.figures.report import report_csv, report_png
from bot.figures.sparkline import BARS, NO_DATA, sparkline
from bot.figures.weekly import Figure, WeeklyFigures, shown
from bot.figures.weeks import bounds, last_weeks
from bot.schedules.commands import InvalidCommand


def test_a_sparkline_scales_to_the_largest_and_never_hides_a_little_activity() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 1, 1000]) == "▁▂█"  # 1 of 1000 still shows above nothing
    assert sparkline([0, 0, 0]) == BARS[0] * 3
    assert sparkline([None, 50, 100]) == NO_DATA + "▅█"  # no check-in asked for is not a zero
    assert sparkline([]) == ""


def test_weeks_start_on_monday_midnight_in_the_persons_zone_across_dst() -> None:
    # Monday 30 March 2026, 01:00 UTC: already Monday 03:00 in Berlin (summer time since Sunday).
    weeks = last_weeks(datetime(2026, 3, 30, 1, 0, tzinfo=UTC), "Europe/Berlin", 3)
    assert [week.first_day for week in weeks] == [date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]
    assert weeks[1].start == datetime(2026, 3, 22, 23, tzinfo=UTC)  # midnight in winter time
    assert weeks[1].end == datetime(2026, 3, 29, 22, tzinfo=UTC)  # midnight in summer time: 167 hours
    assert [week.complete for week in weeks] == [True, True, False]
    assert bounds(weeks)[0] == weeks[0].start and bounds(weeks)[-1] == weeks[-1].end and len(bounds(weeks)) == 4
    # The same moment in Los Angeles is still Sunday: its current week began a week earlier.
    la = last_weeks(datetime(2026, 3, 30, 1, 0, tzinfo=UTC), "America/Los_Angeles", 1)
    assert la[0].first_day == date(2026, 3, 23) and la[0].label == "Mar 23"
    assert last_weeks(datetime(2026, 3, 30, tzinfo=UTC), "Not/AZone", 1)[0].first_day == date(2026, 3, 30)  # UTC


@pytest.mark.parametrize(
    ("words", "weeks"),
    [([], DEFAULT_WEEKS), (["12"], 12), (["12", "weeks"], 12), (["4w"], 4), (["1", "week"], 1), (["52"], 52)],
)
def test_report_takes_a_number_of_weeks(words: list[str], weeks: int) -> None:
    assert parse_report(words) == ShowReport(weeks)


@pytest.mark.parametrize(
    "words", [["0"], ["53"], ["1e9"], ["twelve"], ["12", "months"], ["9" * 400], ["-3"], ["12", "weeks", "now"]]
)
def test_report_refuses_with_its_one_usage_line(words: list[str]) -> None:
    refused = parse_report(words)
    assert isinstance(refused, InvalidCommand) and refused.usage == REPORT_USAGE
    assert len(refused.problem) < 200


def _figures() -> WeeklyFigures:
    weeks = last_weeks(datetime(2026, 11, 18, 12, tzinfo=UTC), "UTC", 3)
    return WeeklyFigures(
        weeks,
        [
            Figure("tips_shared", "Tips shared", (3, 0, 7)),
            Figure("checkin_participation_pct", "Check-in participation", (None, 50, 75), percent=True),
            Figure("checkins_asked", "Check-ins asked for", (0, 4, 4), glance=False),
        ],
    )


def test_the_csv_has_a_row_a_week_and_an_empty_cell_where_nothing_was_measured() -> None:
    lines = report_csv(_figures()).decode().splitlines()
    assert lines == [
        "week_starting,complete,tips_shared,checkin_participation_pct,checkins_asked",
        "2026-11-02,yes,3,,0",
        "2026-11-09,yes,0,50,4",
        "2026-11-16,no,7,75,4",
    ]
    assert shown(None, True) == "–" and shown(75, True) == "75%" and shown(1234, False) == "1,234"


def test_the_chart_is_a_png_and_the_same_figures_draw_the_same_bytes() -> None:
    png = report_png(_figures(), dpi=40)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert report_png(_figures(), dpi=40) == png
