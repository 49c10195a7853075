"""bot/kit.py's Slack dates: the one helper tips, circles, schedules and Home write dates with."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.kit import local_time, slack_date

MOMENT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
STAMP = int(MOMENT.timestamp())


def test_a_date_falls_back_to_the_stored_day() -> None:
    assert slack_date(MOMENT) == f"<!date^{STAMP}^{{date_short}}|2026-11-30>"
    assert slack_date(MOMENT, "{date_short_pretty}") == f"<!date^{STAMP}^{{date_short_pretty}}|2026-11-30>"


def test_a_local_time_falls_back_to_its_own_zone() -> None:
    expected = f"<!date^{STAMP}^{{date_short_pretty}} {{time}}|2026-11-30 09:00 Europe/Berlin>"
    assert local_time(MOMENT, "Europe/Berlin") == expected


def test_a_zone_no_longer_known_falls_back_to_utc() -> None:
    assert local_time(MOMENT, "Mars/Olympus") == f"<!date^{STAMP}^{{date_short_pretty}} {{time}}|2026-11-30 08:00 UTC>"


def test_a_reader_time_beside_another_zone_says_it_is_theirs_but_not_in_its_fallback() -> None:
    expected = f"<!date^{STAMP}^{{date_short_pretty}} {{time}} (your time)|2026-11-30 09:00 Europe/Berlin>"
    assert local_time(MOMENT, "Europe/Berlin", mark_yours=True) == expected
