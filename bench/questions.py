"""Choosing the people to ask about a question, in a workspace of 100,000 tips and 5,000 profiles.

Seeds a freshly migrated database (tips from corpus.py by 5,000 authors, summed per tag and author
into `tag_authors` by its triggers as the app's own inserts are; 5,000 mentoring profiles teaching 0-3 of the
corpus's tags at every level, some paused or opted out; 2,000 answered questions with their topics;
1,500 people asked about open questions), then times, for a few hundred questions, what the app does
before it sends the DMs: the question's topics (`known_topics` + `choose_topics`) and the experts
(`bot.questions.experts.choose`: `/mentor find`'s evidence per topic, accepted answers, load,
working hours), each in its own sessions as the job runs them. Slack's directory is a dict here
(the app's UserDirectory caches people for 2 minutes; its calls are not the database's time).

For comparison it also times `/mentor find`'s tip evidence per tag as it was before `tag_authors`
(matching the words of every tip's `tags`) and as it is.

    .venv/bin/python bench/questions.py                      # SQLite file in a temp dir
    .venv/bin/python bench/questions.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import benchlib
from corpus import TAGS, TEAM_ID, Corpus, seed_tips, tip_rows
from sqlalchemy import func, insert, select, text

from bot.pairing.people import Level
from bot.questions.experts import choose
from bot.questions.rules import choose_topics, topic_candidates
from bot.slack.users import Person
from bot.tips import rules as tips
from storage import questions as queries
from storage.db import Database
from storage.migrate import upgrade
from storage.models import MentorProfile, ProfileSkill, Question, QuestionAsk, QuestionTopic, Tip
from storage.pairing import has_word, tip_evidence

TARGET_P95_MS = 50.0
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tips", type=int, default=100_000, help="tips to seed (default 100000)")
    parser.add_argument("--people", type=int, default=5_000, help="profiles and tip authors (default 5000)")
    parser.add_argument("--questions", type=int, default=300, help="questions to time (default 300)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL; a scratch database is created on it and dropped after"
        " (default: a SQLite file in a temp dir)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for data and questions")
    parser.add_argument("--shares", type=int, default=500, help="tips shared one by one, with and without the triggers")
    args = parser.parse_args()

    benchlib.print_header("bench/questions.py: choosing the experts for a question")
    with (
        tempfile.TemporaryDirectory(prefix="peerlearn-bench-") as tmp,
        benchlib.scratch_database(args.database_url, Path(tmp)) as url,
    ):
        db = Database.connect(url)
        try:
            run(db, args)
        finally:
            db.dispose()
    return 0


def seed(db: Database, args: argparse.Namespace, now: datetime) -> dict[str, Person]:
    rng = random.Random(args.seed)
    corpus = Corpus.build(seed=args.seed)
    report = seed_tips(db.engine, tip_rows(corpus, args.tips, seed=args.seed, now=now, authors=args.people))
    print(f"seed: {report.tips:,} tips by {args.people:,} authors in {report.seconds:.1f} s (tag_authors by trigger)")
    started = time.perf_counter()
    people = [f"U{i}" for i in range(1, args.people + 1)]
    profiles, skills = [], []
    for user_id in people:
        paused = rng.random() < 0.05
        profiles.append(
            {
                "team_id": TEAM_ID,
                "user_id": user_id,
                "level": rng.choice(list(Level)).value,
                "team_name": f"team{rng.randrange(40)}",
                "open_to_mentoring": True,
                "open_to_mentee": True,
                "open_to_coffee": True,
                "capacity": 1,
                "avoids": "",
                "paused_until": now + timedelta(days=7) if paused else None,
                "opted_out": rng.random() < 0.02,
                "missed_rounds": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        for skill in set(rng.choices(TAGS, cum_weights=corpus.tag_cum_weights, k=rng.choice((0, 1, 1, 2, 3)))):
            skills.append({"team_id": TEAM_ID, "user_id": user_id, "kind": "teach", "skill": skill})
    answered, topics, load = [], [], []
    for number in range(2_000):
        asker, answerer = rng.sample(people, 2)
        answered.append(
            {
                "id": number + 1,
                "team_id": TEAM_ID,
                "asker_id": asker,
                "text": "an answered question",
                "topics": "",
                "source": "command",
                "channel_id": "C1",
                "state": "answered",
                "wave": 1,
                "request_key": f"bench:{number}",
                "asked_at": now - timedelta(days=rng.randrange(365)),
                "answered_by": answerer,
            }
        )
        for topic in set(rng.choices(TAGS, cum_weights=corpus.tag_cum_weights, k=rng.choice((1, 2)))):
            topics.append({"question_id": number + 1, "topic": topic, "team_id": TEAM_ID})
    for user_id in rng.sample(people, 1_500):  # people already asked about open questions
        load.append({"question_id": rng.randint(1, 2_000), "user_id": user_id, "team_id": TEAM_ID, "wave": 1,
                     "reasons": "", "state": "asked", "open": True, "created_at": now})  # fmt: skip
    with db.engine.begin() as connection:
        for model, rows in ((MentorProfile, profiles), (ProfileSkill, skills), (Question, answered)):
            connection.execute(insert(model), rows)
        connection.execute(insert(QuestionTopic), topics)
        connection.execute(insert(QuestionAsk), load)
    print(
        f"seed: {len(profiles):,} profiles, {len(skills):,} skills taught, {len(answered):,} answered questions,"
        f" {len(load):,} open asks in {time.perf_counter() - started:.1f} s"
    )
    return {u: Person(u, u, is_admin=False, timezone=rng.choice(ZONES), deleted=rng.random() < 0.01) for u in people}


def questions(rng: random.Random, corpus: Corpus, count: int) -> list[tuple[str, str]]:
    """(category, question): about one common tag, two or three tags, a rare tag, or nothing known."""
    made = []
    for _ in range(count):
        category = rng.choices(("common", "two", "three", "rare", "unknown"), weights=(35, 25, 15, 15, 10))[0]
        words = " ".join(corpus.words(rng, rng.randint(3, 8)))
        if category == "common":
            tags = [rng.choice(TAGS[:5])]
        elif category in ("two", "three"):
            tags = rng.sample(TAGS, 2 if category == "two" else 3)
        elif category == "rare":
            tags = [rng.choice(TAGS[-10:])]
        else:
            tags = []
        subject = " and ".join(tags) or "zzq frobnication"
        made.append((category, f"How do I {words} with {subject}?"))
    return made


def legacy_tip_evidence(db: Database, tag: str) -> None:
    """`/mentor find`'s tip evidence before tag_authors: a LIKE over every tip's tags."""
    with db.snapshot() as session:
        query = (
            select(Tip.author_id, func.count(Tip.id), func.coalesce(func.sum(Tip.helpful_count), 0))
            .where(Tip.team_id == TEAM_ID, has_word(Tip.tags, tag))
            .group_by(Tip.author_id)
            .order_by(func.sum(Tip.helpful_count).desc(), func.count(Tip.id).desc(), Tip.author_id)
            .limit(50)
        )
        list(session.execute(query))


def run(db: Database, args: argparse.Namespace) -> None:
    print(f"database: {db.dialect} ({benchlib.describe_url(str(db.engine.url))})")
    upgrade(db.engine)
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    directory = seed(db, args, now)
    started = time.perf_counter()
    if db.dialect == "postgresql":
        # bench the steady state (statistics, the visibility map for index-only scans), not the gap
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        print(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s (what autovacuum does after a bulk load)")
    else:
        db.refresh_statistics()
        print(f"SQLite statistics: {time.perf_counter() - started:.1f} s (the app's own, at every start and daily)")
    with db.snapshot() as session:
        tagged = session.scalar(text("SELECT count(*) FROM tag_authors")) or 0
    print(f"tag_authors rows: {tagged:,}")

    def lookup(user_ids: object) -> dict[str, Person]:
        return {u: directory[u] for u in user_ids if u in directory}  # type: ignore[attr-defined]

    rng = random.Random(args.seed + 1)
    asked = questions(rng, Corpus.build(seed=args.seed), args.questions)
    timings: dict[str, list[float]] = defaultdict(list)
    chosen: dict[str, list[int]] = defaultdict(list)
    slowest: list[tuple[float, str, str]] = []
    for number, (category, question) in enumerate(asked):
        started = time.perf_counter()
        with db.snapshot() as session:
            known = queries.known_topics(session, TEAM_ID, topic_candidates(question))
        topics = choose_topics(question, known)
        experts = choose(db, TEAM_ID, topics, now=now, exclude={f"U{number % args.people + 1}"}, lookup=lookup)
        elapsed = time.perf_counter() - started
        if number < 20:  # warm-up, not counted
            continue
        timings["choose (all)"].append(elapsed)
        timings[f"choose {category}"].append(elapsed)
        chosen[category].append(len(experts))
        slowest.append((elapsed, category, " ".join(topics)))
    for tag in [t for _, t in zip(range(60), TAGS * 2, strict=False)]:
        started = time.perf_counter()
        legacy_tip_evidence(db, tag)
        timings["tip evidence, LIKE over tags (before)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        with db.snapshot() as session:
            tip_evidence(session, TEAM_ID, (tag,))
        timings["tip evidence, tag_authors (now)"].append(time.perf_counter() - started)

    print()
    print(f"per question (target p95 < {TARGET_P95_MS:.0f} ms): topics + experts, each step in its own db.snapshot():")
    names = ["choose (all)", *(f"choose {c}" for c in ("common", "two", "three", "rare", "unknown"))]
    for name in names:
        values = timings[name]
        p95 = benchlib.percentile(sorted(values), 0.95) * 1000
        print(f"  {name:<16s} {benchlib.summary_ms(values)}  {benchlib.verdict(p95 < TARGET_P95_MS)}")
    print("per tag, 60 calls:")
    for name in ("tip evidence, LIKE over tags (before)", "tip evidence, tag_authors (now)"):
        print(f"  {name:<38s} {benchlib.summary_ms(timings[name])}")
    print("experts found (mean): " + ", ".join(f"{c} {sum(v) / len(v):.1f}" for c, v in sorted(chosen.items())))
    print("slowest questions:")
    for elapsed, category, topics in sorted(slowest, reverse=True)[:5]:
        print(f"  {elapsed * 1000:8.1f} ms  {category:<8s} topics: {topics or '-'}")
    status = benchlib.proc_status_mb()
    print(f"process RSS after: {status.get('VmRSS', 0):.0f} MB (peak {status.get('VmHWM', 0):.0f} MB)")
    share_cost(db, args.shares)


def share_cost(db: Database, count: int) -> None:
    """What the triggers add to sharing a tip: `count` shares, each in its own transaction as `/tip`
    makes it, then as many with the triggers dropped (the scratch database is thrown away after)."""
    corpus, rng = Corpus.build(seed=3), random.Random(3)

    def shares(label: str) -> float:
        timings = []
        for number in range(count):
            text, tags = corpus.tip_text(rng)
            started = time.perf_counter()
            with db.transaction() as session:
                tips.share_tip(
                    session,
                    team_id=TEAM_ID,
                    author_id=f"U{rng.randint(1, 5000)}",
                    draft=tips.TipDraft(text, tuple(tags)),
                    source="command",
                    origin_channel_id="C1",
                    request_key=f"{label}:{number}",
                )
            timings.append(time.perf_counter() - started)
        print(f"  share a tip, {label:<18s} {benchlib.summary_ms(timings)}")
        return benchlib.percentile(sorted(timings), 0.5)

    print(f"sharing a tip ({count} shares, each in its own transaction as /tip stores it):")
    with_triggers = shares("tag_authors kept")
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text("DROP TRIGGER tag_authors_sync ON tips"))
        else:
            for name in ("insert", "delete", "move", "helpful"):
                connection.execute(text(f"DROP TRIGGER tag_authors_{name}"))
    without = shares("without triggers")
    print(f"  the triggers add {(with_triggers - without) * 1000:.2f} ms to a share (p50)")


if __name__ == "__main__":
    raise SystemExit(main())
