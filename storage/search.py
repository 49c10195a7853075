"""Full-text search over tips in the database: SQLite FTS5 or PostgreSQL tsvector.

Ranking is text relevance (bm25 / ts_rank; ts_rank_cd costs twice as much per match) lifted by
helpfulness with a saturating boost 1 + h/(h+4): 0 votes x1, 4 votes x1.5, never more than x2, so
relevance still leads.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_SQLITE = text(
    """
    SELECT tips.id FROM tips_fts JOIN tips ON tips.id = tips_fts.rowid
    WHERE tips_fts MATCH :query AND tips.team_id = :team_id
    ORDER BY bm25(tips_fts) * (1.0 + tips.helpful_count * 1.0 / (tips.helpful_count + 4)), tips.id DESC
    LIMIT :limit
    """
)
_POSTGRES = text(
    """
    SELECT id FROM tips, to_tsquery('english', :query) AS query
    WHERE team_id = :team_id AND search_vector @@ query
    ORDER BY ts_rank(search_vector, query) * (1.0 + helpful_count::float / (helpful_count + 4)) DESC,
             id DESC
    LIMIT :limit
    """
)


def search_tip_ids(session: Session, team_id: str, words: list[str], limit: int) -> list[int]:
    """Ids of the best tips matching any of `words` (already reduced to letters and digits)."""
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        statement, query = _POSTGRES, " | ".join(words)
    else:
        statement, query = _SQLITE, " OR ".join(f'"{word}"' for word in words)
    rows = session.execute(statement, {"query": query, "team_id": team_id, "limit": limit})
    return [row[0] for row in rows]
