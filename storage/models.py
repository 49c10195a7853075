"""Tables. Every row carries the Slack team id, so one database serves many workspaces unmixed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SlackId = String(32)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class RoundState(StrEnum):
    """A circle round's steps, each taken once (compare-and-set): opening -> open -> closing -> closed."""

    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class ParticipantStatus(StrEnum):
    """A member's place in one round, decided before any DM goes out."""

    INVITED = "invited"
    ANSWERED = "answered"
    PAUSED = "paused"  # sitting this round out (/circle pause)
    UNREACHABLE = "unreachable"  # deactivated, or DMs closed


class StrEnumColumn(TypeDecorator[Any]):
    """A StrEnum stored as its value; read back as the enum, and refused at write when unknown."""

    impl = String(16)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    author_id: Mapped[str] = mapped_column(SlackId)
    # Who turned someone else's message into a tip (shortcut or reaction); None for /tip.
    saved_by_id: Mapped[str | None] = mapped_column(SlackId)
    text: Mapped[str] = mapped_column(Text)
    # Lower-case tags without '#', space-separated: indexed by full-text search with the text.
    tags: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    # Where it was shared (the channel /tip ran in, or the captured message's channel).
    origin_channel_id: Mapped[str | None] = mapped_column(SlackId)
    # The Slack message that stands for the tip: reactions on it are helpful votes.
    channel_id: Mapped[str | None] = mapped_column(SlackId)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    helpful_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The Slack request that made it (bot/slack/requests.py): a rerun of that request's job finds
    # this tip instead of making a second one, and its post carries the key in its metadata.
    request_key: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts", name="uq_tips_message"),
        # A unique index, not a constraint: SQLite adds it without rebuilding the table (and its FTS triggers).
        Index("uq_tips_request", "team_id", "request_key", unique=True),
        Index("ix_tips_team_created", "team_id", "created_at"),
        Index("ix_tips_team_helpful", "team_id", "helpful_count", "id"),
        Index("ix_tips_team_author", "team_id", "author_id", "created_at"),
        Index("ix_tips_team_channel_helpful", "team_id", "origin_channel_id", "helpful_count", "id"),
        Index("ix_tips_team_channel_created", "team_id", "origin_channel_id", "created_at"),
    )


class TipDeletion(Base):
    """A deleted tip's trace, kept under the request that deleted it: a rerun of that request finds
    it and finishes the Slack side (taking the post or the mark away) instead of answering "no tip"."""

    __tablename__ = "tip_deletions"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tip_id: Mapped[int]
    source: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(SlackId)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    deleted_by: Mapped[str] = mapped_column(SlackId)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)


