"""The App Home and questions: your open questions with a link each, and *Ask a question* — a form
that runs `/ask`'s use case, with `/ask`'s checks shown as field errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import Question
from tests.scenario.home_helpers import click_on_home, home_of, home_text, open_home, shown_view
from tests.scenario.test_questions import ask, dms_about, questions, workspace  # noqa: F401 (a fixture)
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


def submit_question(sender: SlackSender, slack: SlackDouble, user: str, text: str | None, channel: str | None) -> Any:
    form = shown_view(slack, user)
    values = {
        "question": {"question": {"type": "plain_text_input", "value": text}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": channel}},
    }
    answer = sender.interaction(
        {
            "type": "view_submission",
            "user": {"id": user, "team_id": TEAM_ID},
            "trigger_id": sender.double.trigger_id(user),
            "view": {**form, "state": {"values": values}},
        }
    )
    return answer.json() if answer.body else None


def test_my_open_questions_are_on_my_home_with_a_link_each(
    workspace: SlackSender,  # noqa: F811
    slack: SlackDouble,
    db: Database,
) -> None:
    ask(workspace, "How do I tune autovacuum for postgres tables?")
    (question,) = questions(db)
    assert question.state == "waiting" and question.permalink

    open_home(workspace, "U1")

    text = home_text(slack, "U1")
    assert "Your open questions" in text and "How do I tune autovacuum for postgres tables?" in text
    assert f"<{question.permalink}|thread>" in text and f"#{question.number}" in text
    open_home(workspace, "U2")
    assert "No open questions" in home_text(slack, "U2")  # only the asker's own
    workspace.command(f"close {question.number}", user="U1", command="/ask")
    open_home(workspace, "U1")
    assert "No open questions" in home_text(slack, "U1")  # closed: no longer open
    assert not slack.block_errors


def test_ask_a_question_from_home_checks_like_ask_and_then_asks(
    workspace: SlackSender,  # noqa: F811
    slack: SlackDouble,
    db: Database,
) -> None:
    open_home(workspace, "U1")
    click_on_home(workspace, slack, "U1", "home_ask_question")
    assert shown_view(slack, "U1")["title"]["text"] == "Ask a question"

    refused = submit_question(workspace, slack, "U1", "postgres?", None)
    assert refused["response_action"] == "errors"
    assert "Ask a whole question" in refused["errors"]["question"] and "`" not in refused["errors"]["question"]
    assert refused["errors"]["channel"] == "Pick the channel to ask it in."
    refused = submit_question(workspace, slack, "U1", "   ", "C1")
    assert list(refused["errors"]) == ["question"]
    assert questions(db) == []

    # A tip may answer it: shown in our DM, with the asker's buttons; the Home says so and lists it.
    assert submit_question(workspace, slack, "U1", "How do I see why a postgres query is slow?", "C1") is None
    (suggested,) = questions(db)
    assert suggested.state == "suggested" and suggested.source == "command" and suggested.channel_id == "C1"
    dm = [p for p in slack.posts() if "peerlearn_dm_once" in str(p.get("metadata")) and "EXPLAIN ANALYZE" in str(p)]
    assert dm and "This answered it" in str(dm[-1]["blocks"])
    assert "Tips that may answer it are in our DM" in home_text(slack, "U1")

    # No tip answers it: it goes to the people who know, like /ask.
    open_home(workspace, "U1")
    click_on_home(workspace, slack, "U1", "home_ask_question")
    submit_question(workspace, slack, "U1", "How do I tune autovacuum for postgres tables?", "C1")
    with db.snapshot() as session:
        routed = session.scalars(select(Question).where(Question.id != suggested.id)).one()
    assert routed.state == "waiting" and len(dms_about(slack)) == 3
    home = home_text(slack, "U1")
    assert "How do I tune autovacuum" in home and "How do I see why a postgres query is slow?" in home
    assert not slack.block_errors and home_of(slack, "U1")["type"] == "home"
