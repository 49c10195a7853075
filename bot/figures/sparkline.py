"""A trend drawn in text, so it reads in Slack without an image: ▁▂▃▄▅▆▇█."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
NO_DATA = "·"  # a week with nothing to measure (no check-in asked for), unlike a week of zero


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value, scaled to the largest: zero is the lowest bar, anything above zero is
    at least the second, so a little activity never looks like none."""
    top = max((value for value in values if value is not None), default=0.0)
    bars = []
    for value in values:
        if value is None:
            bars.append(NO_DATA)
        elif value <= 0 or top <= 0:
            bars.append(BARS[0])
        else:
            bars.append(BARS[max(1, round(value / top * (len(BARS) - 1)))])
    return "".join(bars)
