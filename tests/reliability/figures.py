"""What the reliability suite tried and what it found, for the one summary line at the end of the run
(tests/reliability/conftest.py) and the README's figures.

Tests record as they go: each test is a scenario (counted by an autouse fixture), `tried(n)` counts
inputs (requests sent, parser inputs, matrix rows), `effects(...)` compares the effects asked for with
the effects found and counts those lost and those duplicated, `answered(status)` counts 5xx answers.
The assertions stay in the tests; these are the record of what they checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import pytest


@dataclass
class Figures:
    scenarios: int = 0
    inputs: int = 0
    lost: int = 0
    duplicated: int = 0
    server_errors: int = 0
    known: list[str] = field(default_factory=list)  # defects marked xfail, each with its count

    def line(self) -> str:
        line = (
            f"reliability: {self.scenarios:,} scenarios, {self.inputs:,} inputs, "
            f"effects lost {self.lost}, duplicated {self.duplicated}, 5xx {self.server_errors}"
        )
        return line + (f"; known defects (xfail): {'; '.join(self.known)}" if self.known else "")


FIGURES = Figures()


def tried(count: int = 1) -> None:
    FIGURES.inputs += count


def answered(status: int) -> int:
    """Count one answer of the app over HTTP; returns the status, for the test to assert on."""
    FIGURES.inputs += 1
    if status >= 500:
        FIGURES.server_errors += 1
    return status


def effects(what: str, expected: Iterable[Hashable], found: Iterable[Hashable], *, known: str | None = None) -> None:
    """Every expected effect found exactly once, and nothing else: counted, then asserted.

    `known` names a defect not fixed yet: if it shows, it is counted apart and the test is marked
    xfail with that reason (and passes, counted as usual, once the defect is fixed).
    """
    wanted, seen = set(expected), Counter(found)
    lost = wanted - set(seen)
    duplicated = sum(n - 1 for n in seen.values() if n > 1)
    unexpected = set(seen) - wanted
    if known is not None and (lost or duplicated or unexpected):
        FIGURES.known.append(f"{what}: {len(lost)} lost, {duplicated + len(unexpected)} duplicated")
        pytest.xfail(known)
    FIGURES.lost += len(lost)
    FIGURES.duplicated += duplicated + len(unexpected)
    assert not lost, f"{what}: {len(lost)} of {len(wanted)} lost: {sorted(map(str, lost))[:5]}"
    assert not duplicated, f"{what}: {duplicated} duplicated: {[k for k, n in seen.items() if n > 1][:5]}"
    assert not unexpected, f"{what}: {len(unexpected)} nobody asked for: {sorted(map(str, unexpected))[:5]}"
