"""What Peerlearn holds about people: the export of a workspace's tips, everything about one person,
and the erasers that forget them. Plain values in, rows out; no Slack here.

Readers stream (`yield_per`: a server-side cursor on PostgreSQL, SQLite's own stepping cursor), so a
workspace's 100,000 tips are never in memory at once. Each eraser removes one kind of a person's
data in the caller's transaction and returns how many rows it removed (or changed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    ANONYMOUS_AUTHOR,
    Circle,
    CircleMember,
    CircleRound,
    CustomPrompt,
    ErasureReceipt,
    FileDelivery,
    MentorProfile,
    PairingGroup,
    PairingLeftOut,
    PairingMember,
    PairingRound,
    ParticipantStatus,
    ProfileSkill,
    RoundParticipant,
    RoundState,
    Schedule,
    ScheduledPost,
    Tip,
    TipDeletion,
    TipReaction,
    TipVote,
)
from storage.pairing import has_word
from storage.upsert import insert_if_absent

STREAM_BATCH = 1000  # rows fetched at a time by the streaming readers

TIP_COLUMNS = (
    Tip.number,  # as people see it ("Tip #3"), not the database id
    Tip.author_id,
    Tip.text,
    Tip.tags,
    Tip.origin_channel_id,
    Tip.created_at,
    Tip.helpful_count,
    Tip.permalink,
)


Values = tuple[Any, ...]


def _stream(session: Session, query: Any) -> Iterator[Values]:
    for row in session.execute(query.execution_options(yield_per=STREAM_BATCH)):
        yield tuple(row)


def _rows(session: Session, query: Any) -> list[Values]:
    return [tuple(row) for row in session.execute(query)]


# -- reading ------------------------------------------------------------------------------------


def workspace_tips(session: Session, team_id: str) -> Iterator[Values]:
    """Every tip of the workspace, oldest first, as TIP_COLUMNS rows, a batch at a time."""
    return _stream(session, select(*TIP_COLUMNS).where(Tip.team_id == team_id).order_by(Tip.number))


def tips_of(session: Session, team_id: str, user_id: str) -> Iterator[Values]:
    """A person's tips, oldest first, with where they were posted and how they were shared."""
    query = (
        select(*TIP_COLUMNS, Tip.source, Tip.channel_id, Tip.message_ts)
        .where(Tip.team_id == team_id, Tip.author_id == user_id)
        .order_by(Tip.id)
    )
    return _stream(session, query)


def tips_saved_by(session: Session, team_id: str, user_id: str) -> list[int]:
    """The numbers of tips made of someone else's message by this person (Save as tip, the tip emoji)."""
    query = select(Tip.number).where(Tip.team_id == team_id, Tip.saved_by_id == user_id, Tip.author_id != user_id)
    return list(session.scalars(query.order_by(Tip.number)))


def votes_of(session: Session, team_id: str, user_id: str) -> list[Values]:
    """(the tip's number, when) of each helpful vote the person gave."""
    query = (
        select(Tip.number, TipVote.created_at)
        .join(Tip, Tip.id == TipVote.tip_id)
        .where(TipVote.team_id == team_id, TipVote.user_id == user_id)
    )
    return _rows(session, query.order_by(Tip.number))


def reactions_of(session: Session, team_id: str, user_id: str) -> list[Values]:
    """(the tip's number, the emoji, when) of each reaction the person put on a tip."""
    query = (
        select(Tip.number, TipReaction.reaction, TipReaction.created_at)
        .join(Tip, Tip.id == TipReaction.tip_id)
        .where(TipReaction.team_id == team_id, TipReaction.user_id == user_id)
    )
    return _rows(session, query.order_by(Tip.number, TipReaction.reaction))


def tip_deletions_by(session: Session, team_id: str, user_id: str) -> list[Values]:
    """(the tip's number, when) of each tip the person deleted (no number: deleted before migration 0021)."""
    query = select(TipDeletion.number, TipDeletion.deleted_at).where(
        TipDeletion.team_id == team_id, TipDeletion.deleted_by == user_id
    )
    return _rows(session, query.order_by(TipDeletion.deleted_at))


