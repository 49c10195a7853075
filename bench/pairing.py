"""The pairing matcher (bot/pairing/): speed on a large pool, weight against the exact optimum, and
how often a learner meets a teacher of what they want to learn compared with a random pairing.

  1. 5,000 people with 20 rounds of history (the last 6 forbidden, as the default window): the
     time of `plan_round` per mode (target < 2 s on the 2-core machine), median of --runs;
  2. 500 people, coffee mode: the matching's total weight against the exact maximum-weight matching
     of every allowed pair (networkx's blossom; slow, hence 500), and the same for the blossom on
     our own sparse candidate graph;
  3. mentorship on 5,000: the share of learners matched to someone who teaches a skill they want,
     against a random pairing of the same pool.

Run: .venv/bin/python bench/pairing.py [--people 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Iterable

import benchlib
import networkx as nx

from bot.pairing.groups import plan_round
from bot.pairing.matching import candidate_edges, pair_up
from bot.pairing.people import History, Level, Mode, Person, Rules, Scorer, allowed, pair_key, weight

SKILLS = [f"skill{i}" for i in range(80)]
TEAMS = [f"team{i}" for i in range(40)]
ZONES = [-480, -300, -180, 0, 60, 120, 330, 540, 600]


def make_pool(rng: random.Random, n: int) -> list[Person]:
    pool = []
    for i in range(n):
        pool.append(
            Person(
                f"U{i:06d}",
                level=rng.choice(list(Level)),
                team=rng.choice(TEAMS),
                teaches=frozenset(rng.sample(SKILLS, rng.choice([0, 0, 1, 2, 3]))),
                learns=frozenset(rng.sample(SKILLS, rng.choice([0, 1, 1, 2, 3]))),
                capacity=rng.choice([1, 1, 1, 2]),
                utc_offset_minutes=rng.choice(ZONES),
                avoids=frozenset(f"U{rng.randrange(n):06d}" for _ in range(rng.choice([0, 0, 0, 1]))),
            )
        )
    return pool


def make_history(rng: random.Random, pool: list[Person], rounds: int, window: int) -> History:
    ids = [p.user_id for p in pool]
    recent: set[tuple[str, str]] = set()
    ever: set[tuple[str, str]] = set()
    for number in range(rounds):
        rng.shuffle(ids)
        pairs = {pair_key(ids[i], ids[i + 1]) for i in range(0, len(ids) - 1, 2)}
        ever |= pairs
        if number >= rounds - window:
            recent |= pairs
    return History(recent=frozenset(recent), ever=frozenset(ever))


def speed(people: int, runs: int) -> None:
    rng = random.Random(1)
    pool = make_pool(rng, people)
    history = make_history(rng, pool, rounds=20, window=6)
    print(
        f"\n-- {people} people, 20 rounds of history ({len(history.recent)} pairs forbidden, {len(history.ever)} met)"
    )
    for mode in Mode:
        for size in (2, 3):
            times, cpu = [], []
            for run in range(runs):
                started, started_cpu = time.perf_counter(), time.process_time()
                plan = plan_round(pool, history, Rules(mode=mode), size=size, seed=run)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            matched = sum(len(g.members) for g in plan.groups)
            print(
                f"{mode.value:>10} size {size}: median {statistics.median(times):.2f} s, max {max(times):.2f} s"
                f" (CPU median {statistics.median(cpu):.2f} s)"
                f" | {len(plan.groups)} groups, {matched} people matched, {len(plan.left_out)} told why not"
                f" | target < 2 s: {'pass' if max(times) < 2 else 'MISS'}"
            )


def quality(people: int) -> None:
    rng = random.Random(2)
    pool = make_pool(rng, people)
    history = make_history(rng, pool, rounds=20, window=6)
    rules = Rules(mode=Mode.COFFEE)
    by_id = {p.user_id: p for p in pool}

    def total(pairs: Iterable[tuple[str, str]]) -> int:
        return sum(weight(by_id[a], by_id[b], history, rules) for a, b in pairs)

    print(f"\n-- quality on {people} people (coffee), against the exact maximum-weight matching")
    started = time.perf_counter()
    ours = pair_up(pool, Scorer(history, rules), random.Random(0))
    ours_s = time.perf_counter() - started
    full = nx.Graph()
    for i, a in enumerate(pool):
        for b in pool[i + 1 :]:
            if allowed(a, b, history, rules):
                full.add_edge(a.user_id, b.user_id, weight=weight(a, b, history, rules))
    started = time.perf_counter()
    exact = nx.max_weight_matching(full)
    exact_s = time.perf_counter() - started
    sparse = nx.Graph()
    for (i, j), w in candidate_edges(pool, Scorer(history, rules), random.Random(0)).items():
        sparse.add_edge(pool[i].user_id, pool[j].user_id, weight=w)
    started = time.perf_counter()
    blossom_sparse = nx.max_weight_matching(sparse)
    sparse_s = time.perf_counter() - started
    best = total(exact)
    print(f"exact, all {full.number_of_edges()} allowed pairs (networkx blossom): weight {best} in {exact_s:.1f} s")
    ratio = total(blossom_sparse) / best
    print(f"blossom on our {sparse.number_of_edges()} candidate edges: {ratio:.4f} in {sparse_s:.2f} s")
    print(f"ours (double-cover assignment + exact residual): {total(ours.pairs) / best:.4f} in {ours_s:.2f} s")


def learners_served(people: int) -> None:
    rng = random.Random(3)
    pool = make_pool(rng, people)
    history = make_history(rng, pool, rounds=20, window=6)
    by_id = {p.user_id: p for p in pool}
    learners = {p.user_id for p in pool if p.learns}
    plan = plan_round(pool, history, Rules(mode=Mode.MENTORSHIP), seed=0)
    served = {m for g in plan.groups for m in g.members if m in learners and m != g.mentor}
    shuffled = [p.user_id for p in pool]
    rng.shuffle(shuffled)
    random_served = set()
    for i in range(0, len(shuffled) - 1, 2):
        a, b = by_id[shuffled[i]], by_id[shuffled[i + 1]]
        for learner, other in ((a, b), (b, a)):
            if learner.user_id in learners and learner.learns & other.teaches:
                random_served.add(learner.user_id)
    print(f"\n-- mentorship on {people} people: {len(learners)} want to learn something")
    print(f"matched to a more experienced teacher of a wanted skill: {len(served) / len(learners):.1%}")
    print(f"a random pairing, partner teaches a wanted skill (any level): {len(random_served) / len(learners):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quality-people", type=int, default=500)
    args = parser.parse_args()
    benchlib.print_header("bench/pairing.py")
    speed(args.people, args.runs)
    learners_served(args.people)
    quality(args.quality_people)


if __name__ == "__main__":
    main()
