"""Who meets whom: a maximum-weight matching over the whole pool, never a greedy first-come pass.

1. Candidates: each person's best `CANDIDATES` allowed partners, scored among those most likely to
   matter (people who teach what they want to learn and the reverse, other teams, a seeded sample
   of everyone), so the graph stays sparse: ~12 edges a person instead of n.
2. Matching: the assignment relaxation on the graph's bipartite double cover (everyone on both
   sides; staying alone costs most), solved exactly by scipy's sparse LAPJV. Its optimum is a set
   of cycles; 2-cycles are pairs, longer ones are split into their best alternate edges (a
   maximum-weight matching of the cycle). On 5,000 people this takes ~0.1 s where the blossom
   algorithm (networkx, rustworkx) takes 2 to 30 s, and reaches 99.9 % of its weight (bench/pairing.py).
3. The few left alone are matched exactly among themselves (networkx's blossom on a tiny graph),
   then an odd one out joins the pair where they fit best; whoever the rules still leave alone is
   reported with the reason, never silently skipped.

Mentors of capacity c stand in the pool c times (one seat per mentee). Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from bot.pairing.people import Mode, Person, Rules, Scorer, mentor_of

CANDIDATES = 12  # edges kept per person
SAMPLE = 8  # random others scored per person, beside those their skills suggest
PER_SKILL = 4  # people scored per skill a person teaches or wants to learn
MAX_CAPACITY = 5
RESIDUAL = 300  # at most this many of those left alone are matched exactly among themselves
COMMON_RULES = Rules(mode=Mode.COFFEE)  # the hard rules of every mode, without mentorship's


@dataclass(frozen=True)
class Paired:
    pairs: list[tuple[str, str]]
    alone: list[str]
    neighbours: dict[str, set[str]]  # each person's candidates (whom the rules allow and are worth an edge)


def pair_up(people: list[Person], scorer: Scorer, rng: random.Random) -> Paired:
    """The matching itself: pairs over the whole pool, and who is left alone."""
    seats = _seats(people, scorer.rules)
    edges = candidate_edges(seats, scorer, rng)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        neighbours[seats[a].user_id].add(seats[b].user_id)
        neighbours[seats[b].user_id].add(seats[a].user_id)
    pairs = _single_role(_distinct(_match(len(seats), edges), seats), seats, len(people))
    in_pair = {i for pair in pairs for i in pair}
    alone = _rematch_alone([i for i in range(len(seats)) if i not in in_pair], seats, scorer, pairs)
    matched = [(seats[a].user_id, seats[b].user_id) for a, b in pairs]
    in_group = {m for pair in matched for m in pair}
    return Paired(matched, sorted({seats[i].user_id for i in alone} - in_group), neighbours)


def _seats(people: list[Person], rules: Rules) -> list[Person]:
    """Each person once; in mentorship mode a mentor once more per extra mentee they can take."""
    seats = list(people)
    if rules.mode is Mode.MENTORSHIP:
        for p in people:
            if p.teaches and p.open_to_mentoring:
                seats += [p] * (min(max(p.capacity, 1), MAX_CAPACITY) - 1)
    return seats


def candidate_edges(seats: list[Person], scorer: Scorer, rng: random.Random) -> dict[tuple[int, int], int]:
    """Each seat's best CANDIDATES allowed partners among those skills suggest and a seeded sample."""
    teachers: dict[str, list[int]] = defaultdict(list)
    learners: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(seats):
        for skill in p.teaches:
            teachers[skill].append(i)
        for skill in p.learns:
            learners[skill].append(i)
    scores: dict[tuple[int, int], int | None] = {}
    edges: dict[tuple[int, int], int] = {}
    n = len(seats)
    random_sample = 0 if scorer.rules.mode is Mode.MENTORSHIP else SAMPLE  # mentorship needs a skill in common
    for i, p in enumerate(seats):
        near: set[int] = set()
        for skill in sorted(p.learns):  # sorted: set order differs between runs, the seed's draws must not
            near.update(_sample(teachers[skill], PER_SKILL, rng))
        for skill in sorted(p.teaches):
            near.update(_sample(learners[skill], PER_SKILL, rng))
        near.update(rng.randrange(n) for _ in range(min(random_sample, n)))
        near.discard(i)
        scored = []
        for j in near:
            key = (i, j) if i < j else (j, i)
            if key not in scores:
                scores[key] = scorer(p, seats[j])
            if (points := scores[key]) is not None:
                scored.append((points, j))
        scored.sort(key=lambda t: (-t[0], t[1]))
        for points, j in scored[:CANDIDATES]:
            edges[(min(i, j), max(i, j))] = points
    return edges


def _sample(items: list[int], k: int, rng: random.Random) -> list[int]:
    return items if len(items) <= k else rng.sample(items, k)


