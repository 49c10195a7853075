"""`/peerlearn report [weeks]`: the admins' figures as files a team lead can put in a slide — the
weekly figures as CSV, and a PNG chart of them (matplotlib, Agg backend: no display, no pyplot state).

The use case returns the files' bytes; uploading them to the admin's DM is the file upload's job.
matplotlib is imported only when a chart is drawn, so the web process never loads it.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from bot.figures.weekly import WeeklyFigures, figures_for, shown
from bot.schedules.service import require_admin
from bot.services import Services

BAR_COLOUR = "#1d4f91"  # Peerlearn's colour (manifest.yml's background_color)
SO_FAR_COLOUR = "#8fa7c8"  # the week still under way: lighter, so nobody reads it as a drop


@dataclass(frozen=True)
class ReportFiles:
    csv: bytes
    png: bytes
    name: str  # the files' common name, without extension: "peerlearn-2026-10-06-to-2026-11-30"


def build_report(services: Services, *, team_id: str, user_id: str, weeks: int, zone: str | None) -> ReportFiles:
    """The last `weeks` weeks (the current one so far included) cut in the admin's time zone.
    Admins only, checked with Slack now: NotAdmin, or ScheduleInputError when Slack couldn't say."""
    require_admin(services, team_id, user_id)
    figures = figures_for(services.db, team_id, services.clock(), zone, weeks)
    first, last = figures.weeks[0].first_day, figures.weeks[-1].first_day
    return ReportFiles(
        csv=report_csv(figures), png=report_png(figures), name=f"peerlearn-{first:%Y-%m-%d}-to-{last:%Y-%m-%d}"
    )


def report_csv(figures: WeeklyFigures) -> bytes:
    """One row per week: its first day, whether it is complete, then every figure. A week with
    nothing to measure (no check-in asked for) has an empty cell, not a zero."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["week_starting", "complete", *(figure.key for figure in figures.figures)])
    for index, week in enumerate(figures.weeks):
        cells = ["" if (value := figure.values[index]) is None else f"{value:g}" for figure in figures.figures]
        writer.writerow([f"{week.first_day:%Y-%m-%d}", "yes" if week.complete else "no", *cells])
    return out.getvalue().encode("utf-8")


def report_png(figures: WeeklyFigures, *, dpi: int = 120) -> bytes:
    """A small multiple per figure shown at a glance: bars per week, the week under way lighter."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as Canvas
    from matplotlib.ticker import MaxNLocator

    shown_figures = figures.glance()
    columns = 2
    rows = max(1, math.ceil(len(shown_figures) / columns))
    chart = Canvas(figsize=(11, 2.9 * rows + 0.8), dpi=dpi, layout="constrained")
    FigureCanvasAgg(chart)
    first, last = figures.weeks[0], figures.weeks[-1]
    title = f"Peer learning, {len(figures.weeks)} weeks from {first.first_day:%d %b %Y}"
    chart.suptitle(title + ("" if last.complete else " (the week under way so far, lighter)"), fontsize=13)
    labels = [week.label for week in figures.weeks]
    colours = [BAR_COLOUR if week.complete else SO_FAR_COLOUR for week in figures.weeks]
    for place, figure in enumerate(shown_figures):
        axes = chart.add_subplot(rows, columns, place + 1)
        heights = [0.0 if value is None else float(value) for value in figure.values]
        bars = axes.bar(range(len(labels)), heights, color=colours)
        axes.set_title(figure.label, fontsize=11, loc="left")
        axes.set_xticks(range(len(labels)), labels, fontsize=8, rotation=45 if len(labels) > 12 else 0)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_ylim(0, max([*heights, 1.0]) * 1.18)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of people and tips: no 2.5
        if figure.percent:
            axes.set_ylim(0, 118)
        if len(labels) <= 16:  # the values on the bars, while they fit
            texts = [shown(value, figure.percent) for value in figure.values]
            axes.bar_label(bars, labels=texts, fontsize=8, padding=2)
    buffer = io.BytesIO()
    # No creation time or software version in the file: the same figures make the same bytes.
    chart.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
