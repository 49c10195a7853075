"""Queries behind the App Home and the bot's introductions: first visits, intros, and the reads
one person's Home needs that no capability's own queries answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    ChannelIntro,
    Circle,
    CircleMember,
    CircleRound,
    HomeVisit,
    ParticipantStatus,
    RoundParticipant,
    RoundState,
    Tip,
    TipVote,
)
from storage.upsert import insert_if_absent

# -- first visits ---------------------------------------------------------------------------------


def first_visit(session: Session, team_id: str, user_id: str, key: str, now: datetime) -> bool:
    """Record the person's first Home opening; True when the opening named by `key` is that first one
    (also for a rerun of its job)."""
    values = {"team_id": team_id, "user_id": user_id, "first_key": key, "first_seen_at": now}
    if insert_if_absent(session, HomeVisit, values, ["team_id", "user_id"]) is not None:
        return True
    visit = session.get(HomeVisit, (team_id, user_id))
    return visit is not None and visit.first_key == key


def visit_of(session: Session, team_id: str, user_id: str) -> HomeVisit | None:
    return session.get(HomeVisit, (team_id, user_id))


def erase_visit(session: Session, team_id: str, user_id: str) -> int:
    """Forget-me: the record of the first opening goes (the welcome shows again next time)."""
    query = delete(HomeVisit).where(HomeVisit.team_id == team_id, HomeVisit.user_id == user_id)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


# -- channel intros -------------------------------------------------------------------------------


def claim_intro(session: Session, team_id: str, channel_id: str, key: str, now: datetime) -> tuple[ChannelIntro, bool]:
    """The channel's intro row, and whether it was inserted now, for `key` (the database decides)."""
    values = {"team_id": team_id, "channel_id": channel_id, "request_key": key, "claimed_at": now}
    inserted = insert_if_absent(session, ChannelIntro, values, ["team_id", "channel_id"]) is not None
    intro = session.get(ChannelIntro, (team_id, channel_id))
    assert intro is not None
    session.refresh(intro)
    return intro, inserted


def take_over_intro(session: Session, team_id: str, channel_id: str, old_key: str, key: str, now: datetime) -> bool:
    """Compare-and-set an unposted intro's claim from `old_key` to `key`; True for the caller that did."""
    result = session.execute(
        update(ChannelIntro)
        .where(
            ChannelIntro.team_id == team_id,
            ChannelIntro.channel_id == channel_id,
            ChannelIntro.request_key == old_key,
            ChannelIntro.message_ts.is_(None),
        )
        .values(request_key=key, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_intro(session: Session, team_id: str, channel_id: str, ts: str, now: datetime) -> None:
    session.execute(
        update(ChannelIntro)
        .where(ChannelIntro.team_id == team_id, ChannelIntro.channel_id == channel_id)
        .values(message_ts=ts, posted_at=now)
        .execution_options(synchronize_session=False)
    )


# -- one person's Home ------------------------------------------------------------------------------


def votes_received_since(session: Session, team_id: str, author_id: str, since: datetime) -> int:
    """Helpful votes cast since `since` on the author's tips (through their tips: an author's index
    range, not the whole workspace's votes of the period)."""
    query = (
        select(func.count())
        .select_from(TipVote)
        .join(Tip, Tip.id == TipVote.tip_id)
        .where(Tip.team_id == team_id, Tip.author_id == author_id, TipVote.created_at >= since)
    )
    return int(session.scalar(query) or 0)


def tip_times_since(session: Session, team_id: str, author_id: str, since: datetime) -> list[datetime]:
    """When the author shared each tip since `since`, newest first (an index-only read)."""
    query = select(Tip.created_at).where(Tip.team_id == team_id, Tip.author_id == author_id, Tip.created_at >= since)
    return list(session.scalars(query.order_by(Tip.created_at.desc())))


def memberships(session: Session, team_id: str, user_id: str) -> dict[int, CircleMember]:
    """The person's memberships of live circles, by circle id."""
    query = (
        select(CircleMember)
        .join(Circle, Circle.id == CircleMember.circle_id)
        .where(CircleMember.team_id == team_id, CircleMember.user_id == user_id, Circle.archived_at.is_(None))
    )
    return {member.circle_id: member for member in session.scalars(query)}


def open_rounds_for(session: Session, team_id: str, user_id: str) -> dict[int, tuple[CircleRound, bool]]:
    """Open check-in rounds the person may answer, by circle id, with whether they answered already."""
    query = (
        select(CircleRound, RoundParticipant.status)
        .join(RoundParticipant, RoundParticipant.round_id == CircleRound.id)
        .where(
            RoundParticipant.team_id == team_id,
            RoundParticipant.user_id == user_id,
            RoundParticipant.status.in_((ParticipantStatus.INVITED, ParticipantStatus.ANSWERED)),
            CircleRound.status == RoundState.OPEN,
        )
        .order_by(CircleRound.due_at)
    )
    return {
        round_.circle_id: (round_, status == ParticipantStatus.ANSWERED) for round_, status in session.execute(query)
    }
