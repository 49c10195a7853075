"""storage/search.py's word levels: all the words, then all but one, … while a level stays small."""

from __future__ import annotations

from storage.search import MAX_LEVEL_PHRASES, word_levels


def sizes(words: list[str]) -> list[list[int]]:
    return [[len(group) for group in level] for level in word_levels(words)]


def test_one_word_is_one_level() -> None:
    assert sizes(["git"]) == [[1]]


def test_each_level_leaves_out_one_word_more() -> None:
    assert list(word_levels(["a", "b", "c"])) == [
        [("a", "b", "c")],
        [("a", "b"), ("a", "c"), ("b", "c")],
        [("a",), ("b",), ("c",)],
    ]
    assert sizes(["a", "b", "c", "d"]) == [[4], [3] * 4, [2] * 6, [1] * 4]


def test_a_level_too_large_to_run_goes_straight_to_any_word() -> None:
    assert sizes(["a", "b", "c", "d", "e"]) == [[5], [4] * 5, [1] * 5]  # any 3 of 5 would be 30 phrases
    assert sizes([f"w{n}" for n in range(12)]) == [[12], [1] * 12]


def test_every_level_but_any_word_stays_within_the_phrase_budget() -> None:
    for count in range(1, 13):
        *levels, last = word_levels([f"w{n}" for n in range(count)])
        assert all(sum(len(group) for group in level) <= MAX_LEVEL_PHRASES for level in levels)
        assert last == [(f"w{n}",) for n in range(count)]
