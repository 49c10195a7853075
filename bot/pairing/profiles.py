"""A person's mentoring profile as plain values, with the bounds every value from Slack must meet.

Skills are normalised exactly like tip tags (bot.text.parse_tags), so `/mentor find sql` finds
the people who teach `#SQL` and the tips tagged `#sql` alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.pairing.people import Level, Person
from bot.text import parse_tags
from bot.text import without_control_characters as clean_text

MAX_SKILLS = 10  # per list: enough to say what matters, few enough to read in a DM
MAX_SKILL_LENGTH = 50
MAX_TEAM_LENGTH = 80
MAX_CAPACITY = 5
MAX_AVOIDED = 20
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")


@dataclass(frozen=True)
class Profile:
    user_id: str
    teaches: tuple[str, ...] = ()
    learns: tuple[str, ...] = ()
    level: Level | None = None
    team: str | None = None  # as typed (trimmed); compared case-folded
    open_to_mentoring: bool = True
    open_to_mentee: bool = True
    open_to_coffee: bool = True
    capacity: int = 1
    avoids: tuple[str, ...] = ()
    paused_until: datetime | None = None
    opted_out: bool = False
    missed_rounds: int = 0  # rounds in a row they did not answer; 3 pauses them

    def pausing(self, now: datetime) -> bool:
        return self.opted_out or (self.paused_until is not None and self.paused_until > now)


@dataclass(frozen=True)
class ProfileForm:
    """What the profile modal submitted, before it is checked."""

    teaches: str = ""
    learns: str = ""
    level: str | None = None
    team: str = ""
    open_to: tuple[str, ...] = ()
    capacity: str = "1"
    avoids: tuple[str, ...] = field(default_factory=tuple)


OPEN_TO = {"mentoring": "Mentoring others", "mentee": "Being mentored", "coffee": "Cross-team coffee"}


def read_profile(user_id: str, form: ProfileForm) -> Profile | dict[str, str]:
    """The profile the form describes, or field errors keyed by the modal's block ids."""
    errors: dict[str, str] = {}
    teaches = _skills(form.teaches, "teaches", errors)
    learns = _skills(form.learns, "learns", errors)
    level = None
    if form.level:
        try:
            level = Level(form.level)
        except ValueError:
            errors["level"] = "Pick one of the levels offered."
    team = " ".join(clean_text(form.team).split())
    if len(team) > MAX_TEAM_LENGTH:
        errors["team"] = f"Keep the team name under {MAX_TEAM_LENGTH} characters."
    unknown = [o for o in form.open_to if o not in OPEN_TO]
    if unknown:
        errors["open_to"] = "Pick from the options offered."
    capacity = 1
    if not re.fullmatch(r"\s*[0-9]{1,2}\s*", form.capacity or ""):
        errors["capacity"] = f"A whole number from 0 to {MAX_CAPACITY}."
    else:
        capacity = int(form.capacity)
        if not 0 <= capacity <= MAX_CAPACITY:
            errors["capacity"] = f"A whole number from 0 to {MAX_CAPACITY}."
    avoids = tuple(dict.fromkeys(u for u in form.avoids if u != user_id))
    if len(avoids) > MAX_AVOIDED:
        errors["avoids"] = f"Pick up to {MAX_AVOIDED} people."
    elif not all(_USER_ID.fullmatch(u) for u in avoids):
        errors["avoids"] = "Pick people from the list."
    if errors:
        return errors
    return Profile(
        user_id=user_id,
        teaches=teaches,
        learns=learns,
        level=level,
        team=team or None,
        open_to_mentoring="mentoring" in form.open_to and capacity > 0,
        open_to_mentee="mentee" in form.open_to,
        open_to_coffee="coffee" in form.open_to,
        capacity=capacity,
        avoids=avoids,
    )


def _skills(text: str, block_id: str, errors: dict[str, str]) -> tuple[str, ...]:
    text = clean_text(text)
    skills = parse_tags(text)
    if len(skills) > MAX_SKILLS:
        errors[block_id] = f"Up to {MAX_SKILLS} skills; pick the ones that matter most."
    elif any(len(word.strip("#")) > MAX_SKILL_LENGTH for word in re.split(r"[\s,]+", text)):
        errors[block_id] = f"Keep each skill under {MAX_SKILL_LENGTH} characters."
    return tuple(skills)


def as_person(profile: Profile | None, user_id: str, utc_offset_minutes: int | None) -> Person:
    """The matcher's view of someone; people without a profile pair for coffee with defaults."""
    if profile is None:
        return Person(user_id, utc_offset_minutes=utc_offset_minutes)
    return Person(
        user_id,
        level=profile.level,
        team=profile.team.casefold() if profile.team else None,
        teaches=frozenset(profile.teaches),
        learns=frozenset(profile.learns),
        open_to_mentoring=profile.open_to_mentoring,
        open_to_mentee=profile.open_to_mentee,
        capacity=max(profile.capacity, 1) if profile.open_to_mentoring else 1,
        utc_offset_minutes=utc_offset_minutes,
        avoids=frozenset(profile.avoids),
    )
