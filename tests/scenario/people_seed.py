"""A workspace where one person (U1) has something of every kind Peerlearn keeps about people: tips
shared by /tip (posted in #general) and captured from their own message, votes given and received,
a circle membership with check-in answers, a mentoring profile, a pairing round, a left-out note.
Tips and votes go through the app; circles and pairing rounds, whose own paths have their own tests,
are arranged in the database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from storage.db import Database
from storage.models import (
    Circle,
    CircleMember,
    CircleRound,
    MentorProfile,
    PairingGroup,
    PairingLeftOut,
    PairingMember,
    PairingRound,
    ParticipantStatus,
    ProfileSkill,
    RoundParticipant,
    RoundState,
    Tip,
    TipVote,
)
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

STUCK = "Stuck on lifetimes in async closures"
QUESTIONS = [
    "What did you learn or try since the last check-in?",
    "What are you stuck on, or want help with?",
    "What could you teach or share with the circle?",
]


@dataclass(frozen=True)
class Seeded:
    own_tips: list[int]  # U1's
    others_tip: int  # U2's, which U1 voted for
    circle_id: int
    round_id: int


def share(sender: SlackSender, db: Database, text: str, user: str) -> Tip:
    sender.command(text, user=user)
    with db.snapshot() as session:
        return session.scalars(select(Tip).where(Tip.text == text)).one()


def vote(sender: SlackSender, voter: str, tip: Tip) -> None:
    sender.reaction("reaction_added", voter, str(tip.channel_id), str(tip.message_ts), "+1", item_user="UBOT")


def seed(sender: SlackSender, slack: SlackDouble, db: Database, now: datetime) -> Seeded:
    mine = share(sender, db, '=HYPERLINK("http://evil.example","click") is how spreadsheets get you #excel', "U1")
    second = share(sender, db, "Read the stack trace from the bottom up #debugging", "U1")
    others = share(sender, db, "Keep pull requests under 300 lines #review", "U2")
    vote(sender, "U2", mine)
    vote(sender, "U3", mine)
    vote(sender, "U1", others)
    # A message of U1's own, made a tip by the tip emoji (the app marks it with 💡).
    ts = slack.add_message("C1", "U1", "Pin the versions of your CI images so builds stay reproducible")
    sender.reaction("reaction_added", "U1", "C1", ts, "bulb", item_user="U1")
    with db.snapshot() as session:
        captured = session.scalars(select(Tip).where(Tip.message_ts == ts)).one().id
    with db.transaction() as session:
        circle = Circle(
            team_id=TEAM_ID, name="Rust learners", name_key="rust learners", description="", channel_id="C1",
            cadence="weekly", weekday=0, at_time="09:00", zone="Europe/Berlin", questions=json.dumps(QUESTIONS),
            reminder_minutes=240, window_minutes=1440, owner_id="U2", created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(circle)
        session.flush()
        session.add_all(
            CircleMember(circle_id=circle.id, user_id=user, team_id=TEAM_ID, streak=2, joined_at=now)
            for user in ("U1", "U2")
        )
        round_ = CircleRound(
            team_id=TEAM_ID, circle_id=circle.id, period="2026-11-30", due_at=now - timedelta(hours=2),
            remind_at=now + timedelta(hours=2), closes_at=now + timedelta(hours=20), channel_id="C1",
            status=RoundState.OPEN, created_at=now,
        )  # fmt: skip
        session.add(round_)
        session.flush()
        session.add_all(
            [
                RoundParticipant(
                    round_id=round_.id, user_id="U1", team_id=TEAM_ID, status=ParticipantStatus.ANSWERED,
                    answers=json.dumps(["Tokio tasks", STUCK, ""]), answered_at=now - timedelta(hours=1),
                ),
                RoundParticipant(
                    round_id=round_.id, user_id="U2", team_id=TEAM_ID, status=ParticipantStatus.ANSWERED,
                    answers=json.dumps(["Macros", "Stuck on nothing much", ""]), answered_at=now - timedelta(hours=1),
                ),
            ]
        )  # fmt: skip
        session.add(
            MentorProfile(
                team_id=TEAM_ID, user_id="U1", level="senior", team_name="Platform", avoids="U4", capacity=2,
                open_to_mentoring=True, open_to_mentee=False, open_to_coffee=True, opted_out=False, missed_rounds=0,
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        session.add_all(
            [
                ProfileSkill(team_id=TEAM_ID, user_id="U1", kind="teach", skill="rust"),
                ProfileSkill(team_id=TEAM_ID, user_id="U1", kind="learn", skill="kubernetes"),
            ]
        )
        pairing = PairingRound(
            team_id=TEAM_ID, channel_id="C1", period="2026-11-23", mode="coffee", configured_by="U4",
            follow_up_at=now - timedelta(days=4), closes_at=now - timedelta(days=1), status="closed", created_at=now,
        )  # fmt: skip
        session.add(pairing)
        session.flush()
        group = PairingGroup(
            team_id=TEAM_ID, round_id=pairing.id, members="U1 U3", skills="rust", outcome="met", answered_by="U1",
            mentor_id="U1", answered_at=now,
        )  # fmt: skip
        session.add(group)
        session.flush()
        session.add_all(
            PairingMember(group_id=group.id, user_id=user, team_id=TEAM_ID, round_id=pairing.id)
            for user in ("U1", "U3")
        )
        later = PairingRound(
            team_id=TEAM_ID, channel_id="C1", period="2026-11-30", mode="coffee", configured_by="U4",
            follow_up_at=now, closes_at=now + timedelta(days=3), created_at=now,
        )  # fmt: skip
        session.add(later)
        session.flush()
        session.add(PairingLeftOut(round_id=later.id, user_id="U1", team_id=TEAM_ID, reason="odd one out"))
    return Seeded([mine.id, second.id, captured], others.id, circle.id, round_.id)


def count(db: Database, model: type, *where: object) -> int:
    with db.snapshot() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def votes_given(db: Database, user: str) -> int:
    return count(db, TipVote, TipVote.user_id == user)
