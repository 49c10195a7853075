"""What /circle shows: the reads behind list and info, and the circle a form or command names,
always looked up within the request's team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.cadence import format_local
from bot.circles import rules
from storage import circles as queries
from storage.db import Database
from storage.models import Circle, CircleMember


def next_round_text(circle: Circle, now: datetime) -> str:
    if circle.paused_reason:
        return f"paused ({circle.paused_reason})"
    return "next " + format_local(rules.cadence_of(circle).next_after(now), circle.zone)


def listing(db: Database, team_id: str, now: datetime) -> list[tuple[Circle, int, str]]:
    """Each live circle of the team with its member count and when it next meets."""
    with db.snapshot() as session:
        live = queries.live_circles(session, team_id)
        counts = queries.member_counts(session, [c.id for c in live])
    return [(c, counts.get(c.id, 0), next_round_text(c, now)) for c in live]


@dataclass(frozen=True)
class CircleDetails:
    circle: Circle
    members: list[CircleMember]
    last_answers: dict[str, datetime]


def details(db: Database, circle: Circle) -> CircleDetails:
    with db.snapshot() as session:
        return CircleDetails(circle, queries.members(session, circle.id), queries.last_answers(session, circle.id))


def find(db: Database, team_id: str, name: str) -> Circle:
    """The live circle of that name in the team; CircleNotFound (with suggestions) otherwise."""
    with db.snapshot() as session:
        return rules.find(session, team_id, name)


def named(db: Database, team_id: str, name: str) -> Circle | None:
    with db.snapshot() as session:
        circle = queries.circle_named(session, team_id, name)
    return circle if circle is not None and circle.archived_at is None else None