class TipReaction(Base):
    """Each emoji a person put on a tip; their vote stands while at least one remains."""

    __tablename__ = "tip_reactions"

    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    reaction: Mapped[str] = mapped_column(String(100), primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TipVote(Base):
    """One "this helped me" per person per tip (never the author's own)."""

    __tablename__ = "tip_votes"

    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    # The tip's author, copied so "top teachers of the week" aggregates votes without a join.
    author_id: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Covers "top teachers" (and the join to a tip's channel) without reading the rows.
    __table_args__ = (Index("ix_tip_votes_team_created_author_tip", "team_id", "created_at", "author_id", "tip_id"),)


class Schedule(Base):
    """A channel's prompt or digest schedule. The truth about schedules lives here, not in APScheduler."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    channel_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(16))  # prompt | digest
    cadence: Mapped[str] = mapped_column(String(16))  # daily | weekdays | weekly | biweekly
    weekday: Mapped[int | None]
    at_time: Mapped[str] = mapped_column(String(5))  # HH:MM, wall clock in `zone`
    zone: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[date | None] = mapped_column(Date)  # biweekly: a date in a posting week
    scope: Mapped[str] = mapped_column(String(16), default="workspace")  # digest: workspace | channel
    # Pairing rounds: mentorship | cross-team | coffee, people per group, rounds before a pair may meet again
    pairing_mode: Mapped[str | None] = mapped_column(String(16))
    pairing_size: Mapped[int | None]
    pairing_window: Mapped[int | None]
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # The period of the last firing handled (claimed or skipped): lets a tick skip it without a write.
    last_period: Mapped[str | None] = mapped_column(String(64))
    configured_by: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "channel_id", "kind", name="uq_schedules_channel_kind"),)


class ScheduledPost(Base):
    """The post ledger: one row per (team, channel, kind, period), claimed before anything is posted."""

    __tablename__ = "scheduled_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    channel_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(64))  # the firing's local date, or "now:<id>" for manual posts
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | posted | failed | skipped
    lease_until: Mapped[datetime | None]
    lease_holder: Mapped[str | None] = mapped_column(String(128))  # the process whose heartbeat renews it
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime | None]
    prompt_key: Mapped[str | None] = mapped_column(String(64))
    prompt_cycle: Mapped[int | None]
    resurfaced_tip_id: Mapped[int | None]
    reply_count: Mapped[int] = mapped_column(default=0)
    requested_by: Mapped[str | None] = mapped_column(SlackId)  # who asked for a post "now"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "kind", "period", name="uq_scheduled_posts_period"),
        Index("ix_scheduled_posts_channel_due", "team_id", "channel_id", "kind", "due_at"),
        Index("ix_scheduled_posts_message", "team_id", "channel_id", "message_ts"),
        Index("ix_scheduled_posts_status", "status", "lease_until"),
    )


class CustomPrompt(Base):
    __tablename__ = "custom_prompts"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId, index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]


class SchedulerLease(Base):
    """Which scheduler process may post right now. Infrastructure, not workspace data: no team id."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class Circle(Base):
    """A learning circle: a few people who check in with each other on a schedule."""

    __tablename__ = "circles"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(80))  # lower-cased: names are unique case-insensitively
    description: Mapped[str] = mapped_column(Text, default="")
    channel_id: Mapped[str] = mapped_column(SlackId)
    cadence: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int | None]
    at_time: Mapped[str] = mapped_column(String(5))
    zone: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[date | None] = mapped_column(Date)
    questions: Mapped[str] = mapped_column(Text)  # JSON list of 1-5 strings
    reminder_minutes: Mapped[int]
    window_minutes: Mapped[int]
    owner_id: Mapped[str] = mapped_column(SlackId)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    last_period: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The request that created it: a rerun of that job finds this circle instead of a name clash.
    created_key: Mapped[str | None] = mapped_column(String(64))
    announce_ts: Mapped[str | None] = mapped_column(String(32))  # the channel post with its Join button

    __table_args__ = (
        UniqueConstraint("team_id", "name_key", name="uq_circles_name"),
        Index("uq_circles_created_key", "team_id", "created_key", unique=True),
    )


class CircleMember(Base):
    __tablename__ = "circle_members"

    circle_id: Mapped[int] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    skip_rounds: Mapped[int] = mapped_column(default=0)  # /circle pause: rounds still to sit out
    streak: Mapped[int] = mapped_column(default=0)  # consecutive rounds answered
    last_answered_at: Mapped[datetime | None]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class CircleRound(Base):
    """One check-in round; opened, reminded and closed once each (compare-and-set on its status)."""

    __tablename__ = "circle_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    channel_id: Mapped[str] = mapped_column(SlackId)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    # reminded_at is set once, by whoever sends the reminders
    status: Mapped[RoundState] = mapped_column(StrEnumColumn(RoundState), default=RoundState.OPENING)
    lease_until: Mapped[datetime | None]  # while opening; renewed by its opener's heartbeat
    lease_holder: Mapped[str | None] = mapped_column(String(128))
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("circle_id", "period", name="uq_circle_rounds_period"),
        Index("ix_circle_rounds_status", "status", "remind_at", "closes_at"),
        Index("ix_circle_rounds_team_due", "team_id", "due_at"),
    )


