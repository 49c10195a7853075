"""bot/tips.py draft_tip: a tip's text is validated and its tags gathered before anything is saved."""

from __future__ import annotations

import pytest

from bot.tips.rules import MAX_TIP_LENGTH, TipDraft, TipRejected, draft_tip


def test_a_tip_of_exactly_the_limit_is_accepted() -> None:
    text = "a" * MAX_TIP_LENGTH
    assert MAX_TIP_LENGTH == 3000
    assert draft_tip(text) == TipDraft(text=text, tags=())


def test_a_tip_one_character_over_the_limit_is_refused_with_its_length() -> None:
    with pytest.raises(TipRejected) as refused:
        draft_tip("a" * 3001)
    message = str(refused.value)
    assert "3,001 characters" in message
    assert "3,000" in message


def test_the_limit_counts_characters_not_bytes() -> None:
    text = "🎉" * 3000
    assert draft_tip(text).text == text


def test_the_limit_applies_after_surrounding_whitespace_is_stripped() -> None:
    text = "b" * 3000
    assert draft_tip(f"  \n{text}\t \n").text == text


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_an_empty_tip_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(TipRejected, match="needs some text") as refused:
        draft_tip(text)
    assert "/tip " in str(refused.value)


def test_surrounding_whitespace_is_stripped_and_inner_whitespace_kept() -> None:
    assert draft_tip("  first line\n\n  second line  \n").text == "first line\n\n  second line"


def test_tags_come_from_the_text_then_the_extra_tags_without_duplicates() -> None:
    draft = draft_tip("Use #Git bisect, then #SQL and #git again", ["sql", "testing", "git", "testing"])
    assert draft.tags == ("git", "sql", "testing")


def test_a_tip_without_tags_has_none() -> None:
    assert draft_tip("No tags here, not even C# or &#123;").tags == ()


def test_extra_tags_alone_are_kept_in_order() -> None:
    assert draft_tip("plain tip", iter(["python", "sql"])).tags == ("python", "sql")
