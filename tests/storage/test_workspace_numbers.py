"""Tips and questions (migration 0021) and custom prompts (0022) numbered per workspace, on SQLite
and PostgreSQL: existing rows keep the number they were shown with (their id), and two processes
inserting at once are never given the same number."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import delete, select

from bot.schedules import prompts
from bot.tips import rules as tips
from storage import questions as question_queries
from storage.db import Database
from storage.models import CustomPrompt, Question, Tip, WorkspaceCounter
from tests.storage.old_rows import downgraded, old_prompt, old_question, old_tip

A, B = "T0ALPHA", "T0BETA"


def numbered(db: Database, model: type[Tip] | type[Question], team_id: str) -> list[tuple[int, str]]:
    with db.snapshot() as session:
        query = select(model.number, model.text).where(model.team_id == team_id).order_by(model.id)
        return [(number, text) for number, text in session.execute(query)]


def share(db: Database, team_id: str, text: str) -> Tip:
    with db.transaction() as session:
        draft = tips.draft_tip(text)
        return tips.share_tip(session, team_id=team_id, author_id="U1", draft=draft, source="command",
                              origin_channel_id="C1")  # fmt: skip


def numbers_and_ids(db: Database, model: type[Tip] | type[Question], team_id: str) -> list[tuple[int, int]]:
    with db.snapshot() as session:
        query = select(model.number, model.id).where(model.team_id == team_id).order_by(model.id)
        return [(number, row_id) for number, row_id in session.execute(query)]


def test_the_migration_keeps_the_numbers_rows_were_shown_with(db: Database) -> None:
    """Before 0021 a tip or question was shown by its id ("Tip #7"): posts in Slack still say so, so
    the migration keeps it as its number, and each workspace's counter goes on from its highest."""
    with downgraded(db, "0020"):
        ids = {text: old_tip(db, A if text.startswith("A") else B, text) for text in ("A one", "B one", "A two")}
        asked = [old_question(db, team, f"Question {n} of {team}?", f"key{n}") for n, team in enumerate((B, A, B))]
        with db.transaction() as session:  # deleted before the migration: its id is a gap, not a number
            session.execute(delete(Tip).where(Tip.text == "A two"))

    assert numbers_and_ids(db, Tip, A) == [(ids["A one"], ids["A one"])]
    assert numbers_and_ids(db, Tip, B) == [(ids["B one"], ids["B one"])]
    assert numbers_and_ids(db, Question, B) == [(asked[0], asked[0]), (asked[2], asked[2])]
    assert numbers_and_ids(db, Question, A) == [(asked[1], asked[1])]
    with db.snapshot() as session:
        counters = {(c.team_id, c.kind): c.last for c in session.scalars(select(WorkspaceCounter))}
    assert counters == {(A, "tip"): ids["A one"], (B, "tip"): ids["B one"], (A, "question"): asked[1],
                        (B, "question"): asked[2]}  # fmt: skip
    # New rows go on from there, per workspace; a workspace with none yet starts at 1.
    assert share(db, A, "A four, after the migration").number == ids["A one"] + 1
    assert share(db, "T0NEW", "A new workspace's first tip").number == 1


def test_an_old_posts_number_still_names_its_tip_after_the_migration(db: Database) -> None:
    with downgraded(db, "0020"):
        old_tip(db, B, "B one")
        shown = old_tip(db, A, "A one")  # its post in Slack says "Tip #<shown>" (the id, before 0021)
    for n in range(shown + 1):  # A shares more tips after the upgrade
        share(db, A, f"new tip {n}")
    with db.snapshot() as session:
        named = session.scalars(select(Tip).where(Tip.team_id == A, Tip.number == shown)).one()
    assert named.text == "A one", f"Tip #{shown} (old post of 'A one') now names {named.text!r}"


def test_the_migration_keeps_the_numbers_custom_prompts_were_listed_with(db: Database) -> None:
    made = (("A one", A, False), ("B one", B, False), ("A two", A, True), ("B two", B, False), ("A three", A, False))
    with downgraded(db, "0021"):
        ids = [old_prompt(db, team, text, removed) for text, team, removed in made]

    with db.snapshot() as session:
        query = select(CustomPrompt.team_id, CustomPrompt.number, CustomPrompt.text).order_by(CustomPrompt.id)
        rows = [tuple(row) for row in session.execute(query)]
        counters = {c.team_id: c.last for c in session.scalars(select(WorkspaceCounter).filter_by(kind="prompt"))}
    # A removed prompt keeps its number too: an old listing named it, and the number is not given again.
    assert rows == [(team, row_id, text) for (text, team, _), row_id in zip(made, ids, strict=True)]
    assert counters == {A: ids[4], B: ids[3]}
    with db.transaction() as session:  # new prompts go on from there, per workspace
        assert prompts.add(session, A, "A four, after the migration", "U1").number == ids[4] + 1
        assert prompts.add(session, "T0NEW", "A new workspace's first prompt", "U1").number == 1
        assert prompts.remove(session, B, ids[1]) and not prompts.remove(session, B, ids[1])
    with db.snapshot() as session:
        assert [p.text for p in prompts.custom(session, B)] == ["B two"]
        assert [p.number for p in prompts.custom(session, A)] == [ids[0], ids[4], ids[4] + 1]


def test_numbers_are_never_given_twice_even_after_the_highest_is_deleted(db: Database) -> None:
    share(db, A, "first tip")
    second = share(db, A, "second tip")
    with db.transaction() as session:
        tips.delete(session, A, second.number, actor_id="U1", actor_is_admin=False)

    assert share(db, A, "third tip").number == 3
    assert share(db, B, "B's first tip").number == 1
    with db.transaction() as session:
        question, created = question_queries.insert_question_once(session, {
            "team_id": B, "asker_id": "U1", "text": "Why?", "topics": "", "source": "command", "channel_id": "C1",
            "state": "new", "wave": 0, "request_key": "q1"})  # fmt: skip
        again, rerun = question_queries.insert_question_once(session, {
            "team_id": B, "asker_id": "U1", "text": "Why?", "topics": "", "source": "command", "channel_id": "C1",
            "state": "new", "wave": 0, "request_key": "q1"})  # fmt: skip
    assert (question.number, created, again.id, rerun) == (1, True, question.id, False)
    with db.snapshot() as session:  # the rerun took no number
        assert session.get_one(WorkspaceCounter, (B, "question")).last == 1


def test_two_inserters_at_once_never_get_the_same_number(database_url: str, db: Database) -> None:
    """Two processes (here two connections, each its own transactions) sharing tips into one
    workspace at the same moments: on PostgreSQL each takes the workspace's counter row in turn."""
    inserters, each = 2, 25
    scratch = Database.connect(database_url, threads=inserters)
    start = threading.Barrier(inserters)

    def insert(worker: int) -> list[int]:
        start.wait(timeout=10)
        got = []
        for n in range(each):
            with scratch.transaction() as session:
                tip = tips.share_tip(session, team_id=A, author_id="U1", draft=tips.draft_tip(f"tip {worker}.{n}"),
                                     source="command", origin_channel_id="C1")  # fmt: skip
                got.append(tip.number)
                time.sleep(0.002)  # the transaction stays open a moment: the other inserter meets it
        return got

    try:
        with ThreadPoolExecutor(inserters) as pool:
            results = list(pool.map(insert, range(inserters)))
    finally:
        scratch.dispose()

    given = [number for got in results for number in got]
    assert sorted(given) == list(range(1, inserters * each + 1))
    assert sorted(number for number, _ in numbered(db, Tip, A)) == sorted(given)
