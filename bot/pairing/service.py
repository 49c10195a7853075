"""Mentoring use cases: profiles, "who knows X?", pausing and opting out."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

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


def find_helpers(
    db: Database, team_id: str, skill: str, now: datetime, limit: int = MAX_LISTED
) -> tuple[list[Helper], list[str]]:
    """Up to `limit` people who can help with `skill`, best first, and close known skills when nobody can.

    Ranked by profile (teaches it, and how experienced) plus evidence: their tips tagged with it and
    the helpful votes those got. Paused, opted-out and deactivated people are not listed.
    """
    with db.snapshot() as session:
        helpers = helpers_on(session, team_id, (skill,), now, limit)[skill]
        suggestions: list[str] = []
        if not helpers:
            known = set(queries.known_skills(session, team_id)) | set(queries.recent_tip_tags(session, team_id))
            suggestions = difflib.get_close_matches(skill, sorted(known - {skill}), n=3, cutoff=0.6)
    return helpers, suggestions


def helpers_on(
    session: Session, team_id: str, skills: tuple[str, ...], now: datetime, limit: int
) -> dict[str, list[Helper]]:
    """For each of `skills`, up to `limit` people who can help with it, best first (find_helpers'
    ranking), in a few queries whatever the number of skills: the experts for a question use it."""
    evidence = queries.tip_evidence(session, team_id, skills)
    met = round_queries.met_on_skills(session, team_id, skills)
    # Someone with no tips among a skill's most helpful and no pairing on it scores by teaching alone,
    # so the `limit` most experienced teachers and the people with evidence hold the exact best `limit`.
    others = {user for skill in skills for user in (*evidence[skill], *met[skill])}
    teachers = queries.teachers_of(session, team_id, skills, now, levels=_LEVEL_ORDER, limit=limit, among=others)
    authors = {author for skill in skills for author in evidence[skill] if author not in teachers[skill]}
    standings = queries.standings_of(session, team_id, authors)
    found = {}
    for skill in skills:
        helpers = []
        for user_id in set(teachers[skill]) | set(evidence[skill]):
            row = teachers[skill].get(user_id) or standings.get(user_id)
            if row is not None and row.resting(now):
                continue
            tips, helpful = evidence[skill].get(user_id, (0, 0))
            level = _level(row.level) if row is not None else None
            teaches = user_id in teachers[skill]
            helpers.append(Helper(user_id, teaches, level, tips, helpful, met_pairings=met[skill].get(user_id, 0)))
        helpers.sort(key=lambda h: (-helper_rank(h), h.user_id))
        found[skill] = helpers[:limit]
    return found


_LEVELS = {level.value: level for level in Level}  # a dict lookup: helpers_on reads hundreds at once
_LEVEL_ORDER = [level.value for level in Level]  # least experienced first, as Level.rank counts


def _level(value: str | None) -> Level | None:
    """A stored level; one no reader would store reads as unknown rather than breaking the profile."""
    return _LEVELS.get(value) if value else None


def helper_rank(helper: Helper) -> int:
    """How much someone knows a skill: teaching it (more if experienced), tips on it, the helpful
    votes those got, and pairings met on it. `/mentor find` and the experts for a question use it."""
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