def memberships_of(session: Session, team_id: str, user_id: str) -> list[tuple[Circle, CircleMember]]:
    query = (
        select(Circle, CircleMember)
        .join(CircleMember, CircleMember.circle_id == Circle.id)
        .where(CircleMember.team_id == team_id, CircleMember.user_id == user_id)
        .order_by(Circle.name_key)
    )
    return [(circle, member) for circle, member in session.execute(query)]


def circles_owned_by(session: Session, team_id: str, user_id: str) -> list[Circle]:
    query = select(Circle).where(Circle.team_id == team_id, Circle.owner_id == user_id).order_by(Circle.name_key)
    return list(session.scalars(query))


def checkins_of(session: Session, team_id: str, user_id: str) -> list[tuple[Circle, CircleRound, RoundParticipant]]:
    """Each round the person took part in (invited, answered, paused), oldest first."""
    query = (
        select(Circle, CircleRound, RoundParticipant)
        .join(CircleRound, CircleRound.id == RoundParticipant.round_id)
        .join(Circle, Circle.id == CircleRound.circle_id)
        .where(RoundParticipant.team_id == team_id, RoundParticipant.user_id == user_id)
        .order_by(CircleRound.due_at, CircleRound.id)
    )
    return [(circle, round_, participant) for circle, round_, participant in session.execute(query)]


def pairings_of(session: Session, team_id: str, user_id: str) -> list[tuple[PairingRound, PairingGroup]]:
    """Every group the person was in, oldest round first."""
    query = (
        select(PairingRound, PairingGroup)
        .join(PairingMember, PairingMember.round_id == PairingRound.id)
        .join(PairingGroup, PairingGroup.id == PairingMember.group_id)
        .where(PairingMember.team_id == team_id, PairingMember.user_id == user_id)
        .order_by(PairingRound.id)
    )
    return [(round_, group) for round_, group in session.execute(query)]


def left_out_of(session: Session, team_id: str, user_id: str) -> list[tuple[PairingRound, PairingLeftOut]]:
    query = (
        select(PairingRound, PairingLeftOut)
        .join(PairingLeftOut, PairingLeftOut.round_id == PairingRound.id)
        .where(PairingLeftOut.team_id == team_id, PairingLeftOut.user_id == user_id)
        .order_by(PairingRound.id)
    )
    return [(round_, left) for round_, left in session.execute(query)]


def schedules_set_by(session: Session, team_id: str, user_id: str) -> list[Schedule]:
    query = select(Schedule).where(Schedule.team_id == team_id, Schedule.configured_by == user_id)
    return list(session.scalars(query.order_by(Schedule.channel_id, Schedule.kind)))


def prompts_added_by(session: Session, team_id: str, user_id: str) -> list[CustomPrompt]:
    query = select(CustomPrompt).where(CustomPrompt.team_id == team_id, CustomPrompt.created_by == user_id)
    return list(session.scalars(query.order_by(CustomPrompt.id)))


def posts_requested_by(session: Session, team_id: str, user_id: str) -> list[ScheduledPost]:
    query = select(ScheduledPost).where(ScheduledPost.team_id == team_id, ScheduledPost.requested_by == user_id)
    return list(session.scalars(query.order_by(ScheduledPost.id)))


def files_sent_to(session: Session, team_id: str, user_id: str) -> list[FileDelivery]:
    query = select(FileDelivery).where(FileDelivery.team_id == team_id, FileDelivery.user_id == user_id)
    return list(session.scalars(query.order_by(FileDelivery.created_at)))


# -- files sent to people ------------------------------------------------------------------------


def claim_delivery(
    session: Session, team_id: str, request_key: str, user_id: str, kind: str, now: datetime
) -> FileDelivery:
    """The delivery of the file `request_key` asked for: new, or as an earlier run of it left it."""
    values = {"team_id": team_id, "request_key": request_key, "user_id": user_id, "kind": kind, "created_at": now}
    insert_if_absent(session, FileDelivery, values, ["team_id", "request_key"])
    delivery = session.get(FileDelivery, (team_id, request_key))
    assert delivery is not None
    return delivery


