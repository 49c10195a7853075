"""Queries over mentoring profiles and their skills. Plain values in, rows out; no Slack here."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, or_, select, union_all, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import ANONYMOUS_AUTHOR, MentorProfile, ProfileSkill, TagAuthor, Tip
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


@dataclass(frozen=True)
class Standing:
    """What ranking people by what they know needs of a profile: its level and whether they are there."""

    user_id: str
    level: str | None
    paused_until: datetime | None
    opted_out: bool
    deactivated_at: datetime | None

    def resting(self, now: datetime) -> bool:
        return self.opted_out or self.deactivated_at is not None or bool(self.paused_until and self.paused_until > now)


_STANDING = (
    MentorProfile.user_id,
    MentorProfile.level,
    MentorProfile.paused_until,
    MentorProfile.opted_out,
    MentorProfile.deactivated_at,
)


def _teaching(team_id: str, skills: Collection[str], now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Profiles teaching one of `skills` and not taking a break (paused, opted out, deactivated)."""
    return (
        ProfileSkill.team_id == team_id,
        ProfileSkill.kind == TEACH,
        ProfileSkill.skill.in_(skills),
        MentorProfile.opted_out.is_(False),
        MentorProfile.deactivated_at.is_(None),
        or_(MentorProfile.paused_until.is_(None), MentorProfile.paused_until <= now),
    )


_PROFILE_OF_SKILL = and_(ProfileSkill.team_id == MentorProfile.team_id, ProfileSkill.user_id == MentorProfile.user_id)


def teachers_of(
    session: Session,
    team_id: str,
    skills: Collection[str],
    now: datetime,
    *,
    levels: Sequence[str],
    limit: int,
    among: Collection[str] = (),
) -> dict[str, dict[str, Standing]]:
    """{skill: {person: standing}}: for each of `skills`, its `limit` most experienced teachers who are
    not taking a break (`levels` least experienced first; then by id), and those of `among` who teach
    it. Two columns, the rest decided in SQL: a common skill has hundreds of teachers."""
    experience = case({level: rank for rank, level in enumerate(levels)}, value=MentorProfile.level, else_=0)
    place = func.row_number().over(partition_by=ProfileSkill.skill, order_by=(experience.desc(), MentorProfile.user_id))
    ranked = (
        select(ProfileSkill.skill, MentorProfile.user_id, MentorProfile.level, place.label("place"))
        .join(ProfileSkill, _PROFILE_OF_SKILL)
        .where(*_teaching(team_id, skills, now))
        .subquery()
    )
    found: dict[str, dict[str, Standing]] = {skill: {} for skill in skills}
    rows = list(
        session.execute(select(ranked.c.skill, ranked.c.user_id, ranked.c.level).where(ranked.c.place <= limit))
    )
    people = list(dict.fromkeys(among))
    for start in range(0, len(people), 500):  # stay under every backend's bound-parameter limit
        query = (
            select(ProfileSkill.skill, MentorProfile.user_id, MentorProfile.level)
            .join(ProfileSkill, _PROFILE_OF_SKILL)
            .where(*_teaching(team_id, skills, now), MentorProfile.user_id.in_(people[start : start + 500]))
        )
        rows += session.execute(query)
    for skill, user_id, level in rows:
        found[skill][user_id] = Standing(user_id, level, None, False, None)
    return found


def standings_of(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, Standing]:
    ids = list(dict.fromkeys(user_ids))
    found: dict[str, Standing] = {}
    for start in range(0, len(ids), 500):  # stay under every backend's bound-parameter limit
        query = select(*_STANDING).where(
            MentorProfile.team_id == team_id, MentorProfile.user_id.in_(ids[start : start + 500])
        )
        found.update((row[0], Standing(*row)) for row in session.execute(query))
    return found


def profiles_of(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, MentorProfile]:
    ids = list(dict.fromkeys(user_ids))
    found: dict[str, MentorProfile] = {}
    for start in range(0, len(ids), 500):  # stay under every backend's bound-parameter limit
        chunk = ids[start : start + 500]
        query = select(MentorProfile).where(MentorProfile.team_id == team_id, MentorProfile.user_id.in_(chunk))
        found.update((p.user_id, p) for p in session.scalars(query))
    return found


def tip_evidence(
    session: Session, team_id: str, tags: Collection[str], limit: int = 50
) -> dict[str, dict[str, tuple[int, int]]]:
    """{tag: {author: (tips tagged with it, helpful votes on them)}}, each tag's `limit` most helpful."""
    # tag_authors (kept by triggers on tips) holds these sums: the first rows of one index, where
    # matching the words of every tip's `tags` read the whole workspace (bench/questions.py).
    found: dict[str, dict[str, tuple[int, int]]] = {tag: {} for tag in tags}
    if not tags:
        return found
    firsts = [
        select(TagAuthor.tag, TagAuthor.author_id, TagAuthor.tips, TagAuthor.helpful)
        .where(TagAuthor.team_id == team_id, TagAuthor.tag == tag, TagAuthor.author_id != ANONYMOUS_AUTHOR)
        .order_by(TagAuthor.helpful.desc(), TagAuthor.tips.desc(), TagAuthor.author_id.desc())
        .limit(limit)
        .subquery()
        for tag in dict.fromkeys(tags)
    ]
    for tag, author, tips, helpful in session.execute(union_all(*(select(first) for first in firsts))):
        found[tag][author] = (tips, helpful)
    return found


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
