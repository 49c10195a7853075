"""Tips and questions (migration 0021) and custom prompts (0022) numbered per workspace, on SQLite
and PostgreSQL: existing
rows numbered by the migration in id order, and two processes inserting at once never given the
same number."""

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


def test_the_migration_numbers_each_workspaces_rows_in_id_order(db: Database) -> None:
    with downgraded(db, "0020"):
        for text in ("A one", "B one", "A two", "B two", "A three"):
            old_tip(db, A if text.startswith("A") else B, text)
        for n, team in enumerate((B, A, B)):
            old_question(db, team, f"Question {n} of {team}?", f"key{n}")
        with db.transaction() as session:  # deleted before the migration: its id is a gap, not a number
            session.execute(delete(Tip).where(Tip.text == "A two"))

    assert numbered(db, Tip, A) == [(1, "A one"), (2, "A three")]
    assert numbered(db, Tip, B) == [(1, "B one"), (2, "B two")]
    assert numbered(db, Question, B) == [(1, f"Question 0 of {B}?"), (2, f"Question 2 of {B}?")]
    assert numbered(db, Question, A) == [(1, f"Question 1 of {A}?")]
    with db.snapshot() as session:
        counters = {(c.team_id, c.kind): c.last for c in session.scalars(select(WorkspaceCounter))}
    assert counters == {(A, "tip"): 2, (B, "tip"): 2, (A, "question"): 1, (B, "question"): 2}
    # New rows go on from there, per workspace.
    assert share(db, A, "A four, after the migration").number == 3
    assert share(db, "T0NEW", "A new workspace's first tip").number == 1


def test_the_migration_numbers_each_workspaces_custom_prompts_in_id_order(db: Database) -> None:
    with downgraded(db, "0021"):
        for text, team, removed in (("A one", A, False), ("B one", B, False), ("A two", A, True),
                                    ("B two", B, False), ("A three", A, False)):  # fmt: skip
            old_prompt(db, team, text, removed)

    with db.snapshot() as session:
        query = select(CustomPrompt.team_id, CustomPrompt.number, CustomPrompt.text).order_by(CustomPrompt.id)
        rows = [tuple(row) for row in session.execute(query)]
        counters = {c.team_id: c.last for c in session.scalars(select(WorkspaceCounter).filter_by(kind="prompt"))}
    # A removed prompt keeps its number: an old listing named it, and the number is not given again.
    assert rows == [(A, 1, "A one"), (B, 1, "B one"), (A, 2, "A two"), (B, 2, "B two"), (A, 3, "A three")]
    assert counters == {A: 3, B: 2}
    with db.transaction() as session:  # new prompts go on from there, per workspace
        assert prompts.add(session, A, "A four, after the migration", "U1").number == 4
        assert prompts.add(session, "T0NEW", "A new workspace's first prompt", "U1").number == 1
        assert prompts.remove(session, B, 1) and not prompts.remove(session, B, 1)
    with db.snapshot() as session:
        assert [p.text for p in prompts.custom(session, B)] == ["B two"]
        assert [p.number for p in prompts.custom(session, A)] == [1, 3, 4]


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
