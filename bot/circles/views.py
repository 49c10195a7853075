"""What /circle shows: the reads behind list and info, always within the request's team, and only
the circles the person may see (bot/circles/visibility.py).

A circle whose stored settings are broken is shown as such, never breaks the list for the team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.circles import rules
from bot.circles.messages import next_round_text
from bot.circles.visibility import visible_circle, visible_circles
from bot.kit import local_time
from bot.slack.conversations import ChannelReaders
from storage import circles as queries
from storage.db import Database
from storage.models import Circle, CircleMember


def listing(
    db: Database, readers: ChannelReaders, team_id: str, user_id: str, now: datetime
) -> list[tuple[Circle, int, str]]:
    """Each live circle of the team the person may see, with its member count and when it next meets."""
    with db.snapshot() as session:
        live = queries.live_circles(session, team_id)
    shown = visible_circles(readers, user_id, live)  # Slack asked outside the snapshot
    with db.snapshot() as session:
        counts = queries.member_counts(session, [c.id for c in shown])
    return [(c, counts.get(c.id, 0), next_round_text(c, rules.next_check_in(c, now))) for c in shown]


@dataclass(frozen=True)
class CircleDetails:
    circle: Circle
    members: list[CircleMember]
    last_answers: dict[str, datetime]
    next_round: str
    open_until: str | None  # a round open now: when it closes


def details(
    db: Database, readers: ChannelReaders, team_id: str, user_id: str, name: str, now: datetime
) -> CircleDetails:
    """The live circle of that name in the team, with its members, if the person may see it;
    CircleNotFound otherwise."""
    circle = visible_circle(db, readers, team_id, user_id, name)
    with db.snapshot() as session:
        members, last = queries.members(session, circle.id), queries.last_answers(session, circle.id)
        open_round = queries.open_round_of(session, circle.id)
    open_until = local_time(open_round.closes_at, circle.zone) if open_round is not None else None
    return CircleDetails(circle, members, last, next_round_text(circle, rules.next_check_in(circle, now)), open_until)
