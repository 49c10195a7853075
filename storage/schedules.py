"""Schedules, the post ledger, the scheduler lease and custom prompts."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import CustomPrompt, Schedule, ScheduledPost, SchedulerLease, utcnow
from storage.upsert import insert_if_absent

# -- schedules ------------------------------------------------------------------------------


def get_schedule(session: Session, team_id: str, channel_id: str, kind: str) -> Schedule | None:
    query = select(Schedule).where(
        Schedule.team_id == team_id, Schedule.channel_id == channel_id, Schedule.kind == kind
    )
    return session.scalars(query).first()


def save_schedule(
    session: Session, team_id: str, channel_id: str, kind: str, *, now: datetime, **values: Any
) -> Schedule:
    """Create or replace the (channel, kind) schedule; a change also lifts any pause."""
    schedule = get_schedule(session, team_id, channel_id, kind)
    if schedule is None:
        schedule = Schedule(team_id=team_id, channel_id=channel_id, kind=kind, created_at=now)
        session.add(schedule)
    for key, value in values.items():
        setattr(schedule, key, value)
    schedule.paused_reason = None
    schedule.updated_at = now
    session.flush()
    return schedule


def remove_schedule(session: Session, team_id: str, channel_id: str, kind: str) -> bool:
    result = session.execute(
        delete(Schedule).where(Schedule.team_id == team_id, Schedule.channel_id == channel_id, Schedule.kind == kind)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def team_schedules(session: Session, team_id: str) -> list[Schedule]:
    query = select(Schedule).where(Schedule.team_id == team_id).order_by(Schedule.channel_id, Schedule.kind)
    return list(session.scalars(query))


def active_schedules(session: Session) -> list[Schedule]:
    return list(session.scalars(select(Schedule).where(Schedule.paused_reason.is_(None)).order_by(Schedule.id)))


# The statements every scheduled post makes (claim, compose, record) are built once, their values
# bound at execution: building one anew cost about as much CPU as running it (bench/workspaces.py).
_ADVANCE_SCHEDULE = (
    update(Schedule)
    .where(Schedule.id == bindparam("schedule_id"), Schedule.paused_reason.is_(None))
    .values(last_period=bindparam("period"))
    .execution_options(synchronize_session=False)
)


def advance_schedule(session: Session | Connection, schedule_id: int, period: str) -> bool:
    """Move a schedule that is not paused on to `period` (the one being claimed); False when it is
    paused or gone. One statement: the claim of every due post makes it."""
    result = session.execute(_ADVANCE_SCHEDULE, {"schedule_id": schedule_id, "period": period})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def pause_schedule(session: Session, schedule_id: int, reason: str) -> Schedule | None:
    schedule = session.get(Schedule, schedule_id)
    if schedule is not None:
        schedule.paused_reason = reason
    return schedule


# -- the post ledger ----------------------------------------------------------------------


def claim_post(session: Session | Connection, *, lease_until: datetime, **values: Any) -> int | None:
    """Insert the ledger row for (team, channel, kind, period); its id, or None if another run
    claimed it first."""
    row = {
        "status": "pending",
        "attempts": 0,
        "reply_count": 0,
        "created_at": utcnow(),
        "lease_until": lease_until,
        **values,
    }
    post_id = insert_if_absent(session, ScheduledPost, row, ["team_id", "channel_id", "kind", "period"])
    return None if post_id is None else int(post_id)


def post_of_period(session: Session, team_id: str, channel_id: str, kind: str, period: str) -> ScheduledPost | None:
    query = select(ScheduledPost).where(
        ScheduledPost.team_id == team_id,
        ScheduledPost.channel_id == channel_id,
        ScheduledPost.kind == kind,
        ScheduledPost.period == period,
    )
    return session.scalars(query).first()


def record_skip(session: Session | Connection, **values: Any) -> bool:
    """Note a firing missed beyond the grace window, once; True the first time."""
    row = {"status": "skipped", "attempts": 0, "reply_count": 0, "created_at": utcnow(), **values}
    return insert_if_absent(session, ScheduledPost, row, ["team_id", "channel_id", "kind", "period"]) is not None


def stale_pending_ids(session: Session, now: datetime, not_before: datetime) -> list[int]:
    """Pending posts whose lease ran out (a crash or a failed attempt), still worth retrying."""
    query = select(ScheduledPost.id).where(
        ScheduledPost.status == "pending",
        ScheduledPost.lease_until < now,
        ScheduledPost.due_at >= not_before,
    )
    return list(session.scalars(query.order_by(ScheduledPost.due_at)))


def expired_pending_ids(session: Session, due_before: datetime) -> list[int]:
    """Pending posts due before `due_before`: past their grace window, no longer retried."""
    query = select(ScheduledPost.id).where(ScheduledPost.status == "pending", ScheduledPost.due_at < due_before)
    return list(session.scalars(query.order_by(ScheduledPost.due_at)))


def give_up(session: Session, post_id: int) -> ScheduledPost | None:
    """Compare-and-set a pending post to failed; the row if this caller did it."""
    result = session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id == post_id, ScheduledPost.status == "pending")
        .values(status="failed", lease_until=None)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    post = session.get(ScheduledPost, post_id)
    if post is not None:
        session.refresh(post)
    return post


def take_over(
    session: Session, post_id: int, now: datetime, lease_until: datetime, holder: str | None = None
) -> ScheduledPost | None:
    """Compare-and-set the lease of a stale pending post; the row if this caller won it."""
    result = session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id == post_id, ScheduledPost.status == "pending", ScheduledPost.lease_until < now)
        .values(lease_until=lease_until, lease_holder=holder)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return session.get(ScheduledPost, post_id)


def renew_posts(session: Session, holder: str, ids: list[Hashable], until: datetime) -> list[int]:
    """The heartbeat: extend the leases of pending posts `holder` is delivering; the ids renewed.
    Never shortens one: a post waiting out a retry's backoff keeps its later time."""
    result = session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id.in_(ids), ScheduledPost.status == "pending", ScheduledPost.lease_holder == holder)
        .values(lease_until=case((ScheduledPost.lease_until < until, until), else_=ScheduledPost.lease_until))
        .returning(ScheduledPost.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def ledger_row(session: Session, post_id: int) -> ScheduledPost | None:
    return session.get(ScheduledPost, post_id)


_MARK_POSTED = (
    update(ScheduledPost)
    .where(ScheduledPost.id == bindparam("post_id"))
    .values(status="posted", message_ts=bindparam("ts"), posted_at=bindparam("posted_at"), error=None, lease_until=None)
    .returning(ScheduledPost.kind, ScheduledPost.team_id, ScheduledPost.channel_id, ScheduledPost.period)
    .execution_options(synchronize_session=False)
)


def mark_posted(
    session: Session | Connection, post_id: int, ts: str, posted_at: datetime
) -> tuple[str, str, str, str] | None:
    """Record the post as made, with its ts; (kind, team, channel, period) of the row, None if it is
    gone. One statement, without loading the row: every post makes it."""
    row = session.execute(_MARK_POSTED, {"post_id": post_id, "ts": ts, "posted_at": posted_at}).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def posts_between(
    session: Session, team_id: str, channel_id: str, kind: str, start: datetime, end: datetime
) -> Sequence[ScheduledPost]:
    query = select(ScheduledPost).where(
        ScheduledPost.team_id == team_id,
        ScheduledPost.channel_id == channel_id,
        ScheduledPost.kind == kind,
        ScheduledPost.status == "posted",
        ScheduledPost.due_at >= start,
        ScheduledPost.due_at < end,
    )
    return session.scalars(query.order_by(ScheduledPost.due_at.desc())).all()


def recent_posts(session: Session, team_id: str, channel_id: str, kind: str, limit: int) -> Sequence[ScheduledPost]:
    query = select(ScheduledPost).where(
        ScheduledPost.team_id == team_id,
        ScheduledPost.channel_id == channel_id,
        ScheduledPost.kind == kind,
        ScheduledPost.status == "posted",
    )
    return session.scalars(query.order_by(ScheduledPost.due_at.desc()).limit(limit)).all()


_IN_CHANNEL_PROMPTS = (
    ScheduledPost.team_id == bindparam("team_id"),
    ScheduledPost.channel_id == bindparam("channel_id"),
    ScheduledPost.kind == "prompt",
    ScheduledPost.prompt_key.is_not(None),
)
# The keys of the channel's latest cycle, in one statement (every prompt posted asks it).
_PROMPT_KEYS_IN_CYCLE = select(ScheduledPost.prompt_key, ScheduledPost.prompt_cycle).where(
    *_IN_CHANNEL_PROMPTS,
    ScheduledPost.prompt_cycle
    == select(func.max(ScheduledPost.prompt_cycle)).where(*_IN_CHANNEL_PROMPTS).scalar_subquery(),
)


def prompt_keys_in_cycle(session: Session, team_id: str, channel_id: str) -> tuple[int, set[str]]:
    """The channel's current rotation cycle and the prompt keys already used in it."""
    rows = session.execute(_PROMPT_KEYS_IN_CYCLE, {"team_id": team_id, "channel_id": channel_id}).all()
    cycle = max((row.prompt_cycle or 0 for row in rows), default=0)
    return cycle, {row.prompt_key for row in rows if row.prompt_key}


def count_reply(session: Session, team_id: str, channel_id: str, thread_ts: str) -> bool:
    """Add one reply to the prompt posted as `thread_ts`; False when that is no prompt of ours."""
    result = session.execute(
        update(ScheduledPost)
        .where(
            ScheduledPost.team_id == team_id,
            ScheduledPost.channel_id == channel_id,
            ScheduledPost.message_ts == thread_ts,
            ScheduledPost.kind == "prompt",
        )
        .values(reply_count=ScheduledPost.reply_count + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# Asked in the ack of every reply under a message of ours, so built once.
_PROMPT_POST = (
    select(ScheduledPost.id)
    .where(
        ScheduledPost.team_id == bindparam("team_id"),
        ScheduledPost.channel_id == bindparam("channel_id"),
        ScheduledPost.message_ts == bindparam("message_ts"),
        ScheduledPost.kind == "prompt",
    )
    .limit(1)
)


def is_prompt_post(reader: Session | Connection, team_id: str, channel_id: str, message_ts: str) -> bool:
    found = reader.execute(_PROMPT_POST, {"team_id": team_id, "channel_id": channel_id, "message_ts": message_ts})
    return found.first() is not None


# -- the scheduler lease --------------------------------------------------------------------


def acquire_lease(session: Session, name: str, holder: str, now: datetime, expires_at: datetime) -> bool:
    """Take or renew the named lease if it is free, expired, or ours. True when we hold it."""
    inserted = insert_if_absent(
        session, SchedulerLease, {"name": name, "holder": holder, "expires_at": expires_at}, ["name"]
    )
    if inserted is not None:
        return True
    result = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name)
        .where((SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew_leases(session: Session, holder: str, names: list[Hashable], until: datetime) -> list[str]:
    """The heartbeat: extend the named leases `holder` still holds; the names renewed."""
    result = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name.in_(names), SchedulerLease.holder == holder)
        .values(expires_at=until)
        .returning(SchedulerLease.name)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def release_lease(session: Session, name: str, holder: str) -> None:
    session.execute(delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder))


# -- custom prompts -------------------------------------------------------------------------


def add_custom_prompt(session: Session, team_id: str, text: str, created_by: str) -> CustomPrompt:
    prompt = CustomPrompt(team_id=team_id, text=text, created_by=created_by, created_at=utcnow())
    session.add(prompt)
    session.flush()
    return prompt


_CUSTOM_PROMPTS = (
    select(CustomPrompt)
    .where(CustomPrompt.team_id == bindparam("team_id"), CustomPrompt.removed_at.is_(None))
    .order_by(CustomPrompt.id)
)


def custom_prompts(session: Session, team_id: str) -> list[CustomPrompt]:
    return list(session.scalars(_CUSTOM_PROMPTS, {"team_id": team_id}))


def remove_custom_prompt(session: Session, team_id: str, number: int) -> bool:
    """Remove the workspace's prompt numbered `number` (as admins see and type it); False if none is."""
    result = session.execute(
        update(CustomPrompt)
        .where(CustomPrompt.team_id == team_id, CustomPrompt.number == number, CustomPrompt.removed_at.is_(None))
        .values(removed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def custom_prompt(session: Session, team_id: str, prompt_id: int) -> CustomPrompt | None:
    """The workspace's prompt by its database id (`custom:<id>` in the post ledger)."""
    query = select(CustomPrompt).where(CustomPrompt.team_id == team_id, CustomPrompt.id == prompt_id)
    return session.scalars(query).first()


def schedule_in_team(session: Session, team_id: str, schedule_id: int) -> Schedule | None:
    """The schedule a button names, only if it is the request's team's (ids are untrusted)."""
    schedule = session.get(Schedule, schedule_id)
    return schedule if schedule is not None and schedule.team_id == team_id else None
