"""bot/schedules/commands.py: what `/peerlearn <text>` asks for, with every value bounded."""

from __future__ import annotations

from datetime import time

import pytest

from bot.schedules.commands import (
    ADD_USAGE,
    HELP_LINES,
    HELP_USAGE,
    NOW_USAGE,
    OFF_USAGE,
    REMOVE_USAGE,
    USAGE,
    AddPrompt,
    ChannelRef,
    InvalidCommand,
    ListPrompts,
    ListSchedules,
    PeerlearnCommand,
    PeerlearnHelp,
    PostNow,
    RemovePrompt,
    SetSchedule,
    TurnOff,
    parse_peerlearn_command,
)
from bot.schedules.kinds import PostKind
from bot.schedules.prompts import PromptRejected, prompt_text

GENERAL = ChannelRef("C1", "general")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", PeerlearnHelp()),
        ("help", PeerlearnHelp()),
        ("schedules", ListSchedules()),
        ("prompt list", ListPrompts()),
        ("prompt remove 3", RemovePrompt(3)),
        ("prompt remove #007", RemovePrompt(7)),
        ("prompt remove 2147483647", RemovePrompt(2147483647)),
        ("prompt add What did you &lt;b&gt;learn&lt;/b&gt; &amp; why?", AddPrompt("What did you <b>learn</b> & why?")),
        ("prompts <#C1|general> off", TurnOff(PostKind.PROMPT, GENERAL)),
        ("digest now", PostNow(PostKind.DIGEST, None)),
        ("prompt now #general", PostNow(PostKind.PROMPT, ChannelRef(None, "general"))),
        (
            "digest <#C1|general> biweekly fri 16:00 UTC channel-only",
            SetSchedule(PostKind.DIGEST, GENERAL, "biweekly", 4, time(16, 0), "UTC", True),
        ),
        (
            "prompts <#C1|general> mon 09:00 America/Argentina/Buenos_Aires",
            SetSchedule(PostKind.PROMPT, GENERAL, "weekly", 0, time(9, 0), "America/Argentina/Buenos_Aires", False),
        ),
    ],
)
def test_commands_parse_into_their_types(text: str, command: PeerlearnCommand) -> None:
    assert parse_peerlearn_command(text) == command


@pytest.mark.parametrize(
    ("text", "problem", "usage"),
    [
        ("prompt remove 99999999999999999999999", "There is no prompt `99999999999999999999999`.", REMOVE_USAGE),
        ("prompt remove 2147483648", "There is no prompt `2147483648`.", REMOVE_USAGE),
        ("prompt remove 0", "There is no prompt `0`.", REMOVE_USAGE),
        ("prompt remove " + "9" * 5000, "There is no prompt `99999", REMOVE_USAGE),
        ("prompt remove abc", "`abc` is not a prompt number.", REMOVE_USAGE),
        ("prompt remove -1", "`-1` is not a prompt number.", REMOVE_USAGE),
        ("prompt remove 1e3", "`1e3` is not a prompt number.", REMOVE_USAGE),
        ("prompt remove \u0663", "is not a prompt number.", REMOVE_USAGE),  # an Arabic-Indic three
        ("prompt remove", "Which prompt? Give its number.", REMOVE_USAGE),
        ("prompts <#C1|general> mon 99:99", "`99:99` is not a time of day", USAGE[PostKind.PROMPT]),
        ("prompts <#C1|general> mon 24:00", "`24:00` is not a time of day", USAGE[PostKind.PROMPT]),
        ("prompts <#C1|general> mon -1:00", "`-1:00` is not a time of day", USAGE[PostKind.PROMPT]),
        ("prompts <#C1|general> mon 9999999999:00", "is not a time of day", USAGE[PostKind.PROMPT]),
        ("prompts <#C1|general> mon 1e309", "`1e309` is not a time of day", USAGE[PostKind.PROMPT]),
        ("prompts <#C1|general> mon 09:00:00", "`09:00:00` is not a time of day", USAGE[PostKind.PROMPT]),
        ("digest <#C1|general> mon 09:00 Mars/Olympus", "`Mars/Olympus` is not a time zone", USAGE[PostKind.DIGEST]),
        ("digest <#C1|general> mon 09:00 ../../etc/passwd", "is not a time zone", USAGE[PostKind.DIGEST]),
        ("digest <#C1|general> mon 09:00 europe/berlin", "is not a time zone", USAGE[PostKind.DIGEST]),
        ("digest <#C1|general> mon " + "9" * 5000, "is far too long", USAGE[PostKind.DIGEST]),
        ("digest <#C1|general> mon", "Say at what time", USAGE[PostKind.DIGEST]),
        ("digest general mon 09:00", "`general` is not a channel", USAGE[PostKind.DIGEST]),
        ("prompts", "Tell me the channel and when.", USAGE[PostKind.PROMPT]),
        ("prompts <#C1|general> off please", "`off` takes nothing after it", OFF_USAGE),
        ("digest now general", "`general` is not a channel.", NOW_USAGE),
        ("digest now <#C1|general> <#C2|random>", "is not a channel.", NOW_USAGE),
    ],
)
def test_bad_values_get_the_problem_and_one_usage_line(text: str, problem: str, usage: str) -> None:
    command = parse_peerlearn_command(text)

    assert isinstance(command, InvalidCommand)
    assert problem in command.problem
    assert command.usage == usage
    assert len(command.problem) < 300  # what was typed is shown back cut short


def test_what_was_typed_is_shown_as_typed_never_as_markup() -> None:
    command = parse_peerlearn_command("prompt remove &lt;!channel&gt;")

    assert command == InvalidCommand("`&lt;!channel&gt;` is not a prompt number.", REMOVE_USAGE)


def test_an_unknown_subcommand_gets_one_usage_line_not_the_whole_help() -> None:
    assert parse_peerlearn_command("frobnicate") == InvalidCommand("I don't know `frobnicate`.", HELP_USAGE)
    assert parse_peerlearn_command("promts #general mon 09:00") == InvalidCommand(
        "I don't know `promts`. Did you mean `prompts`?", HELP_LINES["prompts"]
    )
    assert parse_peerlearn_command("schedule") == InvalidCommand(
        "I don't know `schedule`. Did you mean `schedules`?", HELP_LINES["schedules"]
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Give the prompt's text"),
        ("What did you learn\x00?", "control character (U+0000)"),
        ("Bell \x07 rings", "control character (U+0007)"),
        ("Escape \x1b[31m red", "control character (U+001B)"),
        ("C1 \x85 next line", "control character (U+0085)"),
        ("Lone \ud800 surrogate", "control character (U+D800)"),
        ("x" * 501, "That prompt is 501 characters; the limit is 500."),
    ],
)
def test_a_prompt_with_control_characters_or_too_long_is_refused(text: str, problem: str) -> None:
    with pytest.raises(PromptRejected) as refused:
        prompt_text(text)

    assert problem in str(refused.value)
    assert refused.value.usage == ADD_USAGE


def test_a_prompt_keeps_its_lines_and_loses_its_tabs() -> None:
    assert prompt_text("  What did you\tlearn?\nAnd why?  ") == "What did you learn?\nAnd why?"
    assert prompt_text("x" * 500) == "x" * 500
