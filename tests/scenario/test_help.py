"""Help through signed requests: `/peerlearn help` shows every capability's commands; each command's
own `help` its usage; a mistake in any of them one usage line, never the whole help."""

from __future__ import annotations

import json

import pytest

from tests.slack_sender import SlackSender


def ask(sender: SlackSender, command: str, text: str) -> str:
    """What the person is told (in the ack, or through the response_url after it)."""
    before = len(sender.double.responses)
    answer = sender.command(text, user="U1", command=command)
    if answer.body:
        return json.dumps(answer.json())
    return json.dumps(sender.double.responses[before]) if len(sender.double.responses) > before else ""


def test_peerlearn_help_lists_every_capability_with_an_example_each(sender: SlackSender) -> None:
    said = ask(sender, "/peerlearn", "help")
    for example in (
        "/tip search docker cache", "/tip top month", "/tip delete 42",
        "/circle create Rust learners", "/circle checkin Rust learners now",
        "/mentor find postgres", "/mentor pause 2",
        "/peerlearn prompts #general mon 09:00 Europe/Berlin", "/peerlearn digest #general fri 16:00",
        "/peerlearn pairing #coffee mon 10:00 cross-team", "/peerlearn prompt add What did you automate",
        "/peerlearn schedules", "Peerlearn* \\u2192 *Home", "/peerlearn stats [week|month|quarter|all]",
    ):  # fmt: skip
        assert example in said, example
    assert not sender.double.block_errors


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        ("/tip", "/tip search docker cache"),
        ("/circle", "/circle pause Rust learners 2"),
        ("/mentor", "/mentor find postgres"),
    ],
)
def test_each_commands_own_help_shows_its_usage(sender: SlackSender, command: str, shows: str) -> None:
    said = ask(sender, command, "help")
    assert shows in said
    assert "/peerlearn prompts" not in said  # its own commands, not everyone's


@pytest.mark.parametrize(
    ("command", "text", "line", "not_there"),
    [
        ("/peerlearn", "promts #general mon 09:00", "Did you mean `prompts`?", "/circle"),
        ("/peerlearn", "frobnicate", "/peerlearn help", "/peerlearn digest #general"),
        ("/circle", "jion Rust learners", "/circle join Rust learners", "/circle archive"),
        ("/circle", "pause Rust learners 99", "/circle pause Rust learners 2", "/circle join"),
        ("/mentor", "fnid postgres", "/mentor find", "/mentor off"),
        ("/mentor", "pause 0", "/mentor pause [weeks]", "/mentor find"),
        ("/tip", "top yesterday", "/tip top month", "/tip delete"),
    ],
)
def test_a_mistake_gets_the_one_relevant_usage_line(
    sender: SlackSender, command: str, text: str, line: str, not_there: str
) -> None:
    said = ask(sender, command, text)
    assert line in said
    assert not_there not in said