class RoundParticipant(Base):
    __tablename__ = "round_participants"

    round_id: Mapped[int] = mapped_column(ForeignKey("circle_rounds.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    status: Mapped[ParticipantStatus] = mapped_column(StrEnumColumn(ParticipantStatus))
    dm_channel_id: Mapped[str | None] = mapped_column(SlackId)
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[str | None] = mapped_column(Text)  # JSON list aligned with the circle's questions
    reply_ts: Mapped[str | None] = mapped_column(String(32))  # the answers' reply in the round's thread
    answered_at: Mapped[datetime | None]


class ProcessedEvent(Base):
    """Events API deliveries already handled, so Slack's retries change nothing (kept a week)."""

    __tablename__ = "processed_events"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Job(Base):
    """Work a listener left for after its ack: the Slack request it came from, run by a job worker.

    `due_at` is when the row may next be claimed: its (re)try time while queued, its lease expiry
    while running (renewed by its worker's heartbeat; a dead worker's job is claimed again once it
    passes); None once failed for good.
    """

    __tablename__ = "jobs"

    # 64-bit on PostgreSQL: at 200 jobs/s a 32-bit id runs out in four months. SQLite's INTEGER
    # PRIMARY KEY is 64-bit already (and only that exact type is the rowid).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    listener: Mapped[str] = mapped_column(String(128))  # the lazy listener's name
    mode: Mapped[str] = mapped_column(String(16))  # http (raw body) | socket_mode (JSON body)
    content_type: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # queued | running | failed
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None]
    holder: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_jobs_due", "due_at", "id"), Index("ix_jobs_team_state", "team_id", "state"))


class MentorProfile(Base):
    """What a person can teach and wants to learn, and how they take part in pairing rounds."""

    __tablename__ = "mentor_profiles"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    level: Mapped[str | None] = mapped_column(String(16))  # new | junior | mid | senior | lead
    team_name: Mapped[str | None] = mapped_column(String(80))
    open_to_mentoring: Mapped[bool] = mapped_column(default=True)
    open_to_mentee: Mapped[bool] = mapped_column(default=True)
    open_to_coffee: Mapped[bool] = mapped_column(default=True)
    capacity: Mapped[int] = mapped_column(default=1)  # mentees per round
    avoids: Mapped[str] = mapped_column(Text, default="")  # space-separated user ids; never shown to anyone
    paused_until: Mapped[datetime | None]
    opted_out: Mapped[bool] = mapped_column(default=False)
    missed_rounds: Mapped[int] = mapped_column(default=0)  # unanswered rounds in a row
    deactivated_at: Mapped[datetime | None]  # the person was deactivated in Slack
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProfileSkill(Base):
    """One skill of a profile, in a row of its own so "who teaches X?" is an index lookup."""

    __tablename__ = "profile_skills"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # teach | learn
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_profile_skills_skill", "team_id", "kind", "skill"),)


class PairingRound(Base):
    """One pairing round of a channel: planned, recorded, then its groups are told (once each)."""

    __tablename__ = "pairing_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    channel_id: Mapped[str] = mapped_column(SlackId)
    period: Mapped[str] = mapped_column(String(64))  # the firing's local date, or "now:<n>" for a manual round
    mode: Mapped[str] = mapped_column(String(16))  # mentorship | cross-team | coffee
    size: Mapped[int] = mapped_column(default=2)
    seed: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    configured_by: Mapped[str] = mapped_column(SlackId)  # the admin told about what went wrong
    pool_size: Mapped[int] = mapped_column(default=0)
    learners: Mapped[int] = mapped_column(default=0)  # mentorship: people in the pool who want to learn something
    learners_taught: Mapped[int] = mapped_column(default=0)  # ... matched to a teacher of a wanted skill
    follow_up_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]  # the admin got the round's summary
    followed_up_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "period", name="uq_pairing_rounds_period"),
        Index("ix_pairing_rounds_status", "status", "follow_up_at", "closes_at"),
    )


class PairingGroup(Base):
    """A pair or trio of a round, recorded before anyone is messaged; its outcome once they answer."""

    __tablename__ = "pairing_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    round_id: Mapped[int] = mapped_column(ForeignKey("pairing_rounds.id", ondelete="CASCADE"))
    members: Mapped[str] = mapped_column(Text)  # space-separated user ids, the one who starts first
    mentor_id: Mapped[str | None] = mapped_column(SlackId)
    skills: Mapped[str] = mapped_column(Text, default="")  # space-separated, what brought them together
    cross_team: Mapped[bool] = mapped_column(default=False)
    conversation_id: Mapped[str | None] = mapped_column(SlackId)  # the group DM
    message_ts: Mapped[str | None] = mapped_column(String(32))
    problem: Mapped[str | None] = mapped_column(Text)  # why the group DM could not be opened
    outcome: Mapped[str] = mapped_column(String(16), default="pending")  # pending | met | not_yet | skipped | unknown
    answered_by: Mapped[str | None] = mapped_column(SlackId)
    answered_at: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_pairing_groups_round", "round_id"),)


class PairingMember(Base):
    """Who was in which group: history ("met within the last N rounds") and "my current match"."""

    __tablename__ = "pairing_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("pairing_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    round_id: Mapped[int] = mapped_column(ForeignKey("pairing_rounds.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_pairing_members_user", "team_id", "user_id", "round_id"),)


class PairingLeftOut(Base):
    """Someone the rules left without a group in a round, and why (they are told, never skipped silently)."""

    __tablename__ = "pairing_left_out"

    round_id: Mapped[int] = mapped_column(ForeignKey("pairing_rounds.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    reason: Mapped[str] = mapped_column(Text)
    told_at: Mapped[datetime | None]


class RequestKey(Base):
    """The Slack requests whose jobs were queued lately (kept minutes, past Slack's 5-minute replay
    window): a replayed request, or an event Slack delivers again, finds its key and queues nothing."""

    __tablename__ = "request_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # request_key(body) + ":" + listener
    batch: Mapped[str] = mapped_column(String(32))  # the enqueue transaction that stored it
    seen_at: Mapped[datetime] = mapped_column(index=True)
