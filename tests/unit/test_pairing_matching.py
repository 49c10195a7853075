"""The matcher: hard rules never broken, soft preferences weighed, everyone accounted for."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import networkx as nx
import pytest

from bot.pairing.groups import LeftOut, Plan, plan_round
from bot.pairing.matching import pair_up
from bot.pairing.people import History, Level, Mode, Person, Rules, Scorer, allowed, mentor_of, pair_key, weight

SKILLS = ["sql", "rust", "go", "k8s", "design", "sales", "python", "css"]


def person(uid: str, **fields: Any) -> Person:
    for name in ("teaches", "learns", "avoids"):
        if name in fields:
            fields[name] = frozenset(fields[name])
    return Person(uid, **fields)


def members(plan: Plan) -> list[set[str]]:
    return [set(g.members) for g in plan.groups]


def random_pool(rng: random.Random, n: int) -> list[Person]:
    ids = [f"U{i:03d}" for i in range(n)]
    pool = []
    for uid in ids:
        pool.append(
            Person(
                uid,
                level=rng.choice([*Level, None]),
                team=rng.choice(["eng", "ops", "sales", None]),
                teaches=frozenset(rng.sample(SKILLS, rng.randint(0, 2))),
                learns=frozenset(rng.sample(SKILLS, rng.randint(0, 2))),
                capacity=rng.randint(1, 3),
                utc_offset_minutes=rng.choice([None, -300, 0, 60, 540]),
                avoids=frozenset(rng.sample(ids, min(len(ids), rng.randint(0, 2)))),
            )
        )
    return pool


def test_mentorship_pairs_a_learner_with_a_more_experienced_teacher_of_the_skill() -> None:
    pool = [
        person("L", level=Level.JUNIOR, learns={"sql"}),
        person("M", level=Level.MID, teaches={"rust"}),  # teaches, but not what L wants
        person("T", level=Level.SENIOR, teaches={"sql"}),
        person("P", level=Level.JUNIOR, teaches={"sql"}),  # teaches sql, but not more experienced
        person("N", level=Level.MID),  # neither learns nor teaches
        person("Q", level=Level.LEAD, learns={"go"}),  # nobody teaches go
    ]
    plan = plan_round(pool, History(), Rules(mode=Mode.MENTORSHIP))
    assert members(plan) == [{"L", "T"}]
    (group,) = plan.groups
    assert group.mentor == "T"
    assert group.members[0] == "L"  # the learner starts the conversation
    assert group.skills == ("sql",)
    assert dict(plan.left_out) == {
        "M": LeftOut.NO_LEARNER,
        "P": LeftOut.NO_LEARNER,
        "N": LeftOut.NOTHING_TO_LEARN,
        "Q": LeftOut.NO_TEACHER,
    }


def test_a_mentor_takes_as_many_mentees_as_their_capacity() -> None:
    learners = [person(f"L{i}", level=Level.NEW, learns={"go"}) for i in range(4)]
    mentor = person("T", level=Level.LEAD, teaches={"go"}, capacity=2)
    plan = plan_round([*learners, mentor], History(), Rules(mode=Mode.MENTORSHIP))
    assert Counter(m for g in plan.groups for m in g.members)["T"] == 2
    assert all(g.mentor == "T" for g in plan.groups)
    assert len(plan.left_out) == 2


def test_nobody_is_paired_with_someone_they_blocked_either_way() -> None:
    pool = [person("A", avoids={"B"}), person("B"), person("C"), person("D", avoids={"C"})]
    plan = plan_round(pool, History(), Rules())
    assert len(plan.groups) == 2
    assert {"A", "B"} not in members(plan)
    assert {"C", "D"} not in members(plan)


def test_no_pair_meets_again_within_the_window_across_rounds() -> None:
    pool = [person(f"U{i}") for i in range(8)]
    met: list[tuple[str, str]] = []
    for round_number in range(7):  # 7 rounds of 8 people: each meets all 7 others once
        plan = plan_round(pool, History(recent=frozenset(met), ever=frozenset(met)), Rules(), seed=round_number)
        pairs = [pair_key(*g.members) for g in plan.groups]
        assert len(pairs) == 4, f"round {round_number}: {plan}"
        assert not set(pairs) & set(met)
        met += pairs
    assert len(set(met)) == 28


def test_an_odd_person_joins_the_group_where_they_fit_best() -> None:
    pool = [
        person("A", team="eng"),
        person("B", team="eng"),
        person("C", team="ops", learns={"sql"}),
        person("D", team="ops", teaches={"sql"}),
        person("E", team="sales", learns={"sql"}),
    ]
    plan = plan_round(pool, History(), Rules())
    assert not plan.left_out
    assert sorted(len(g.members) for g in plan.groups) == [2, 3]
    trio = next(g for g in plan.groups if len(g.members) == 3)
    assert "D" in trio.members  # a teacher of sql is worth joining for the learners of sql


def test_groups_of_three() -> None:
    plan = plan_round([person(f"U{i}") for i in range(9)], History(), Rules(), size=3)
    assert sorted(len(g.members) for g in plan.groups) == [3, 3, 3]
    assert not plan.left_out


def test_time_zones_with_working_hours_in_common_are_preferred() -> None:
    pool = [
        person("A", utc_offset_minutes=0),
        person("B", utc_offset_minutes=60),
        person("C", utc_offset_minutes=540),
        person("D", utc_offset_minutes=600),
    ]
    assert sorted(map(sorted, members(plan_round(pool, History(), Rules())))) == [["A", "B"], ["C", "D"]]


def test_cross_team_mode_weighs_other_teams_heavily() -> None:
    pool = [person("A", team="eng"), person("B", team="eng"), person("C", team="ops"), person("D", team="ops")]
    for seed in range(5):
        plan = plan_round(pool, History(), Rules(mode=Mode.CROSS_TEAM), seed=seed)
        assert all(len({p[0] for p in g.members}) == 2 for g in plan.groups)
        assert all({"A", "B"} != set(g.members) and {"C", "D"} != set(g.members) for g in plan.groups)


def test_same_seed_same_plan() -> None:
    pool = random_pool(random.Random(3), 60)
    assert plan_round(pool, History(), Rules(), seed=7) == plan_round(list(reversed(pool)), History(), Rules(), seed=7)


def test_someone_everyone_avoids_is_told_why() -> None:
    pool = [person("A"), person("B", avoids={"A"}), person("C", avoids={"A"})]
    plan = plan_round(pool, History(), Rules())
    assert dict(plan.left_out) == {"A": LeftOut.NOBODY_ALLOWED}


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("size", [2, 3])
def test_random_pools_never_break_a_hard_rule(mode: Mode, size: int) -> None:
    rng = random.Random(f"{mode}{size}")
    for _ in range(40):
        pool = random_pool(rng, rng.randint(0, 40))
        by_id = {p.user_id: p for p in pool}
        ids = list(by_id)
        recent = frozenset(pair_key(*rng.sample(ids, 2)) for _ in range(len(ids))) if len(ids) > 1 else frozenset()
        history = History(recent=recent, ever=recent)
        rules = Rules(mode=mode)
        plan = plan_round(pool, history, rules, size=size, seed=rng.randrange(1000))
        seen = Counter(m for g in plan.groups for m in g.members)
        for group in plan.groups:
            assert 2 <= len(group.members) <= size + 1
            assert len(set(group.members)) == len(group.members)
            for i, a in enumerate(group.members):
                for b in group.members[i + 1 :]:
                    assert pair_key(a, b) not in recent
                    assert b not in by_id[a].avoids and a not in by_id[b].avoids
            if mode is Mode.MENTORSHIP:
                assert group.mentor is not None
                mentor = by_id[group.mentor]
                for learner in group.members:
                    if learner != group.mentor:
                        found = mentor_of(mentor, by_id[learner])
                        assert found is not None and found[0] is mentor, (group, mentor, by_id[learner])
        for uid, count in seen.items():  # nobody twice, but a mentor within capacity
            if count > 1:
                assert mode is Mode.MENTORSHIP
                assert count <= by_id[uid].capacity
                assert all(g.mentor == uid for g in plan.groups if uid in g.members)
        accounted = set(seen) | {uid for uid, _ in plan.left_out}
        assert accounted == set(ids)
        assert not set(seen) & {uid for uid, _ in plan.left_out}


def test_close_to_the_exact_optimum() -> None:
    rng = random.Random(11)
    pool = random_pool(rng, 80)
    rules = Rules()
    history = History()
    exact = nx.Graph()
    for i, a in enumerate(pool):
        for b in pool[i + 1 :]:
            if allowed(a, b, history, rules):
                exact.add_edge(a.user_id, b.user_id, weight=weight(a, b, history, rules))
    by_id = {p.user_id: p for p in pool}
    best = sum(weight(by_id[a], by_id[b], history, rules) for a, b in nx.max_weight_matching(exact))
    ours = sum(
        weight(by_id[a], by_id[b], history, rules)
        for a, b in pair_up(pool, Scorer(history, rules), random.Random(1)).pairs
    )
    assert ours >= 0.97 * best, (ours, best)
