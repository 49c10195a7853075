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


# -- issue #9 §2: control characters, Unicode tags, bounds ----------------------------------------


def test_nul_and_control_characters_are_stripped_and_newlines_and_tabs_kept() -> None:
    assert draft_tip("a\x00b\x1bc\x7fd\x9fe\r\nf\tg\ud800").text == "abcde\nf\tg"


def test_a_tip_of_nothing_but_control_characters_is_empty() -> None:
    with pytest.raises(TipRejected, match="needs some text"):
        draft_tip("\x00\x01\x02")


def test_unicode_tags_are_kept() -> None:
    assert draft_tip("Read #日本語 docs, try #Über-Tag and #c++ or #node.js.").tags == (
        "日本語",
        "über-tag",
        "c++",
        "node.js",
    )


def test_at_most_ten_tags_from_the_text() -> None:
    text = " ".join(f"#t{n}" for n in range(15))
    assert draft_tip(text).tags == tuple(f"t{n}" for n in range(10))


def test_more_than_ten_tags_in_the_field_is_a_field_error() -> None:
    with pytest.raises(TipRejected) as refused:
        draft_tip("a tip", [f"t{n}" for n in range(11)])
    assert refused.value.field == "tags" and "at most 10" in str(refused.value)


def test_tags_from_the_text_and_the_field_stop_at_ten_together() -> None:
    text = " ".join(f"#t{n}" for n in range(8))
    assert len(draft_tip(text, ["a", "b", "c", "d"]).tags) == 10
