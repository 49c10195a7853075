"""/tip search's ranking on SQLite and PostgreSQL alike: known queries find their best tip first,
and the ranking is the former one (relevance and helpfulness over tips holding any of the words)
with tips holding more of the words first. Run over the benchmark's corpus, a few thousand tips."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.corpus import KNOWN_QUERIES, TEAM_ID, Corpus, any_word_ranking, known_query_rows, seed_tips, tip_rows
from bot.text import search_words
from bot.tips import rules as tips
from storage.db import Database
from storage.search import word_levels

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
