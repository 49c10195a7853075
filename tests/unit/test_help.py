"""Help that people can use: `/peerlearn help` lists every command of every capability with an
example; each command's own help shows its usage; a mistake gets the one line that fixes it."""

from __future__ import annotations

import json
import re

import pytest

from bot.circles.commands import USAGE as CIRCLE_USAGE
from bot.circles.commands import ShowHelp as CircleHelp
from bot.circles.commands import parse_circle_command
from bot.circles.messages import circle_help
from bot.help import everything, groups
from bot.pairing.blocks import help_blocks as mentor_help
from bot.pairing.commands import USAGE as MENTOR_USAGE
from bot.pairing.commands import ShowHelp as MentorHelp
from bot.pairing.commands import parse_mentor_command
from bot.people.commands import USAGES
from bot.schedules.commands import HELP_LINES
from bot.tips.commands import USAGE as TIP_USAGE
from sandbox.block_kit import block_kit_problems


def test_peerlearn_help_lists_every_command_of_every_capability_grouped() -> None:
    blocks = everything()
    text = json.dumps(blocks)
    for line in [*TIP_USAGE.values(), *CIRCLE_USAGE.values(), *MENTOR_USAGE.values(), *HELP_LINES.values(), *USAGES]:
        assert json.dumps(line)[1:-1] in text
    titles = [group.title for group in groups()]
    assert [re.search(r"`/\w+`|Home", title).group(0) for title in titles] == [  # type: ignore[union-attr]
        "`/tip`", "`/circle`", "`/mentor`", "`/peerlearn`", "`/ask`", "`/peerlearn`", "Home",
    ]  # fmt: skip
    assert block_kit_problems(blocks, 50) == []


def test_every_command_line_leads_with_an_example() -> None:
    commands = [line for group in groups() for line in group.lines if line.startswith("`/")]
    assert len(commands) >= 30
    for line in commands:  # each line starts with the command itself, as typed
        example = line.split("`")[1]
        assert re.fullmatch(r"/(tip|circle|mentor|peerlearn|ask)( \S.*)?", example), line


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("frobnicate", CIRCLE_USAGE["help"]),
        ("jion Rust", CIRCLE_USAGE["join"]),  # a near miss gets the line of what was meant
        ("pause Rust 99", CIRCLE_USAGE["pause"]),
        ("checkin Rust", CIRCLE_USAGE["checkin"]),
        ("archive", CIRCLE_USAGE["archive"]),
    ],
)
def test_a_circle_mistake_gets_its_one_usage_line(text: str, usage: str) -> None:
    parsed = parse_circle_command(text)
    assert isinstance(parsed, CircleHelp) and parsed.usage == usage
    blocks = circle_help(parsed.problem, parsed.usage)
    assert len(blocks) == 2  # the problem, and the one line
    assert "/circle list" not in json.dumps(blocks)


def test_a_mentor_near_miss_gets_the_line_of_what_was_meant() -> None:
    assert parse_mentor_command("fnid postgres") == MentorHelp(
        "I don't know `fnid`. Did you mean `find`?", MENTOR_USAGE["find"]
    )
    assert parse_mentor_command("<b>") == MentorHelp("I don't know `&lt;b&gt;`.", MENTOR_USAGE["help"])
    blocks = mentor_help("I don't know `fnid`.", MENTOR_USAGE["find"])
    assert len(blocks) == 2 and "/mentor off" not in json.dumps(blocks)


def test_each_commands_own_help_shows_its_usage() -> None:
    assert parse_circle_command("help") == CircleHelp()
    assert all(line in json.dumps(circle_help()) for line in (json.dumps(v)[1:-1] for v in CIRCLE_USAGE.values()))
    assert all(json.dumps(v)[1:-1] in json.dumps(mentor_help()) for v in MENTOR_USAGE.values())
