"""Who is in a pairing pool and what may bring two of them together: plain values and the rules.

A pair is *allowed* only if no hard rule forbids it (met within the no-repeat window, one blocked
the other, mentorship's teacher-and-level rule); among allowed pairs, `weight` scores the soft
preferences, none of which ever forbids a pair on its own (a shared skill, different teams, people
who have never met, time zones with working hours in common).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    NEW = "new"
    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"
    LEAD = "lead"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {level: rank for rank, level in enumerate(Level)}


class Mode(StrEnum):
    MENTORSHIP = "mentorship"
    CROSS_TEAM = "cross-team"
    COFFEE = "coffee"


@dataclass(frozen=True)
class Person:
    user_id: str
    level: Level | None = None
    team: str | None = None  # case-folded by the profile's reader, so equal teams compare equal
    teaches: frozenset[str] = frozenset()
    learns: frozenset[str] = frozenset()
    open_to_mentoring: bool = True  # as the more experienced one
    open_to_mentee: bool = True  # as the one who learns
    capacity: int = 1  # mentees per round, as a mentor
    utc_offset_minutes: int | None = None  # from Slack's `tz_offset`; never asked
    avoids: frozenset[str] = frozenset()  # people they'd rather not be paired with


PairKey = tuple[str, str]


def pair_key(a: str, b: str) -> PairKey:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class History:
    """What earlier rounds of this channel say about pairs (keys from `pair_key`)."""

    recent: frozenset[PairKey] = frozenset()  # met within the no-repeat window: never again
    ever: frozenset[PairKey] = frozenset()  # met through Peerlearn at any time


@dataclass(frozen=True)
class Weights:
    """Soft preferences, in points on top of BASE (every allowed pair is worth more than none)."""

    base: int = 1000
    per_skill: int = 120  # a skill one teaches and the other wants to learn (max 3 counted)
    other_team: int = 60  # coffee and mentorship: meeting another team is a plus
    other_team_cross: int = 500  # cross-team mode: the point of the round
    new_faces: int = 150  # never met through Peerlearn
    near_zone: int = 80  # working hours overlap well (at most 3 h apart)
    far_zone: int = -700  # more than 6 h apart: only when nothing better exists
    level_gap: int = 40  # mentorship: one or two levels apart reads best


@dataclass(frozen=True)
class Rules:
    mode: Mode = Mode.COFFEE
    weights: Weights = field(default_factory=Weights)


def mentor_of(a: Person, b: Person) -> tuple[Person, Person, frozenset[str]] | None:
    """(mentor, learner, skills) when one can teach the other something they want to learn and is at
    least one level more experienced; the pairing with more shared skills wins a tie of directions."""
    best: tuple[Person, Person, frozenset[str]] | None = None
    for mentor, learner in ((a, b), (b, a)):
        skills = mentor.teaches & learner.learns
        if not skills or not mentor.open_to_mentoring or not learner.open_to_mentee:
            continue
        if mentor.level is None or learner.level is None or mentor.level.rank < learner.level.rank + 1:
            continue
        if best is None or len(skills) > len(best[2]):
            best = (mentor, learner, skills)
    return best


def allowed(a: Person, b: Person, history: History, rules: Rules) -> bool:
    return score(a, b, history, rules) is not None


def shared_skills(a: Person, b: Person) -> frozenset[str]:
    return (a.teaches & b.learns) | (b.teaches & a.learns)


def weight(a: Person, b: Person, history: History, rules: Rules) -> int:
    """The worth of pairing a and b, whom the rules allow; always positive."""
    found = score(a, b, history, rules)
    assert found is not None, "weight of a pair the rules forbid"
    return found


def score(a: Person, b: Person, history: History, rules: Rules) -> int | None:
    """None when a hard rule forbids the pair; else its worth (always positive)."""
    if a.user_id == b.user_id or b.user_id in a.avoids or a.user_id in b.avoids:
        return None
    key = pair_key(a.user_id, b.user_id)
    if key in history.recent:
        return None
    w = rules.weights
    points = w.base
    if rules.mode is Mode.MENTORSHIP:
        found = mentor_of(a, b)
        if found is None:
            return None
        mentor, learner, _skills = found
        if mentor.level and learner.level and mentor.level.rank - learner.level.rank <= 2:
            points += w.level_gap
    if (a.teaches and b.learns) or (b.teaches and a.learns):
        points += w.per_skill * min(3, len(shared_skills(a, b)))
    if a.team and b.team and a.team != b.team:
        points += w.other_team_cross if rules.mode is Mode.CROSS_TEAM else w.other_team
    if key not in history.ever:
        points += w.new_faces
    if a.utc_offset_minutes is not None and b.utc_offset_minutes is not None:
        apart = abs(a.utc_offset_minutes - b.utc_offset_minutes)
        apart = min(apart, 24 * 60 - apart)
        if apart <= 180:
            points += w.near_zone
        elif apart > 360:
            points += w.far_zone
    return max(1, points)


class Scorer:
    """`score` of each pair at most once per round: the matcher asks about the same pairs many times."""

    def __init__(self, history: History, rules: Rules) -> None:
        self.history = history
        self.rules = rules
        self._memo: dict[PairKey, int | None] = {}

    def __call__(self, a: Person, b: Person) -> int | None:
        key = (a.user_id, b.user_id) if a.user_id < b.user_id else (b.user_id, a.user_id)
        if key in self._memo:
            return self._memo[key]
        found = self._memo[key] = score(a, b, self.history, self.rules)
        return found

    def allowed(self, a: Person, b: Person) -> bool:
        return self(a, b) is not None

    def weight(self, a: Person, b: Person) -> int:
        found = self(a, b)
        assert found is not None, "weight of a pair the rules forbid"
        return found