def _match(n: int, edges: dict[tuple[int, int], int]) -> list[tuple[int, int]]:
    """Pairs of seat indexes from the double-cover assignment."""
    if n == 0:
        return []
    top = max(edges.values(), default=0) + 1
    rows = np.arange(n)
    cols = np.arange(n)
    costs = np.full(n, float(top))  # staying alone costs the most
    if edges:
        pairs = np.array(list(edges), dtype=np.int64)
        values = float(top) - np.array(list(edges.values()), dtype=np.float64)
        rows = np.concatenate([rows, pairs[:, 0], pairs[:, 1]])
        cols = np.concatenate([cols, pairs[:, 1], pairs[:, 0]])
        costs = np.concatenate([costs, values, values])
    matrix = csr_matrix((costs, (rows, cols)), shape=(n, n))
    row_ind, col_ind = min_weight_full_bipartite_matching(matrix)
    successor = dict(zip(row_ind.tolist(), col_ind.tolist(), strict=True))
    matched: list[tuple[int, int]] = []
    seen: set[int] = set()
    for start in range(n):
        cycle = []
        node = start
        while node not in seen:
            seen.add(node)
            cycle.append(node)
            node = successor[node]
        if len(cycle) >= 2:
            matched += _best_in_cycle(cycle, edges)
    return matched


def _single_role(pairs: list[tuple[int, int]], seats: list[Person], primary: int) -> list[tuple[int, int]]:
    """A mentor's extra seats (index >= primary) serve only as the mentor, and only if their first
    seat is not taken as someone's mentee: nobody is in two groups but a mentor within capacity."""
    if len(seats) == primary:
        return pairs  # nobody has extra seats (not a mentorship round)
    learner_of: set[str] = set()
    for a, b in pairs:
        for one, other in ((a, b), (b, a)):
            found = mentor_of(seats[one], seats[other])
            if one < primary and (found is None or found[0] is not seats[one]):
                learner_of.add(seats[one].user_id)
    kept = []
    for a, b in pairs:
        extra = [i for i in (a, b) if i >= primary]
        if any(seats[i].user_id in learner_of for i in extra):
            continue
        if any(
            (found := mentor_of(seats[i], seats[b if i == a else a])) is None or found[0] is not seats[i] for i in extra
        ):
            continue
        kept.append((a, b))
    return kept


def _distinct(pairs: list[tuple[int, int]], seats: list[Person]) -> list[tuple[int, int]]:
    """Drop a second pair of the same two people (possible when both have spare mentor seats)."""
    seen: set[frozenset[str]] = set()
    kept = []
    for a, b in pairs:
        key = frozenset((seats[a].user_id, seats[b].user_id))
        if key not in seen:
            seen.add(key)
            kept.append((a, b))
    return kept


def _best_in_cycle(cycle: list[int], edges: dict[tuple[int, int], int]) -> list[tuple[int, int]]:
    """A maximum-weight matching of a cycle: the better of the two paths left by dropping one of two
    neighbouring edges (any matching of a cycle misses one of them)."""

    def w(a: int, b: int) -> int:
        return edges.get((min(a, b), max(a, b)), 0)

    if len(cycle) == 2:
        return [(cycle[0], cycle[1])] if w(*cycle) else []
    best: list[tuple[int, int]] = []
    for shift in (0, 1):
        path = cycle[shift:] + cycle[:shift]
        chosen = _path_matching(path, w)
        if sum(w(a, b) for a, b in chosen) > sum(w(a, b) for a, b in best):
            best = chosen
    return best


def _path_matching(path: list[int], weigh: Callable[[int, int], int]) -> list[tuple[int, int]]:
    take: list[int] = [0] * (len(path) + 1)  # best weight of path[:k]
    for k in range(2, len(path) + 1):
        take[k] = max(take[k - 1], take[k - 2] + weigh(path[k - 2], path[k - 1]))
    chosen: list[tuple[int, int]] = []
    k = len(path)
    while k >= 2:
        if take[k] == take[k - 1]:
            k -= 1
        else:
            chosen.append((path[k - 2], path[k - 1]))
            k -= 2
    return [(a, b) for a, b in chosen if weigh(a, b) > 0]


def _rematch_alone(alone: list[int], seats: list[Person], scorer: Scorer, pairs: list[tuple[int, int]]) -> list[int]:
    """Match those left alone among themselves, exactly (they are few), adding to `pairs`."""
    paired = {seats[j].user_id for pair in pairs for j in pair}
    people_alone = [i for i in alone if seats[i].user_id not in paired]
    people_alone = list({seats[i].user_id: i for i in people_alone}.values())[:RESIDUAL]
    graph = nx.Graph()
    for x, i in enumerate(people_alone):
        for j in people_alone[x + 1 :]:
            if scorer.allowed(seats[i], seats[j]):
                graph.add_edge(i, j, weight=scorer.weight(seats[i], seats[j]))
    extra = [(min(a, b), max(a, b)) for a, b in nx.max_weight_matching(graph)]
    pairs += sorted(extra)
    taken = {i for pair in extra for i in pair}
    return [i for i in people_alone if i not in taken]
