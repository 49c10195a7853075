"""The pairing program's own figures, per channel: whether people meet, answer, and meet new people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.models import PairingGroup, PairingRound

ANSWERED = ("met", "not_yet", "skipped")


@dataclass(frozen=True)
class PairingStats:
    rounds: int
    groups: int
    met: int
    answered: int
    unique_pairs: int
    repeats_in_window: int  # pairs put together again while a meeting within the window forbade it: must be 0
    cross_team: int
    learners: int
    learners_taught: int

    @property
    def met_rate(self) -> float | None:
        return self.met / self.groups if self.groups else None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.groups if self.groups else None

    @property
    def cross_team_share(self) -> float | None:
        return self.cross_team / self.groups if self.groups else None

    @property
    def taught_share(self) -> float | None:
        return self.learners_taught / self.learners if self.learners else None


def pairs_of(group: PairingGroup) -> list[tuple[str, str]]:
    people = sorted(group.members.split())
    return [(a, b) for i, a in enumerate(people) for b in people[i + 1 :]]


def pairing_stats(rounds: Sequence[PairingRound], groups: Sequence[PairingGroup], window: int) -> PairingStats:
    """Figures over `rounds` (one channel's, oldest first) and their `groups`."""
    by_round: dict[int, list[PairingGroup]] = {r.id: [] for r in rounds}
    for group in groups:
        by_round.setdefault(group.round_id, []).append(group)
    unique: set[tuple[str, str]] = set()
    met_in: list[set[tuple[str, str]]] = []  # per round, oldest first
    repeats = 0
    for round_ in rounds:
        forbidden = set().union(*met_in[-window:]) if window > 0 and met_in else set()
        met_now: set[tuple[str, str]] = set()
        for group in by_round[round_.id]:
            for pair in pairs_of(group):
                unique.add(pair)
                repeats += pair in forbidden
                if group.outcome == "met":
                    met_now.add(pair)
        met_in.append(met_now)
    all_groups = [g for r in rounds for g in by_round[r.id]]
    mentorship = [r for r in rounds if r.mode == "mentorship"]
    return PairingStats(
        rounds=len(rounds),
        groups=len(all_groups),
        met=sum(g.outcome == "met" for g in all_groups),
        answered=sum(g.outcome in ANSWERED for g in all_groups),
        unique_pairs=len(unique),
        repeats_in_window=repeats,
        cross_team=sum(g.cross_team for g in all_groups),
        learners=sum(r.learners for r in mentorship),
        learners_taught=sum(r.learners_taught for r in mentorship),
    )