def note_delivery(
    session: Session,
    team_id: str,
    request_key: str,
    *,
    file_id: str,
    channel_id: str,
    shared_at: datetime | None = None,
) -> None:
    """The file Slack named for the delivery (before it is shared), or the file shared (with `shared_at`)."""
    session.execute(
        update(FileDelivery)
        .where(FileDelivery.team_id == team_id, FileDelivery.request_key == request_key)
        .values(file_id=file_id, channel_id=channel_id, shared_at=shared_at)
    )


# -- erasing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TipPost:
    """A tip's trace in Slack: the app's post (source command/form) or the 💡 on someone's message."""

    tip_id: int
    source: str
    channel_id: str
    message_ts: str


def tip_posts_of(session: Session, team_id: str, user_id: str) -> list[TipPost]:
    query = select(Tip.id, Tip.source, Tip.channel_id, Tip.message_ts).where(
        Tip.team_id == team_id, Tip.author_id == user_id, Tip.channel_id.is_not(None), Tip.message_ts.is_not(None)
    )
    return [TipPost(i, s, str(c), str(ts)) for i, s, c, ts in session.execute(query.order_by(Tip.id))]


@dataclass(frozen=True)
class CheckinPost:
    """A round the person took part in, whose thread is in its channel: the app's reply there with
    their answers (`reply_ts`, None when never kept: withheld, failed, or its run died first), and
    whether the round's summary may name them (closed, and they answered or sat it out keeping a
    streak: quoted under *Can you help?*, or celebrated under *Streaks*)."""

    round_id: int
    channel_id: str
    thread_ts: str
    reply_ts: str | None
    answered: bool
    summarised: bool


def checkin_posts_of(session: Session, team_id: str, user_id: str) -> list[CheckinPost]:
    """The app's posts in round threads that may carry the person's answers or name (read before erasing)."""
    query = (
        select(
            RoundParticipant.round_id,
            CircleRound.channel_id,
            CircleRound.thread_ts,
            RoundParticipant.reply_ts,
            RoundParticipant.answers.is_not(None),
            RoundParticipant.status,
            CircleRound.status,
        )
        .join(CircleRound, CircleRound.id == RoundParticipant.round_id)
        .where(RoundParticipant.team_id == team_id, RoundParticipant.user_id == user_id)
        .where(CircleRound.thread_ts.is_not(None))
        .order_by(RoundParticipant.round_id)
    )
    posts = []
    for round_id, channel_id, thread_ts, reply_ts, answered, taking_part, round_state in session.execute(query):
        closed = round_state in (RoundState.CLOSING, RoundState.CLOSED)
        summarised = closed and taking_part != ParticipantStatus.INVITED  # a missed round: no quote, streak 0
        if reply_ts or answered or summarised:
            posts.append(CheckinPost(round_id, str(channel_id), str(thread_ts), reply_ts, bool(answered), summarised))
    return posts


