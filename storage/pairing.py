"""Queries over mentoring profiles and their skills. Plain values in, rows out; no Slack here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import ANONYMOUS_AUTHOR, MentorProfile, ProfileSkill, Tip
from storage.upsert import insert_if_absent

TEACH = "teach"
LEARN = "learn"


def profile(session: Session, team_id: str, user_id: str) -> MentorProfile | None:
    return session.get(MentorProfile, (team_id, user_id))


def skills_of(session: Session, team_id: str, user_id: str) -> dict[str, list[str]]:
    """{"teach": [...], "learn": [...]}, each sorted."""
    rows = session.execute(
        select(ProfileSkill.kind, ProfileSkill.skill)
        .where(ProfileSkill.team_id == team_id, ProfileSkill.user_id == user_id)
        .order_by(ProfileSkill.kind, ProfileSkill.skill)
    )
    found: dict[str, list[str]] = {TEACH: [], LEARN: []}
    for kind, skill in rows:
        found.setdefault(kind, []).append(skill)
    return found


def skills_of_many(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """Each person's {"teach": [...], "learn": [...]} (people without skills are absent)."""
    ids = list(dict.fromkeys(user_ids))
    found: dict[str, dict[str, list[str]]] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(ProfileSkill.user_id, ProfileSkill.kind, ProfileSkill.skill)
            .where(ProfileSkill.team_id == team_id, ProfileSkill.user_id.in_(ids[start : start + 500]))
            .order_by(ProfileSkill.user_id, ProfileSkill.kind, ProfileSkill.skill)
        )
        for user_id, kind, skill in session.execute(query):
            found.setdefault(user_id, {TEACH: [], LEARN: []}).setdefault(kind, []).append(skill)
    return found


def save_profile(
    session: Session, team_id: str, user_id: str, values: dict[str, Any], teaches: Iterable[str], learns: Iterable[str]
) -> MentorProfile:
    """Create or replace the profile's own fields and its skills (pause and opt-out stay as they are)."""
    insert_if_absent(
        session,
        MentorProfile,
        {"team_id": team_id, "user_id": user_id, **_defaults(values["updated_at"]), **values},
        ["team_id", "user_id"],
    )
    session.execute(
        update(MentorProfile).where(MentorProfile.team_id == team_id, MentorProfile.user_id == user_id).values(**values)
    )
    session.execute(delete(ProfileSkill).where(ProfileSkill.team_id == team_id, ProfileSkill.user_id == user_id))
    rows = [{"team_id": team_id, "user_id": user_id, "kind": TEACH, "skill": s} for s in dict.fromkeys(teaches)]
    rows += [{"team_id": team_id, "user_id": user_id, "kind": LEARN, "skill": s} for s in dict.fromkeys(learns)]
    if rows:
        session.execute(insert(ProfileSkill), rows)
    found = profile(session, team_id, user_id)
    assert found is not None
    session.refresh(found)
    return found


def _defaults(now: datetime) -> dict[str, Any]:
    return {
        "open_to_mentoring": True,
        "open_to_mentee": True,
        "open_to_coffee": True,
        "capacity": 1,
        "avoids": "",
        "opted_out": False,
        "missed_rounds": 0,
        "created_at": now,
    }


def set_participation(session: Session, team_id: str, user_id: str, now: datetime, **values: Any) -> None:
    """Pause, resume or opt out, making an empty profile first if the person has none."""
    insert_if_absent(
        session,
        MentorProfile,
        {"team_id": team_id, "user_id": user_id, **_defaults(now), "updated_at": now},
        ["team_id", "user_id"],
    )
    session.execute(
        update(MentorProfile)
        .where(MentorProfile.team_id == team_id, MentorProfile.user_id == user_id)
        .values(updated_at=now, **values)
    )


def teachers_of(session: Session, team_id: str, skill: str) -> list[MentorProfile]:
    """Profiles that teach `skill`, whoever is paused or deactivated included (the caller decides)."""
    query = (
        select(MentorProfile)
        .join(
            ProfileSkill,
            and_(ProfileSkill.team_id == MentorProfile.team_id, ProfileSkill.user_id == MentorProfile.user_id),
        )
        .where(ProfileSkill.team_id == team_id, ProfileSkill.kind == TEACH, ProfileSkill.skill == skill)
    )
    return list(session.scalars(query))


