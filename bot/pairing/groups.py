"""A round's groups from the matching: pairs, groups of three, the odd one out, and why anyone
the rules leave alone is left alone (they are told, never silently skipped)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from bot.pairing.matching import COMMON_RULES, MAX_CAPACITY, pair_up
from bot.pairing.people import History, Mode, Person, Rules, Scorer, mentor_of, shared_skills


class LeftOut(StrEnum):
    NOBODY_ALLOWED = "everyone you could meet this round met you recently or is on a do-not-pair list"
    NO_TEACHER = "nobody free this round teaches what you want to learn at a more experienced level"
    NO_LEARNER = "nobody free this round wants to learn what you teach from someone at your level"
    NOTHING_TO_LEARN = "your profile lists nothing you want to learn: add skills with `/mentor profile`"
    NO_ROOM = "everyone who could meet you this round was already matched, and no group could take one more"


@dataclass(frozen=True)
class Group:
    members: tuple[str, ...]  # user ids, the one who starts the conversation first
    mentor: str | None  # mentorship: who teaches
    skills: tuple[str, ...]  # what brought them together, sorted
    weight: int


@dataclass(frozen=True)
class Plan:
    groups: tuple[Group, ...]
    left_out: tuple[tuple[str, LeftOut], ...]

    @property
    def total_weight(self) -> int:
        return sum(g.weight for g in self.groups)


def plan_round(pool: Sequence[Person], history: History, rules: Rules, *, size: int = 2, seed: int = 0) -> Plan:
    people = sorted({p.user_id: p for p in pool}.values(), key=lambda p: p.user_id)
    rng = random.Random(seed)
    by_id = {p.user_id: p for p in people}
    scorer, common = Scorer(history, rules), Scorer(history, COMMON_RULES)
    paired = pair_up(people, scorer, rng)
    groups = [list(pair) for pair in paired.pairs]
    singles = paired.alone
    if size == 3:
        groups, singles = _to_trios(groups, singles, by_id, scorer, common, paired.neighbours)
    groups, singles = _adopt_singles(groups, singles, by_id, scorer, common, size, paired.neighbours)
    built = tuple(sorted((_group(g, by_id, scorer, rng) for g in groups), key=lambda g: g.members))
    return Plan(built, tuple((s, _why_alone(by_id[s], paired.neighbours[s], rules)) for s in singles))


def _fits(person: Person, members: list[str], by_id: dict[str, Person], scorer: Scorer, common: Scorer) -> int | None:
    """What `person` adds to a group, or None when a hard rule keeps them out of it."""
    others = [by_id[m] for m in members]
    if scorer.rules.mode is not Mode.MENTORSHIP:
        if not all(scorer.allowed(person, m) for m in others):
            return None
        return sum(scorer.weight(person, m) for m in others)
    # Mentorship: one member teaches each of the others; the others need only the rules that hold
    # for everyone (not met recently, nobody blocked).
    if not all(common.allowed(person, m) for m in others):
        return None
    mentor = _mentor_of_group([*members, person.user_id], by_id)
    if mentor is None:
        return None
    if mentor == person.user_id:
        return sum(scorer.weight(person, m) for m in others)
    return scorer.weight(by_id[mentor], person)


def _mentees(groups: list[list[str]], by_id: dict[str, Person]) -> Counter[str]:
    taught: Counter[str] = Counter()
    for members in groups:
        if (mentor := _mentor_of_group(members, by_id)) is not None:
            taught[mentor] += len(members) - 1
    return taught


def _has_room(mentor: str | None, taught: Counter[str], by_id: dict[str, Person], more: int = 1) -> bool:
    return mentor is not None and taught[mentor] + more <= min(max(by_id[mentor].capacity, 1), MAX_CAPACITY)


def _adopt_singles(
    groups: list[list[str]],
    singles: list[str],
    by_id: dict[str, Person],
    scorer: Scorer,
    common: Scorer,
    size: int,
    neighbours: dict[str, set[str]],
) -> tuple[list[list[str]], list[str]]:
    """An odd one out joins the group where they fit best (each group takes at most one more).

    Only groups holding one of their candidates are tried: the others were not worth an edge."""
    group_of: dict[str, list[int]] = defaultdict(list)
    for index, members in enumerate(groups):
        for member in members:
            group_of[member].append(index)
    left: list[str] = []
    grown: set[int] = set()
    taught = _mentees(groups, by_id) if scorer.rules.mode is Mode.MENTORSHIP else Counter()
    for single in singles:
        best: tuple[int, int] | None = None
        tried = sorted({index for other in neighbours.get(single, ()) for index in group_of.get(other, ())})
        for index in tried:
            members = groups[index]
            if index in grown or single in members or len(members) > size:
                continue
            points = _fits(by_id[single], members, by_id, scorer, common)
            if points is not None and scorer.rules.mode is Mode.MENTORSHIP:
                mentor = _mentor_of_group([*members, single], by_id)
                if mentor == single or not _has_room(mentor, taught, by_id):
                    points = None
            if points is not None and (best is None or points > best[0]):
                best = (points, index)
        if best is None:
            left.append(single)
        else:
            groups[best[1]].append(single)
            grown.add(best[1])
            if scorer.rules.mode is Mode.MENTORSHIP and (mentor := _mentor_of_group(groups[best[1]], by_id)):
                taught[mentor] += 1
    return groups, left


def _to_trios(
    pairs: list[list[str]],
    singles: list[str],
    by_id: dict[str, Person],
    scorer: Scorer,
    common: Scorer,
    neighbours: dict[str, set[str]],
) -> tuple[list[list[str]], list[str]]:
    """Groups of three: the best third of the pairs stay as cores, and the others join one each, by
    an assignment over the cores that hold one of their candidates (a sparse problem, solved exactly)."""
    everyone = len({m for p in pairs for m in p}) + len(singles)
    cores = sorted(pairs, key=lambda p: -scorer.weight(by_id[p[0]], by_id[p[1]]))[: everyone // 3]
    core_members = {m for p in cores for m in p}
    joiners = sorted({m for p in pairs for m in p} - core_members) + singles
    if not cores or not joiners:
        return cores, joiners
    mentoring = scorer.rules.mode is Mode.MENTORSHIP
    core_of: dict[str, list[int]] = defaultdict(list)
    for y, core in enumerate(cores):
        for member in core:
            core_of[member].append(y)
    open_cores = set(range(len(cores)))
    if scorer.rules.mode is Mode.MENTORSHIP:  # each of a mentor's groups may grow by one only if capacity allows all
        taught = _mentees(cores, by_id)
        open_cores = {
            y for y in open_cores if _has_room(m := _mentor_of_group(cores[y], by_id), taught, by_id, taught[m or ""])
        }
    top = scorer.rules.weights.base * 10
    rows, cols, costs = [], [], []
    for x, joiner in enumerate(joiners):
        rows.append(x)
        cols.append(len(cores) + x)  # a seat of one's own: joining nobody, the most costly choice
        costs.append(float(top * 2))
        for y in sorted({y for other in neighbours.get(joiner, ()) for y in core_of.get(other, ())} & open_cores):
            points = _fits(by_id[joiner], cores[y], by_id, scorer, common)
            if points is not None and (not mentoring or _mentor_of_group([*cores[y], joiner], by_id) != joiner):
                rows.append(x)
                cols.append(y)
                costs.append(float(top - min(points, top - 1)))
    matrix = csr_matrix((costs, (rows, cols)), shape=(len(joiners), len(cores) + len(joiners)))
    row_ind, col_ind = min_weight_full_bipartite_matching(matrix)
    placed: set[str] = set()
    for x, y in zip(row_ind.tolist(), col_ind.tolist(), strict=True):
        if y < len(cores):
            cores[y] = [*cores[y], joiners[x]]
            placed.add(joiners[x])
    return cores, [j for j in joiners if j not in placed]


def _group(members: list[str], by_id: dict[str, Person], scorer: Scorer, rng: random.Random) -> Group:
    people = [by_id[m] for m in members]
    skills: set[str] = set()
    total = 0
    mentor = _mentor_of_group(members, by_id) if scorer.rules.mode is Mode.MENTORSHIP else None
    for x, a in enumerate(people):
        for b in people[x + 1 :]:
            skills |= shared_skills(a, b)
            if scorer.allowed(a, b):
                total += scorer.weight(a, b)
    # The one who learns starts (they know what they came for); elsewhere a seeded pick.
    starter = next((m for m in members if m != mentor), members[0]) if mentor else rng.choice(sorted(members))
    ordered = (starter, *sorted(m for m in members if m != starter))
    return Group(ordered, mentor, tuple(sorted(skills)), total)


def _mentor_of_group(members: list[str], by_id: dict[str, Person]) -> str | None:
    """The member who can teach every other member something they want to learn."""
    for candidate in members:
        mentor = by_id[candidate]
        if all(
            (found := mentor_of(mentor, by_id[other])) is not None and found[0] is mentor
            for other in members
            if other != candidate
        ):
            return candidate
    return None


def _why_alone(person: Person, candidates: set[str], rules: Rules) -> LeftOut:
    if candidates:
        return LeftOut.NO_ROOM
    if rules.mode is not Mode.MENTORSHIP:
        return LeftOut.NOBODY_ALLOWED
    if person.learns:
        return LeftOut.NO_TEACHER
    return LeftOut.NO_LEARNER if person.teaches else LeftOut.NOTHING_TO_LEARN
