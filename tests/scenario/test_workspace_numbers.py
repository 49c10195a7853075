"""Tips, questions (migration 0021) and custom prompts (0022) are numbered per workspace: one
deployment serves A and B, and B's first tip is "Tip #1", its first question "#1" and its first
prompt `1` however many A has, so the numbers B sees tell it nothing of A; what B's people type
(`/tip delete 1`, `/ask close 1`, `/peerlearn prompt remove 1`) reaches B's own.

B's people carry the same ids as A's (U1, C1), so nothing but the workspace tells them apart."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import CustomPrompt, Question, Tip
from tests.scenario.test_questions import ask
from tests.scenario.test_schedules import peerlearn
from tests.scenario.workspaces import TEAM_B, World, installed, world
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

__all__ = ["installed", "world"]  # fixtures


def tip_cmd(sender: SlackSender, text: str, user: str = "U1") -> str:
    """What the person heard back from `/tip text` (its ack and the answers after it)."""
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, channel="C1")
    heard = [str(answer.json())] if answer.body else []
    return " ".join(heard + [str(r) for r in sender.double.responses[before:]])


def last_post(double: SlackDouble) -> str:
    return str(double.channels["C1"].messages[-1]["blocks"])


def numbers(db: Database, model: type[Tip] | type[Question], team_id: str) -> dict[int, str]:
    with db.snapshot() as session:
        rows = session.scalars(select(model).where(model.team_id == team_id).order_by(model.id))
        return {row.number: row.text for row in rows}


def test_bs_first_tip_and_question_are_number_one_while_a_has_several(installed: World, db: Database) -> None:
    a, b = installed.sender_a, installed.sender_b
    for n in range(1, 4):
        a.command(f"Alpha's tip number {n} about postgres indexes")
        assert f"*Tip #{n}*" in last_post(installed.a)
    ask(a, "How do I read a postgres query plan?")
    ask(a, "How do I size a postgres connection pool?")

    b.command("Beta's first tip: pin your base images by digest")

    assert "*Tip #1*" in last_post(installed.b)
    assert numbers(db, Tip, TEAM_B.id) == {1: "Beta's first tip: pin your base images by digest"}
    ask(b, "How do I rotate a leaked API key?")
    mine = str(b.command("mine", command="/ask").json())
    assert "— #1 ·" in mine and "#3" not in mine
    assert list(numbers(db, Question, TEAM_B.id)) == [1]
    assert list(numbers(db, Question, TEAM_ID)) == [1, 2]
    assert list(numbers(db, Tip, TEAM_ID)) == [1, 2, 3]


def test_what_b_types_reaches_bs_own_numbers(installed: World, db: Database) -> None:
    a, b = installed.sender_a, installed.sender_b
    a.command("Alpha's tip: bisect the regression before guessing")
    ask(a, "How do I read a postgres query plan?")
    b.command("Beta's tip: pin your base images by digest")
    ask(b, "How do I rotate a leaked API key?")

    assert "Tip #1 is deleted" in tip_cmd(b, "delete 1")
    assert numbers(db, Tip, TEAM_B.id) == {}
    assert numbers(db, Tip, TEAM_ID) == {1: "Alpha's tip: bisect the regression before guessing"}

    before = len(b.double.responses)
    b.command("close 1", command="/ask")
    assert "Question #1 is closed" in str(b.double.responses[before:])
    with db.snapshot() as session:
        states = dict(session.execute(select(Question.team_id, Question.state).where(Question.number == 1)).all())
    assert states[TEAM_B.id] == "closed" and states[TEAM_ID] != "closed"


def test_numbers_are_never_given_twice_even_after_the_highest_is_deleted(installed: World, db: Database) -> None:
    b = installed.sender_b
    b.command("Beta's first tip: pin your base images by digest")
    b.command("Beta's second tip: keep migrations backwards compatible")
    assert "Tip #2 is deleted" in tip_cmd(b, "delete 2")

    b.command("Beta's third tip: one assert per behaviour in a test")

    assert "*Tip #3*" in last_post(installed.b)
    assert numbers(db, Tip, TEAM_B.id) == {
        1: "Beta's first tip: pin your base images by digest",
        3: "Beta's third tip: one assert per behaviour in a test",
    }
    assert "Tip #2 was already deleted" in tip_cmd(b, "delete 2")
    assert "There is no tip #4 in this workspace" in tip_cmd(b, "delete 4")


def prompts(db: Database, team_id: str) -> dict[int, tuple[str, bool]]:
    """The workspace's custom prompts: number → (text, still in the rotation)."""
    with db.snapshot() as session:
        rows = session.scalars(select(CustomPrompt).where(CustomPrompt.team_id == team_id).order_by(CustomPrompt.id))
        return {row.number: (row.text, row.removed_at is None) for row in rows}


def test_bs_first_prompt_is_number_one_and_remove_1_removes_bs_own(installed: World, db: Database) -> None:
    a, b = installed.sender_a, installed.sender_b
    for n in range(1, 4):
        assert f"Added prompt `{n}`" in peerlearn(a, f"prompt add Alpha's question {n}: what did you automate?")

    assert "Added prompt `1`" in peerlearn(b, "prompt add What did Beta learn this week?")
    listing = peerlearn(b, "prompt list")
    assert "`1` What did Beta learn this week?" in listing and "Alpha" not in listing and "`4`" not in listing

    assert "Removed prompt `1`" in peerlearn(b, "prompt remove 1")
    assert prompts(db, TEAM_B.id) == {1: ("What did Beta learn this week?", False)}
    assert all(kept for _, kept in prompts(db, TEAM_ID).values()) and list(prompts(db, TEAM_ID)) == [1, 2, 3]
    assert "There is no custom prompt `2`" in peerlearn(b, "prompt remove 2")  # A's #2 is not B's
    assert "Added prompt `2`" in peerlearn(b, "prompt add Which test caught a bug for you?")  # never given twice