def profiles_of(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, MentorProfile]:
    ids = list(dict.fromkeys(user_ids))
    found: dict[str, MentorProfile] = {}
    for start in range(0, len(ids), 500):  # stay under every backend's bound-parameter limit
        chunk = ids[start : start + 500]
        query = select(MentorProfile).where(MentorProfile.team_id == team_id, MentorProfile.user_id.in_(chunk))
        found.update((p.user_id, p) for p in session.scalars(query))
    return found


def tip_evidence(session: Session, team_id: str, tag: str, limit: int = 50) -> list[tuple[str, int, int]]:
    """(author, tips tagged `tag`, helpful votes on them), most helpful first."""
    query = (
        select(Tip.author_id, func.count(Tip.id), func.coalesce(func.sum(Tip.helpful_count), 0))
        .where(Tip.team_id == team_id, has_word(Tip.tags, tag), Tip.author_id != ANONYMOUS_AUTHOR)
        .group_by(Tip.author_id)
        .order_by(func.sum(Tip.helpful_count).desc(), func.count(Tip.id).desc(), Tip.author_id)
        .limit(limit)
    )
    return [(author, int(count), int(helpful)) for author, count, helpful in session.execute(query)]


def has_word(column: ColumnElement[str] | InstrumentedAttribute[str], word: str) -> ColumnElement[bool]:
    """`column` (space-separated words) holds `word` exactly: tags of a tip, skills of a pairing."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    padded: ColumnElement[str] = literal(" ") + column + literal(" ")
    return padded.like(f"% {escaped} %", escape="\\")


def known_skills(session: Session, team_id: str, limit: int = 2000) -> list[str]:
    query = select(ProfileSkill.skill).where(ProfileSkill.team_id == team_id).distinct().limit(limit)
    return list(session.scalars(query))


def recent_tip_tags(session: Session, team_id: str, limit: int = 2000) -> list[str]:
    query = select(Tip.tags).where(Tip.team_id == team_id, Tip.tags != "").order_by(Tip.id.desc()).limit(limit)
    return sorted({tag for tags in session.scalars(query) for tag in tags.split()})


def count_missed(session: Session, team_id: str, user_ids: Iterable[str], now: datetime) -> list[str]:
    """One more round ignored for each person; returns those who have now ignored 3 in a row."""
    ids = list(user_ids)
    if not ids:
        return []
    for user_id in ids:
        insert_if_absent(
            session,
            MentorProfile,
            {
                "team_id": team_id,
                "user_id": user_id,
                "open_to_mentoring": True,
                "open_to_mentee": True,
                "open_to_coffee": True,
                "capacity": 1,
                "avoids": "",
                "opted_out": False,
                "missed_rounds": 0,
                "created_at": now,
                "updated_at": now,
            },
            ["team_id", "user_id"],
        )
    session.execute(
        update(MentorProfile)
        .where(MentorProfile.team_id == team_id, MentorProfile.user_id.in_(ids))
        .values(missed_rounds=MentorProfile.missed_rounds + 1)
    )
    query = select(MentorProfile.user_id).where(
        MentorProfile.team_id == team_id, MentorProfile.user_id.in_(ids), MentorProfile.missed_rounds >= 3
    )
    return list(session.scalars(query))


def reset_missed(session: Session, team_id: str, user_ids: Iterable[str]) -> None:
    ids = list(user_ids)
    if ids:
        session.execute(
            update(MentorProfile)
            .where(MentorProfile.team_id == team_id, MentorProfile.user_id.in_(ids))
            .values(missed_rounds=0)
        )


def pause_people(session: Session, team_id: str, user_ids: Iterable[str], until: datetime, now: datetime) -> None:
    ids = list(user_ids)
    if ids:
        session.execute(
            update(MentorProfile)
            .where(MentorProfile.team_id == team_id, MentorProfile.user_id.in_(ids))
            .values(paused_until=until, missed_rounds=0, updated_at=now)
        )
