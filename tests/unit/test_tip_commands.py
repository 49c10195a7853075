"""bot/tip_commands.py: what `/tip <text>` asks for."""

from __future__ import annotations

import pytest

from bot.tips.commands import (
    DeleteTip,
    MyTips,
    OpenComposer,
    SearchTips,
    ShareTip,
    ShowHelp,
    Suggest,
    TipCommand,
    TooShort,
    TopTips,
    parse_tip_command,
    share_anyway_text,
)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_opens_the_composer(text: str) -> None:
    assert parse_tip_command(text) == OpenComposer()


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("help", ShowHelp()),
        ("HELP", ShowHelp()),
        ("  Help  ", ShowHelp()),
        ("help search", ShowHelp()),
        ("search docker cache", SearchTips("docker cache")),
        ("SEARCH  Docker Cache ", SearchTips("Docker Cache")),
        ("top", TopTips("week")),
        ("top week", TopTips("week")),
        ("top month", TopTips("month")),
        ("Top ALL", TopTips("all")),
        ("mine", MyTips()),
        ("MINE", MyTips()),
        ("delete 42", DeleteTip(42)),
        ("delete #42", DeleteTip(42)),
        ("Delete   7", DeleteTip(7)),
        ("DELETE #007", DeleteTip(7)),
    ],
)
def test_keywords_are_commands_whatever_their_case(text: str, command: TipCommand) -> None:
    assert parse_tip_command(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "searching is hard without an index",
        "topology matters for latency",
        "mineral oil keeps cutting boards from cracking",
        "deleted branches can be restored with git reflog",
        "helpful: read the error message twice",
        "Use git bisect to find the commit that broke a test #git",
        "search-engines index robots.txt",
    ],
)
def test_a_tip_that_starts_with_a_keyword_like_word_is_shared(text: str) -> None:
    assert parse_tip_command(text) == ShareTip(text)


@pytest.mark.parametrize(
    "text",
    [
        "Help your reviewers: keep pull requests small",
        "Top tip: read the error message twice",
        "Mine the logs before guessing",
        "Delete merged branches weekly",
    ],
)
def test_a_keyword_followed_by_a_sentence_is_a_tip(text: str) -> None:
    assert parse_tip_command(text) == ShareTip(text)


def test_a_shared_tip_is_stripped_but_otherwise_verbatim() -> None:
    assert parse_tip_command("  Use <!channel> sparingly &amp; kindly \n") == ShareTip(
        "Use <!channel> sparingly &amp; kindly"
    )


def test_search_without_words_explains_how_to_search() -> None:
    command = parse_tip_command("search   ")
    assert isinstance(command, ShowHelp)
    assert command.problem is not None
    assert "/tip search" in command.problem


@pytest.mark.parametrize("window", ["year", "Yesterday", "WEEKLY"])
def test_an_unknown_top_window_is_named_in_the_help(window: str) -> None:
    command = parse_tip_command(f"top {window}")
    assert isinstance(command, ShowHelp)
    assert command.problem is not None
    assert f"`{window.lower()}`" in command.problem
    assert "/tip top week" in command.problem


@pytest.mark.parametrize("text", ["mine please", "mine U123", "MINE all"])
def test_mine_takes_no_arguments(text: str) -> None:
    command = parse_tip_command(text)
    assert isinstance(command, ShowHelp)
    assert command.problem is not None
    assert "/tip mine" in command.problem


@pytest.mark.parametrize("text", ["delete", "delete abc", "delete -1", "delete 4.2", "delete #", "DELETE #x"])
def test_delete_without_a_tip_number_explains_what_to_give(text: str) -> None:
    command = parse_tip_command(text)
    assert isinstance(command, ShowHelp)
    assert command.problem is not None
    assert "/tip delete 42" in command.problem


@pytest.mark.parametrize("number", ["²", "#¹", "42²"])
def test_delete_with_a_superscript_digit_explains_instead_of_crashing(number: str) -> None:
    command = parse_tip_command(f"delete {number}")
    assert isinstance(command, ShowHelp)


# -- issue #9: strict numbers, near misses, short and over-long tips ------------------------------


@pytest.mark.parametrize(
    "number", ["99999999999999999999999", "2147483648", "0", "00", "#0", "1e3", "٤٢", "4_2", "+4", " 4 2"]
)
def test_delete_takes_only_ascii_tip_numbers_within_range(number: str) -> None:
    command = parse_tip_command(f"delete {number}")
    assert isinstance(command, ShowHelp | ShareTip | TooShort)
    assert not isinstance(command, DeleteTip)


@pytest.mark.parametrize(("text", "number"), [("delete 1", 1), ("delete 2147483647", 2**31 - 1)])
def test_delete_accepts_the_whole_range(text: str, number: int) -> None:
    assert parse_tip_command(text) == DeleteTip(number)


def test_command_errors_carry_their_one_usage_line() -> None:
    for text, line in [("delete x", "/tip delete 42"), ("top year", "/tip top"), ("mine x", "/tip mine")]:
        command = parse_tip_command(text)
        assert isinstance(command, ShowHelp) and command.usage is not None and line in command.usage


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("serach docker", "/tip search docker"),
        ("saerch docker cache", "/tip search docker cache"),
        ("helpme", "/tip help"),
        ("help?", "/tip help"),
        ("mnie", "/tip mine"),
        ("tpo month", "/tip top month"),
        ("delte 12", "/tip delete 12"),
        ("SERACH Docker", "/tip search Docker"),
    ],
)
def test_a_near_miss_of_a_subcommand_is_suggested(text: str, meant: str) -> None:
    assert parse_tip_command(text) == Suggest(text, meant)


@pytest.mark.parametrize(
    "text",
    [
        "Reach out to the on-call engineer early",
        "deleted branches can be restored with git reflog",
        "Searched the docs first and saved an hour of guessing",
        "mind the gap between staging and production",
    ],
)
def test_a_real_tip_that_starts_like_a_subcommand_is_shared(text: str) -> None:
    assert parse_tip_command(text) == ShareTip(text)


@pytest.mark.parametrize("text", ["frobnicate 12", "lgtm", "top week month", "delete 4 2", "https://x.test/a-long-url"])
def test_a_very_short_or_one_word_text_is_not_shared(text: str) -> None:
    assert parse_tip_command(text) == TooShort(text)


def test_an_over_long_tip_opens_the_composer_with_it() -> None:
    text = "y " * 1600
    assert parse_tip_command(text) == OpenComposer(text.strip())


def test_control_characters_never_reach_a_command() -> None:
    assert parse_tip_command("Use\x00 git\x07 bisect to find a bad commit") == ShareTip(
        "Use git bisect to find a bad commit"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("serach docker", "serach docker"),
        ("  tip\x00 ", "tip"),
        ("", None),
        ("x" * 2001, None),
        (42, None),
        (None, None),
    ],
)
def test_the_share_anyway_value_is_read_strictly(value: object, text: str | None) -> None:
    assert share_anyway_text(value) == text
