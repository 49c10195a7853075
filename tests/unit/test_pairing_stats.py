from __future__ import annotations

from datetime import UTC, datetime

from bot.pairing.stats import pairing_stats
from storage.models import PairingGroup, PairingRound

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def round_(round_id: int, mode: str = "coffee", learners: int = 0, taught: int = 0) -> PairingRound:
    return PairingRound(
        id=round_id, mode=mode, learners=learners, learners_taught=taught, follow_up_at=NOW, closes_at=NOW
    )


def group(round_id: int, members: str, outcome: str, cross_team: bool = False) -> PairingGroup:
    return PairingGroup(round_id=round_id, members=members, outcome=outcome, cross_team=cross_team)


def test_figures_of_a_channel() -> None:
    rounds = [round_(1), round_(2), round_(3, mode="mentorship", learners=4, taught=3)]
    groups = [
        group(1, "A B", "met", cross_team=True),
        group(1, "C D E", "unknown"),
        group(2, "A C", "skipped"),
        group(2, "B D", "not_yet", cross_team=True),
        group(3, "A B", "met"),  # met in round 1, within a window of 6: a repeat the rules forbid
        group(3, "C D", "pending"),  # C and D did not meet in round 1 (unknown): no repeat
    ]
    stats = pairing_stats(rounds, groups, window=6)
    assert (stats.rounds, stats.groups, stats.met, stats.answered) == (3, 6, 2, 4)
    assert stats.unique_pairs == 6  # AB, CD, CE, DE, AC, BD; round 3 brings no new one
    assert stats.repeats_in_window == 1
    assert stats.met_rate == 2 / 6
    assert stats.cross_team_share == 2 / 6
    assert stats.taught_share == 3 / 4
    assert pairing_stats(rounds, groups, window=1).repeats_in_window == 0  # round 1 is outside a 1-round window


def test_no_rounds_no_rates() -> None:
    stats = pairing_stats([], [], window=6)
    assert stats.met_rate is None and stats.response_rate is None and stats.taught_share is None
