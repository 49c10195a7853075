"""/tip search's ranking on SQLite and PostgreSQL alike: known queries find their best tip first,
and the ranking is the former one (relevance and helpfulness over tips holding any of the words)
with tips holding more of the words first. Run over the benchmark's corpus, a few thousand tips."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.corpus import (
    KNOWN_QUERIES,
    OTHER_TEAM_ID,
    STOPWORDS,
    TEAM_ID,
    Corpus,
    any_word_ranking,
    known_query_rows,
    seed_tips,
    tip_rows,
)
from bot.text import search_words
from bot.tips import rules as tips
from storage import search
from storage.db import Database
from storage.search import bounded_one_word, word_levels

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.build(4000, seed=3)


@pytest.fixture
def seeded(db: Database, corpus: Corpus) -> Database:
    seed_tips(db.engine, tip_rows(corpus, 3000, seed=3, now=NOW))
    seed_tips(db.engine, known_query_rows(NOW))
    return db


def ids(session: Session, query: str) -> list[int]:
    return [tip.id for tip in tips.search(session, TEAM_ID, query)]


def test_known_queries_rank_their_best_tip_first(seeded: Database) -> None:
    with seeded.snapshot() as session:
        for case in KNOWN_QUERIES:
            best = session.scalars(text("SELECT id FROM tips WHERE text = :text"), {"text": case.best}).one()
            assert ids(session, case.query)[:1] == [best], case.query


def test_ranking_is_the_former_one_with_tips_holding_more_words_first(seeded: Database, corpus: Corpus) -> None:
    rng = random.Random(5)
    queries = [query for _, query in (corpus.query(rng) for _ in range(60))]
    queries += ["git", "test python", "commit git branch merge", "docker build cache image"]
    checked = 0
    with seeded.snapshot() as session:
        for query in queries:
            words = search_words(query)
            if not 0 < len(words) <= 4:  # every level runs (see the next test for more words)
                continue
            holders = {word: set(any_word_ranking(session, TEAM_ID, [word])) for word in words}
            former = any_word_ranking(session, TEAM_ID, words)
            expected = sorted(former, key=lambda tip_id: -sum(tip_id in holders[word] for word in words))[:10]
            assert ids(session, query) == expected, query
            checked += 1
    assert checked >= 40


def test_a_long_query_goes_from_all_its_words_to_any_of_them(seeded: Database) -> None:
    words = ["git", "branch", "commit", "merge", "rebase", "test", "docker"]
    assert [len(level[0]) for level in word_levels(words)] == [7, 1]
    with seeded.snapshot() as session:
        holders = {word: set(any_word_ranking(session, TEAM_ID, [word])) for word in words}
        former = any_word_ranking(session, TEAM_ID, words)
        every_word = [tip_id for tip_id in former if all(tip_id in holders[word] for word in words)]
        expected = (every_word + [tip_id for tip_id in former if tip_id not in every_word])[:10]
        assert ids(session, " ".join(words)) == expected


def test_a_common_word_ranked_among_voted_tips_is_the_full_ranking(
    seeded: Database, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bounded pass for one word (storage/search.py, point 3) answers only when it is proven to
    be the full ranking; over the corpus's common words it is right whenever it answers."""
    monkeypatch.setattr(search, "BOUNDED_MIN_HOLDERS", 0)  # 3,000 tips: no word has 2,000 holders
    common = corpus.vocabulary[len(STOPWORDS) : len(STOPWORDS) + 30]  # git, commit, branch, … the most common
    proven = 0
    with seeded.snapshot() as session:
        for word in common:
            [stem] = search_words(word)
            former = any_word_ranking(session, TEAM_ID, [stem], limit=10)
            bounded = bounded_one_word(session, TEAM_ID, stem, 10)
            if bounded is not None:
                assert bounded == former, word
                proven += 1
            assert ids(session, word) == former, word
    assert proven >= 5  # the most common words (on 100,000 tips: 74 of bench/search.py's 84)


def rows(texts_and_votes: list[tuple[str, int, str]]) -> Iterator[dict[str, Any]]:
    for index, (tip_text, votes, team_id) in enumerate(texts_and_votes):
        created_at = NOW - timedelta(hours=index + 1)
        ts = f"{int(created_at.timestamp())}.{index:06d}"
        yield {
            "team_id": team_id,
            "author_id": f"U{index % 7}",
            "saved_by_id": None,
            "text": tip_text,
            "tags": "",
            "source": "command",
            "origin_channel_id": "C1",
            "channel_id": "C1",
            "message_ts": ts,
            "permalink": None,
            "helpful_count": votes,
            "created_at": created_at,
        }


FILLER = "before the release check the dashboard and tell the team in the channel what changed and why"


def test_the_best_match_among_many_holders_of_a_common_word_ranks_first(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "BOUNDED_MIN_HOLDERS", 100)
    many = [(f"{FILLER} then deploy number {n} {FILLER}", n % 3, TEAM_ID) for n in range(400)]
    best = "Deploy small, deploy often, deploy with a rollback ready."
    planted = [
        (best, 25, TEAM_ID),
        *[(f"Deploy with care {n}: deploy on a quiet day.", 8 + n % 7, TEAM_ID) for n in range(12)],
        ("Deploy deploy deploy deploy deploy.", 300, OTHER_TEAM_ID),  # closer, elsewhere: never shown
        *[(f"Deploy on Friday {n} {FILLER}.", 40, TEAM_ID) for n in range(3)],  # more votes, one mention
        *[(f"Unrelated {n}: {FILLER}.", 0, TEAM_ID) for n in range(50)],
    ]
    seed_tips(db.engine, rows(many + planted))
    with db.snapshot() as session:
        found = ids(session, "deploy")
        best_id = session.scalars(text("SELECT id FROM tips WHERE text = :text"), {"text": best}).one()
        assert found[0] == best_id
        assert bounded_one_word(session, TEAM_ID, "deploy", 10) == found  # proven among the voted tips
        assert found == any_word_ranking(session, TEAM_ID, ["deploy"], limit=10)


def test_a_tip_without_votes_that_outranks_the_voted_ones_still_comes_first(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bounded pass cannot prove its answer here (a tip without a vote may beat its tenth), so
    the full ranking runs and the close match nobody has voted for yet leads."""
    monkeypatch.setattr(search, "BOUNDED_MIN_HOLDERS", 100)
    many = [(f"{FILLER} then deploy number {n} {FILLER}", 1, TEAM_ID) for n in range(400)]
    best = "Deploy, then deploy again: deploy twice."
    seed_tips(db.engine, rows([*many, (best, 0, TEAM_ID)]))
    with db.snapshot() as session:
        best_id = session.scalars(text("SELECT id FROM tips WHERE text = :text"), {"text": best}).one()
        assert bounded_one_word(session, TEAM_ID, "deploy", 10) is None
        found = ids(session, "deploy")
        assert found[0] == best_id
        assert found == any_word_ranking(session, TEAM_ID, ["deploy"], limit=10)
