"""`/peerlearn report [weeks]`: the admins' figures as files a team lead can put in a slide — the
weekly figures as CSV, and a PNG chart of them (matplotlib, Agg backend: no display, no pyplot state).

The use case returns the files' bytes; uploading them to the admin's DM is the file upload's job.
matplotlib is imported only when a chart is drawn, so the web process never loads it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from bot.figures.weekly import WeeklyFigures, figures_for, shown
from bot.people.export import Refused
from bot.people.files import Delivered, FileToSend, deliver
from bot.schedules.rules import ScheduleInputError
from bot.schedules.service import NotAdmin, require_admin
from bot.services import Services
from bot.slack.requests import MAX_KEY_LENGTH
from bot.slack.results import Failed

BAR_COLOUR = "#1d4f91"  # Peerlearn's colour (manifest.yml's background_color)
SO_FAR_COLOUR = "#8fa7c8"  # the week still under way: lighter, so nobody reads it as a drop
ADMINS_ONLY = "Only workspace admins and owners, and Peerlearn's own admins, can get the workspace's report."


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


def send_report(
    services: Services, *, team_id: str, user_id: str, weeks: int, key: str
) -> Delivered | Failed | Refused:
    """The report's CSV and chart in the admin's DM, each once for the request `key` however often
    the job runs (a rerun that finds both sent answers `again`). Weeks are cut in the admin's zone."""
    person = services.users.get(user_id)
    try:
        files = build_report(
            services, team_id=team_id, user_id=user_id, weeks=weeks, zone=person.timezone if person else None
        )
    except NotAdmin:
        return Refused(ADMINS_ONLY)
    except ScheduleInputError as unsure:
        return Refused(str(unsure))
    comment = (
        f"The workspace's last {weeks} week{'s' if weeks != 1 else ''} of peer learning, as you asked "
        "(`/peerlearn report`): the figures as CSV, and a chart. Only you can see these files unless you share them."
    )
    sent: list[Delivered] = []
    for suffix, body, title in (("csv", files.csv, "figures"), ("png", files.png, "chart")):
        file = FileToSend(
            kind="report",
            filename=f"{files.name}.{suffix}",
            title=f"Peerlearn {title}, {files.name.removeprefix('peerlearn-')}",
            comment=comment if suffix == "csv" else "The same figures as a chart.",
            write=_writer(body),
        )
        # One delivery row per file, under the request's key with the file's kind in its last characters.
        part = f"{key[: MAX_KEY_LENGTH - len(suffix) - 1]}:{suffix}"
        delivered = deliver(services, team_id=team_id, user_id=user_id, key=part, file=file)
        if isinstance(delivered, Failed):
            return delivered
        sent.append(delivered)
    return Delivered(sent[0].file_id, sent[0].channel, again=all(each.again for each in sent))


def _writer(body: bytes) -> Callable[[BinaryIO], None]:
    def write(out: BinaryIO) -> None:
        out.write(body)

    return write


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
