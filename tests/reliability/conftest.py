"""The reliability suite: crashes, Slack's faults, the authorisation matrix and fuzzing, counted.

Each test here is a scenario; at the end of the run one line says what the suite tried and found
(tests/reliability/figures.py), e.g. `reliability: 40 scenarios, 5,230 inputs, effects lost 0,
duplicated 0, 5xx 0`. The README's "Reliability" section quotes it.
"""

from __future__ import annotations

import pytest

from tests.reliability.figures import FIGURES


@pytest.fixture(autouse=True)
def _scenario() -> None:
    FIGURES.scenarios += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES.scenarios:
        terminalreporter.write_line(FIGURES.line())
