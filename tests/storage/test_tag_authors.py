"""`tag_authors` (each author's tips on each tag and the helpful votes they got) is kept by triggers on
`tips`: whatever the code does to tips (share, capture, vote, withdraw a vote, delete, retag) it
equals the sums recomputed from the tips themselves, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select, update

from bot.tips import rules as tips
from storage import tips as tip_queries
from storage.db import Database
from storage.models import TagAuthor, Tip
from storage.pairing import tip_evidence

TEAM = "T0TEST"


def share(db: Database, author: str, text: str, team: str = TEAM) -> Tip:
    with db.transaction() as session:
        return tips.share_tip(
            session,
            team_id=team,
            author_id=author,
            draft=tips.draft_tip(text),
            source="command",
            origin_channel_id="C1",
        )


def kept(db: Database) -> dict[tuple[str, str, str], tuple[int, int]]:
    with db.snapshot() as session:
        return {(r.team_id, r.tag, r.author_id): (r.tips, r.helpful) for r in session.scalars(select(TagAuthor))}


def recomputed(db: Database) -> dict[tuple[str, str, str], tuple[int, int]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    votes: Counter[tuple[str, str, str]] = Counter()
    with db.snapshot() as session:
        for tip in session.scalars(select(Tip)):
            for tag in set(tip.tags.split()):
                counts[(tip.team_id, tag, tip.author_id)] += 1
                votes[(tip.team_id, tag, tip.author_id)] += tip.helpful_count
    return {key: (counts[key], votes[key]) for key in counts}


def test_the_sums_follow_every_change_to_tips(db: Database) -> None:
    a = share(db, "UA", "Use EXPLAIN ANALYZE #postgres #sql")
    b = share(db, "UA", "VACUUM big tables at night #postgres")
    c = share(db, "UB", "Index the foreign keys #postgres #sql")
    share(db, "UB", "Another workspace's #postgres tip", team="T0OTHER")
    share(db, "UC", "A tip without tags")
    assert kept(db) == recomputed(db)
    assert kept(db)[(TEAM, "postgres", "UA")] == (2, 0)

    with db.transaction() as session:
        for voter in ("U1", "U2", "U3"):
            tips.add_reaction(session, a, voter, "+1")
        tips.add_reaction(session, c, "U1", "tada")
        tips.add_reaction(session, a, "UA", "+1")  # the author's own: no vote
    assert kept(db)[(TEAM, "postgres", "UA")] == (2, 3) and kept(db)[(TEAM, "sql", "UB")] == (1, 1)

    with db.transaction() as session:
        tips.remove_reaction(session, a, "U2", "+1")
        tip_queries.delete_tip(session, session.merge(b))
        session.execute(update(Tip).where(Tip.id == c.id).values(tags="sql indexes"))  # retagged
    assert kept(db) == recomputed(db)
    assert (TEAM, "postgres", "UB") not in kept(db)  # no tip left there: no row
    assert kept(db)[(TEAM, "postgres", "UA")] == (1, 2) and kept(db)[(TEAM, "indexes", "UB")] == (1, 1)

    with db.snapshot() as session:
        evidence = tip_evidence(session, TEAM, ("postgres", "sql", "unknown"))
    assert evidence == {"postgres": {"UA": (1, 2)}, "sql": {"UA": (1, 2), "UB": (1, 1)}, "unknown": {}}


def test_the_best_helpers_are_exact_though_only_the_most_experienced_teachers_are_read(db: Database) -> None:
    """helpers_on reads a skill's `limit` most experienced teachers and everyone with evidence; the
    result must be the brute-force best `limit` over every teacher and author."""
    import random
    from datetime import UTC, datetime

    from bot.pairing.blocks import Helper
    from bot.pairing.people import Level
    from bot.pairing.service import find_helpers, helper_rank
    from storage import pairing as profile_queries

    rng, now = random.Random(5), datetime.now(UTC)
    levels = [None, *Level]
    teachers = {f"U{n:02d}": rng.choice(levels) for n in range(40)}
    with db.transaction() as session:
        for user_id, level in teachers.items():
            values = {"level": level.value if level else None, "updated_at": now, "team_name": None}
            profile_queries.save_profile(session, TEAM, user_id, values, ["sql"], [])
    for n in range(60):  # tips by teachers and by people who teach nothing
        tip = share(db, f"U{rng.randrange(55):02d}", f"Tip {n} #sql")
        with db.transaction() as session:
            for voter in range(rng.choice([0, 0, 1, 3])):
                tips.add_reaction(session, tip, f"UV{voter}", "+1")
    with db.snapshot() as session:
        evidence = tip_evidence(session, TEAM, ("sql",), limit=50)["sql"]
    everyone = set(teachers) | set(evidence)
    brute = sorted(
        (Helper(u, u in teachers, teachers.get(u), *evidence.get(u, (0, 0)), met_pairings=0) for u in everyone),
        key=lambda h: (-helper_rank(h), h.user_id),
    )
    for limit in (1, 5, 12, 60):
        helpers, _ = find_helpers(db, TEAM, "sql", now, limit=limit)
        assert [h.user_id for h in helpers] == [h.user_id for h in brute[:limit]]
