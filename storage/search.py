"""Full-text search over tips in the database: SQLite FTS5 (`tips_fts`) or PostgreSQL tsvector
(`tips_search`, a narrow copy of what ranking reads, kept by a trigger: migration 0019).

Ranking, the same on both databases:

1. Tips holding more of the query's words come first: every word, then all but one, and so on
   down to any one word (coordination level, as search boxes behave). Each level is one query,
   and the next runs only while fewer than `limit` tips were found, so a query of common words
   ranks the few hundred tips that hold them all instead of tens of thousands that hold one.
2. Within a level, text relevance (bm25 / ts_rank; ts_rank_cd costs twice as much per match)
   lifted by helpfulness with a saturating boost 1 + h/(h+4): 0 votes x1, 4 votes x1.5, never more
   than x2, so relevance still leads.

The relevance within a level is that of the plain any-word query, as before levels existed: on
PostgreSQL ts_rank is given the any-word query; on SQLite bm25 sums over the phrases of the groups
a tip matches, and a tip holding exactly k of the words matches exactly one group of k (tips
holding more were found at a higher level and are skipped).

On SQLite bm25 reads each phrase's whole doclist once per query (~0.45 ms for a word in 15% of
tips), so a level that would repeat the words more than `MAX_LEVEL_PHRASES` times in all is not
run: the search goes straight to any one word, ranked by relevance as a whole.

3. A query of one word held by thousands of tips (one tip in six holds "git") would score every one
   of them; scoring is most of the cost (bm25 ~0.8 us a tip on SQLite, ts_rank a third of the CPU
   on PostgreSQL). But a word's relevance in one tip has a ceiling (bm25: (k1 + 1) * idf = 2.2 idf;
   ts_rank: 0.1, its weight for unlabelled words), and the helpfulness boost is x1 without votes.
   So the tips with at least one vote are ranked first; when their tenth scores above what any
   tip without a vote can reach, those tips cannot be in the ten and the answer is proven to be
   the full ranking's. Otherwise (fewer than ten, or a weak tenth) the full ranking runs. Exact
   either way: the bounded pass only saves work. Measured for "git" over 100,000 tips, one run
   each: SQLite CPU 26 -> 11.5 ms (the holder count included), PostgreSQL server CPU 14 -> 10.5 ms
   (PostgreSQL still reads every holder's row in tips_search to learn its votes and workspace).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_LEVEL_PHRASES = 20  # e.g. all 4 words, any 3 of 4 (12 phrases), any 2 of 4 (12); any 4 of 5 is 20
BOUNDED_MIN_HOLDERS = 2000  # SQLite: below this the full ranking costs < 3 ms and the ceiling is rarely beaten
_BM25_K1 = 1.2  # FTS5's bm25 constants (k1, and b = 0.75, which the ceiling does not need)
_TS_RANK_CEILING = 0.1  # ts_rank's default weight of a word without a label (D): its rank is below it
_MARGIN = 1.000001  # floating point: the tenth must beat the ceiling by more than rounding

_SQLITE = text(
    """
    SELECT tips.id, bm25(tips_fts) * (1.0 + tips.helpful_count * 1.0 / (tips.helpful_count + 4)) AS score
    FROM tips_fts CROSS JOIN tips INDEXED BY ix_tips_search_rank ON tips.id = tips_fts.rowid
    WHERE tips_fts MATCH :query AND tips.team_id = :team_id AND tips.helpful_count >= :min_helpful
    ORDER BY score, tips.id DESC
    LIMIT :limit
    """
)
# CROSS JOIN keeps the full-text index as the outer loop whatever the statistics say (read the
# other way round, every tip of the workspace is matched one by one: seconds); ix_tips_search_rank
# (id, team_id, helpful_count) answers the join from a narrow index instead of the wide rows
# (measured 28 -> 19 ms for a word in 15% of 100,000 tips). `min_helpful` > 0 is the bounded pass
# (point 3 above): the filter is applied before bm25 is computed, so tips it leaves out cost no score.

_SQLITE_HOLDERS = text("SELECT (SELECT count(*) FROM tips_fts WHERE tips_fts MATCH :query), (SELECT max(id) FROM tips)")

_POSTGRES = text(
    """
    SELECT id, ts_rank(search_vector, any_word) * (1.0 + helpful_count::float / (helpful_count + 4)) AS score
    FROM tips_search, to_tsquery('english', :query) AS query, to_tsquery('english', :any_word) AS any_word
    WHERE team_id = :team_id AND search_vector @@ query AND helpful_count >= :min_helpful
        AND (:min_helpful = 0 OR numnode(any_word) = 1)
    ORDER BY score DESC, id DESC
    LIMIT :limit
    """
)
# numnode(any_word) = 1: the ceiling holds for a query of one lexeme (a word like "foo_bar" is two;
# ts_rank of an AND has no such ceiling), so the bounded pass finds nothing for others and the full
# ranking runs.


def word_levels(words: Sequence[str]) -> Iterator[list[tuple[str, ...]]]:
    """Groups of words a tip must hold all of, level by level: all the words, then each way of
    leaving one out, … down to each word alone. A level of more than MAX_LEVEL_PHRASES words in
    all is skipped, with every level below it but the last (any one word)."""
    count = len(words)
    for size in range(count, 1, -1):
        if size * math.comb(count, size) > MAX_LEVEL_PHRASES:
            break
        yield list(itertools.combinations(words, size))
    yield [(word,) for word in words]


def search_tip_ids(session: Session, team_id: str, words: list[str], limit: int) -> list[int]:
    """Ids of the best tips holding the most of `words` (already reduced to letters and digits)."""
    if not words:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    if len(words) == 1:
        bounded = bounded_one_word(session, team_id, words[0], limit)
        if bounded is not None:
            return bounded
    any_word = " | ".join(words)
    found: list[int] = []
    for groups in word_levels(words):
        if postgres:
            statement = _POSTGRES
            query = " | ".join("(" + " & ".join(group) + ")" for group in groups)
        else:
            statement = _SQLITE
            query = " OR ".join("(" + " AND ".join(f'"{word}"' for word in group) + ")" for group in groups)
        # Tips of the levels above match this level too; they are all in `found` (a level is left
        # only when it ran out), so ask for as many more and skip them.
        parameters = {"query": query, "any_word": any_word, "team_id": team_id, "limit": limit, "min_helpful": 0}
        seen = set(found)
        found += [tip_id for tip_id, _ in session.execute(statement, parameters) if tip_id not in seen]
        if len(found) >= limit:
            return found[:limit]
    return found


def bounded_one_word(session: Session, team_id: str, word: str, limit: int) -> list[int] | None:
    """The best `limit` tips holding `word`, ranked among the tips with a helpful vote only, when
    that is proven to be the full ranking's answer (point 3 above); None when it is not."""
    if session.get_bind().dialect.name == "postgresql":
        statement, query, ceiling = _POSTGRES, word, _TS_RANK_CEILING
    else:
        statement, query = _SQLITE, f'"{word}"'
        holders, highest_id = session.execute(_SQLITE_HOLDERS, {"query": query}).one()
        if highest_id is None or holders < BOUNDED_MIN_HOLDERS or holders > highest_id:  # the last: a broken index
            return None
        # FTS5's idf, log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, over every workspace's tips; N
        # is at most the highest tip id (one index row per tip), and idf grows with N: a ceiling.
        idf = max(1e-6, math.log((highest_id - holders + 0.5) / (holders + 0.5)))
        ceiling = (_BM25_K1 + 1) * idf
    parameters = {"query": query, "any_word": query, "team_id": team_id, "limit": limit, "min_helpful": 1}
    rows = session.execute(statement, parameters).all()
    # A tip without a vote scores below `ceiling` (x1 boost); the tenth found must score above it.
    if len(rows) < limit or abs(rows[-1][1]) <= ceiling * _MARGIN:
        return None
    return [tip_id for tip_id, _ in rows]
