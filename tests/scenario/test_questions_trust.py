"""Asking the workspace, where reviews and a new user found it wanting: mistyped subcommands, and
what the post and `/ask mine` say about who was asked."""

from __future__ import annotations

from storage.db import Database
from tests.scenario import test_questions
from tests.scenario.test_mentor import save_profile
from tests.scenario.test_questions import ask, questions
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

workspace = test_questions.workspace  # the fixture: six people who teach postgres, a tip on it


# -- 4. mistyped subcommands ---------------------------------------------------------------------


def test_a_subcommand_with_a_bad_argument_gets_a_hint_and_posts_nothing(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    before = len(slack.posts())
    for typed in ("close abc", "close", "delete 3", "remove 3", "cancel", "close 3 please"):
        answer = ask(workspace, typed)
        assert "Did you mean `/ask close" in answer, typed
    assert "`/ask close 3`" in ask(workspace, "delete 3")
    assert "takes nothing after it" in ask(workspace, "mine please")
    assert questions(db) == [] and len(slack.posts()) == before


# -- 5 and 6. what the post and /ask mine say about who was asked --------------------------------


def test_the_post_says_who_knows_for_one_and_mine_says_nobody_was_asked(
    workspace: SlackSender, slack: SlackDouble, db: Database
) -> None:
    save_profile(workspace, slack, "U4", teaches="kafka", level="senior", open_to=["mentoring"])
    answer = ask(workspace, "How do I rebalance kafka partitions safely?")
    assert "asked the colleague who knows #kafka" in answer
    post = slack.message("C1", str(questions(db)[-1].post_ts))
    assert post is not None and "I asked 1 colleague who knows #kafka." in str(post["blocks"])

    ask(workspace, "Where do I get reimbursed for travel expenses?")  # nobody known: posted for anyone
    listed = ask(workspace, "mine")
    assert "posted for anyone to answer" in listed and "1 colleague asked" in listed
    assert "colleagues asked" not in listed
