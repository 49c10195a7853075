"""Mentoring use cases: profiles, "who knows X?", pausing and opting out."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.pairing.blocks import Helper
from bot.pairing.people import Level
from bot.pairing.profiles import Profile
from storage import pairing as queries
from storage import pairing_rounds as round_queries
from storage.db import Database
from storage.models import MentorProfile

MAX_LISTED = 10


def profile_from_row(row: MentorProfile, skills: dict[str, list[str]]) -> Profile:
    return Profile(
        user_id=row.user_id,
        teaches=tuple(skills.get(queries.TEACH, ())),
        learns=tuple(skills.get(queries.LEARN, ())),
        level=_level(row.level),
        team=row.team_name,
        open_to_mentoring=row.open_to_mentoring,
        open_to_mentee=row.open_to_mentee,
        open_to_coffee=row.open_to_coffee,
        capacity=row.capacity,
        avoids=tuple(row.avoids.split()),
        paused_until=row.paused_until,
        opted_out=row.opted_out,
        missed_rounds=row.missed_rounds,
    )


def load_profile(db: Database, team_id: str, user_id: str) -> Profile | None:
    with db.snapshot() as session:
        row = queries.profile(session, team_id, user_id)
        return None if row is None else profile_from_row(row, queries.skills_of(session, team_id, user_id))


def save_profile(db: Database, team_id: str, profile: Profile, now: datetime) -> Profile:
    values = {
        "level": profile.level.value if profile.level else None,
        "team_name": profile.team,
        "open_to_mentoring": profile.open_to_mentoring,
        "open_to_mentee": profile.open_to_mentee,
        "open_to_coffee": profile.open_to_coffee,
        "capacity": profile.capacity,
        "avoids": " ".join(profile.avoids),
        "deactivated_at": None,  # someone saving their profile is evidently active
        "updated_at": now,
    }
    with db.transaction() as session:
        row = queries.save_profile(session, team_id, profile.user_id, values, profile.teaches, profile.learns)
        return profile_from_row(row, queries.skills_of(session, team_id, profile.user_id))


def pause(db: Database, team_id: str, user_id: str, weeks: int, now: datetime) -> datetime:
    until = now + timedelta(weeks=weeks)
    with db.transaction() as session:
        queries.set_participation(session, team_id, user_id, now, paused_until=until, missed_rounds=0)
    return until


def resume(db: Database, team_id: str, user_id: str, now: datetime) -> None:
    with db.transaction() as session:
        queries.set_participation(
            session, team_id, user_id, now, paused_until=None, opted_out=False, missed_rounds=0, deactivated_at=None
        )


def opt_out(db: Database, team_id: str, user_id: str, now: datetime) -> None:
    with db.transaction() as session:
        queries.set_participation(session, team_id, user_id, now, opted_out=True)


def pause_text(profile: Profile | None, now: datetime) -> str | None:
    if profile is None:
        return None
    if profile.opted_out:
        return "You are out of all pairing rounds. `/mentor resume` brings you back."
    if profile.paused_until is not None and profile.paused_until > now:
        stamp = int(profile.paused_until.timestamp())
        fallback = profile.paused_until.strftime("%Y-%m-%d")
        return f"Paused until <!date^{stamp}^{{date_short_pretty}}|{fallback}>. `/mentor resume` ends it sooner."
    return None


def find_helpers(db: Database, team_id: str, skill: str, now: datetime) -> tuple[list[Helper], list[str]]:
    """Up to 10 people who can help with `skill`, best first, and close known skills when nobody can.

    Ranked by profile (teaches it, and how experienced) plus evidence: their tips tagged with it and
    the helpful votes those got. Paused, opted-out and deactivated people are not listed.
    """
    with db.snapshot() as session:
        teachers = {p.user_id: p for p in queries.teachers_of(session, team_id, skill)}
        evidence = {author: (tips, helpful) for author, tips, helpful in queries.tip_evidence(session, team_id, skill)}
        met = round_queries.met_on_skill(session, team_id, skill)
        profiles = queries.profiles_of(session, team_id, set(evidence) - set(teachers))
        profiles.update(teachers)
        suggestions: list[str] = []
        if not teachers and not evidence:
            known = set(queries.known_skills(session, team_id)) | set(queries.recent_tip_tags(session, team_id))
            suggestions = difflib.get_close_matches(skill, sorted(known), n=3, cutoff=0.6)
    helpers = []
    for user_id in set(teachers) | set(evidence):
        row = profiles.get(user_id)
        if row is not None and (row.opted_out or row.deactivated_at or (row.paused_until and row.paused_until > now)):
            continue
        tips, helpful = evidence.get(user_id, (0, 0))
        level = _level(row.level) if row is not None else None
        helpers.append(Helper(user_id, user_id in teachers, level, tips, helpful, met_pairings=met.get(user_id, 0)))
    helpers.sort(key=lambda h: (-_rank(h), h.user_id))
    return helpers[:MAX_LISTED], suggestions


def _level(value: str | None) -> Level | None:
    """A stored level; one no reader would store reads as unknown rather than breaking the profile."""
    try:
        return Level(value) if value else None
    except ValueError:
        return None


def _rank(helper: Helper) -> int:
    taught = 100 + 10 * (helper.level.rank if helper.level else 0) if helper.teaches else 0
    return taught + 5 * helper.tips + 2 * helper.helpful + 20 * helper.met_pairings


@dataclass(frozen=True)
class Match:
    channel_id: str
    when: datetime
    others: tuple[str, ...]
    outcome: str  # pending | met | not_yet | skipped | unknown
    current: bool


def matches(db: Database, team_id: str, user_id: str) -> list[Match]:
    """The person's latest pairings, newest first; the one of a round still open is current."""
    with db.snapshot() as session:
        rows = round_queries.past_groups(session, team_id, user_id, limit=6)
    return [
        Match(
            round_.channel_id,
            round_.created_at,
            tuple(m for m in group.members.split() if m != user_id),
            group.outcome,
            round_.status == "open",
        )
        for round_, group in rows
    ]
