"""Who may see a circle: everyone in the workspace when its channel is public; only the members
of its channel when that channel is private (what the circle says — its description, members,
streaks, questions — is the private channel's business).

A hidden circle is answered as no circle at all, with the same words as a name that was never
taken: "that circle is in a private channel you're not in" would confirm to anyone guessing names
that a private circle called so exists. Asked of Slack outside any database transaction, once per
channel per request (ChannelReaders).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.circles import rules
from bot.slack.conversations import ChannelReaders
from storage import circles as queries
from storage.db import Database
from storage.models import Circle


def shown_to(readers: ChannelReaders, user_id: str, circle: Circle) -> bool:
    return readers.may_read(user_id, circle.channel_id) is True  # Slack couldn't say: hidden


def visible_circle(
    db: Database,
    readers: ChannelReaders,
    team_id: str,
    user_id: str,
    name: str,
    *,
    known_too: bool = False,
    archived_too: bool = False,
) -> Circle:
    """The live circle of that name, if the person may see it; CircleNotFound otherwise, naming
    only look-alikes they may see. `known_too`: also one they own or are in (to leave, pause or
    manage it: they know of it, even once out of its private channel). `archived_too`: an archived
    one of that name too (archiving again answers as the first time)."""
    with db.snapshot() as session:
        circle = queries.circle_named(session, team_id, name)
        if circle is not None and circle.archived_at is not None and not archived_too:
            circle = None
        known = circle is not None and known_too and _known(session, circle, user_id)
        names = queries.circle_names(session, team_id)
    if circle is not None and (known or shown_to(readers, user_id, circle)):
        return circle
    # The same answer as for a name never taken: look-alikes among all names, the hidden ones left out.
    look_alikes = rules.closest_names(name, names)
    with db.snapshot() as session:
        candidates = [rules.live_named(session, team_id, n) for n in look_alikes]
    suggestions = [c.name for c in candidates if c is not None and shown_to(readers, user_id, c)]
    raise rules.not_found(name, suggestions, any_circles=bool(names))


def _known(session: Session, circle: Circle, user_id: str) -> bool:
    return circle.owner_id == user_id or queries.member(session, circle.id, user_id) is not None


def known_to(db: Database, circle: Circle, user_id: str) -> bool:
    """Whether the person owns the circle or belongs to it: they know of it, in its channel or not."""
    with db.snapshot() as session:
        return _known(session, circle, user_id)


def visible_circles(readers: ChannelReaders, user_id: str, circles: list[Circle]) -> list[Circle]:
    """Those of `circles` the person may see (Slack asked about each channel once; members only
    of the private ones)."""
    return [c for c in circles if shown_to(readers, user_id, c)]