def erase_votes(session: Session, team_id: str, user_id: str) -> int:
    """The person's helpful votes (each tip's count goes down by theirs) and the reactions behind them."""
    voted = select(TipVote.tip_id).where(TipVote.team_id == team_id, TipVote.user_id == user_id)
    session.execute(
        update(Tip)
        .where(Tip.team_id == team_id, Tip.id.in_(voted))
        .values(helpful_count=Tip.helpful_count - 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(TipReaction).where(TipReaction.team_id == team_id, TipReaction.user_id == user_id))
    return _deleted(session, delete(TipVote).where(TipVote.team_id == team_id, TipVote.user_id == user_id))


def delete_tips(session: Session, team_id: str, user_id: str) -> int:
    """The person's tips, with every vote and reaction they got; their tips' search entries go with them."""
    theirs = select(Tip.id).where(Tip.team_id == team_id, Tip.author_id == user_id)
    session.execute(delete(TipReaction).where(TipReaction.tip_id.in_(theirs)))
    session.execute(delete(TipVote).where(TipVote.tip_id.in_(theirs)))
    _forget_tip_traces(session, team_id, user_id)
    return _deleted(session, delete(Tip).where(Tip.team_id == team_id, Tip.author_id == user_id))


def anonymise_tips(session: Session, team_id: str, user_id: str) -> int:
    """The person's tips stay, by ANONYMOUS_AUTHOR; the votes they got no longer count them as a teacher."""
    session.execute(
        update(TipVote)
        .where(TipVote.team_id == team_id, TipVote.author_id == user_id)
        .values(author_id=ANONYMOUS_AUTHOR)
    )
    _forget_tip_traces(session, team_id, user_id)
    changed = session.execute(
        update(Tip)
        .where(Tip.team_id == team_id, Tip.author_id == user_id)
        .values(author_id=ANONYMOUS_AUTHOR)
        .execution_options(synchronize_session=False)
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]


def _forget_tip_traces(session: Session, team_id: str, user_id: str) -> None:
    """Who saved someone else's message as a tip, and the deletions they made (kept for reruns only)."""
    session.execute(
        update(Tip)
        .where(Tip.team_id == team_id, Tip.saved_by_id == user_id)
        .values(saved_by_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(TipDeletion).where(TipDeletion.team_id == team_id, TipDeletion.deleted_by == user_id))


def erase_profile(session: Session, team_id: str, user_id: str) -> int:
    """The mentoring profile (1 or 0) and its skills."""
    session.execute(delete(ProfileSkill).where(ProfileSkill.team_id == team_id, ProfileSkill.user_id == user_id))
    return _deleted(
        session, delete(MentorProfile).where(MentorProfile.team_id == team_id, MentorProfile.user_id == user_id)
    )


def erase_checkins(session: Session, team_id: str, user_id: str) -> int:
    """The person's place in every circle round, answers included; counted: the answers. (The app's
    posts of them in Slack: `checkin_posts_of` first.)"""
    mine = (RoundParticipant.team_id == team_id, RoundParticipant.user_id == user_id)
    answered = session.scalar(select(func.count()).where(*mine, RoundParticipant.answers.is_not(None))) or 0
    session.execute(delete(RoundParticipant).where(*mine))
    return int(answered)


def leave_circles(session: Session, team_id: str, user_id: str) -> int:
    """Out of every circle (memberships deleted); the circles themselves stay."""
    return _deleted(
        session, delete(CircleMember).where(CircleMember.team_id == team_id, CircleMember.user_id == user_id)
    )


def erase_pairing_history(session: Session, team_id: str, user_id: str) -> int:
    """The person's place in every pairing round (groups they were in, and rounds that left them out);
    their partners keep their own history, without them. Counted: the groups."""
    groups = list(
        session.scalars(
            select(PairingGroup).where(PairingGroup.team_id == team_id, has_word(PairingGroup.members, user_id))
        )
    )
    for group in groups:
        group.members = " ".join(member for member in group.members.split() if member != user_id)
        group.mentor_id = None if group.mentor_id == user_id else group.mentor_id
        group.answered_by = None if group.answered_by == user_id else group.answered_by
    session.execute(delete(PairingMember).where(PairingMember.team_id == team_id, PairingMember.user_id == user_id))
    session.execute(delete(PairingLeftOut).where(PairingLeftOut.team_id == team_id, PairingLeftOut.user_id == user_id))
    session.flush()
    return len(groups)


def erase_file_deliveries(session: Session, team_id: str, user_id: str) -> int:
    """The record of files sent to the person (their exports and data), kept for reruns."""
    return _deleted(
        session, delete(FileDelivery).where(FileDelivery.team_id == team_id, FileDelivery.user_id == user_id)
    )


def _deleted(session: Session, statement: Any) -> int:
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def claim_receipt(session: Session, team_id: str, request_key: str, now: datetime) -> bool:
    """Claim the erasure of `request_key`: True for the first run (which fills the receipt in the same
    transaction); False when an earlier run made it (on PostgreSQL, after that run committed)."""
    values = {"team_id": team_id, "request_key": request_key, "counts": "{}", "slack_work": "[]", "created_at": now}
    return insert_if_absent(session, ErasureReceipt, values, ["team_id", "request_key"]) is not None


def receipt(session: Session, team_id: str, request_key: str) -> ErasureReceipt | None:
    return session.get(ErasureReceipt, (team_id, request_key))


def forget_receipts_before(session: Session, cutoff: datetime) -> int:
    return _deleted(session, delete(ErasureReceipt).where(ErasureReceipt.created_at < cutoff))


def forget_deliveries_before(session: Session, cutoff: datetime) -> int:
    return _deleted(session, delete(FileDelivery).where(FileDelivery.created_at < cutoff))
