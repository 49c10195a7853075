"""The workspace's learning, week by week: what the admins' Home shows at a glance and what
`/peerlearn report` puts in a file.

Each figure comes from a *source*: a function of (session, team, the weeks' edges) returning one
or more `Figure`s with a value per week. A capability adds its figures by adding a source to
`SOURCES`; the Home, the CSV and the
chart show whatever the sources give, in their order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.figures.weeks import Week, bounds, last_weeks
from storage import figures as queries
from storage.db import Database

HOME_WEEKS = 8


@dataclass(frozen=True)
class Figure:
    key: str  # the CSV column: lower_snake_case
    label: str  # what a person reads: "Tips shared"
    values: tuple[float | None, ...]  # one per week, oldest first; None: nothing to measure that week
    percent: bool = False
    glance: bool = True  # on the Home and the chart; False: the CSV only (the counts behind a share)
    missing: str = "–"  # how a week with nothing to measure reads in words


@dataclass(frozen=True)
class WeeklyFigures:
    weeks: list[Week]
    figures: list[Figure]

    def glance(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.glance]


Source = Callable[[Session, str, Sequence[datetime]], list[Figure]]


def tips_and_people(session: Session, team_id: str, edges: Sequence[datetime]) -> list[Figure]:
    return [
        Figure("tips_shared", "Tips shared", tuple(queries.tips_shared(session, team_id, edges))),
        Figure("people_active", "People who shared or voted", tuple(queries.people_active(session, team_id, edges))),
    ]


def check_in_participation(session: Session, team_id: str, edges: Sequence[datetime]) -> list[Figure]:
    answered, asked = queries.check_ins(session, team_id, edges)
    shares = tuple(round(100 * done / total) if total else None for done, total in zip(answered, asked, strict=True))
    return [
        Figure("checkin_participation_pct", "Check-in participation", shares, percent=True, missing="no check-ins"),
        Figure("checkins_answered", "Check-ins answered", tuple(answered), glance=False),
        Figure("checkins_asked", "Check-ins asked for", tuple(asked), glance=False),
    ]


def pairs_that_met(session: Session, team_id: str, edges: Sequence[datetime]) -> list[Figure]:
    return [Figure("pairs_met", "Pairs that met", tuple(queries.pairs_met(session, team_id, edges)))]


def questions_answered(session: Session, team_id: str, edges: Sequence[datetime]) -> list[Figure]:
    return [
        Figure("questions_answered", "Questions answered", tuple(queries.questions_answered(session, team_id, edges)))
    ]


# The figures, in the order they are shown.
SOURCES: tuple[Source, ...] = (tips_and_people, check_in_participation, pairs_that_met, questions_answered)


def weekly_figures(
    session: Session, team_id: str, weeks: list[Week], sources: Sequence[Source] = SOURCES
) -> WeeklyFigures:
    edges = bounds(weeks)
    return WeeklyFigures(weeks, [figure for source in sources for figure in source(session, team_id, edges)])


def figures_for(db: Database, team_id: str, now: datetime, zone: str | None, count: int) -> WeeklyFigures:
    """The last `count` weeks (the current one so far included), cut in `zone`."""
    weeks = last_weeks(now, zone, count)
    with db.snapshot() as session:
        return weekly_figures(session, team_id, weeks)


def shown(value: float | None, percent: bool, missing: str = "–") -> str:
    """A figure's value in words: `12`, `75%`, `missing` for a week with nothing to measure."""
    if value is None:
        return missing
    return f"{value:.0f}%" if percent else f"{value:,.0f}"
