"""Mentoring profiles and pairing rounds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow


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
