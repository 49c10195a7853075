"""Issue #9 §2 and §7 for /tip, tried as a new user would: typos, short and long tips, odd input."""

from __future__ import annotations

from typing import Any

import pytest

from storage.db import Database
from tests.scenario.helpers import all_tips
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def shown(answer: dict[str, Any]) -> str:
    return str(answer.get("blocks") or answer.get("text"))


def share_anyway_button(answer: dict[str, Any]) -> dict[str, Any]:
    [actions] = [block for block in answer["blocks"] if block["type"] == "actions"]
    [button] = actions["elements"]
    assert button["action_id"] == "tip_share_anyway"
    return button


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("serach docker", "/tip search docker"), ("helpme", "/tip help"), ("delte 12", "/tip delete 12")],
)
def test_a_mistyped_subcommand_is_asked_about_never_shared(
    sender: SlackSender, slack: SlackDouble, db: Database, typed: str, meant: str
) -> None:
    answer = sender.command(typed).json()

    assert answer["response_type"] == "ephemeral"
    assert f"Did you mean `{meant}`?" in shown(answer)
    assert share_anyway_button(answer)["value"] == typed
    assert all_tips(db) == [] and slack.posts() == []


def test_a_very_short_text_gets_an_example_of_a_good_tip(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    answer = sender.command("frobnicate 12").json()

    assert "very short for a tip" in shown(answer) and "/tip Run `git bisect run pytest`" in shown(answer)
    assert share_anyway_button(answer)["value"] == "frobnicate 12"
    assert all_tips(db) == [] and slack.posts() == []


def test_share_it_anyway_shares_the_text_as_typed(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    value = share_anyway_button(sender.command("serach docker").json())["value"]

    sender.button(user="U1", action_id="tip_share_anyway", value=value, channel="C1")

    [tip] = all_tips(db)
    assert tip.text == "serach docker" and tip.author_id == "U1" and tip.message_ts
    assert slack.responses[-1] == {"text": f":bulb: Shared as tip #{tip.number}.", "replace_original": True}


def test_a_double_click_on_share_it_anyway_shares_once(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    value = share_anyway_button(sender.command("frobnicate 12").json())["value"]

    sender.concurrent = True  # both clicks acknowledged before either's work runs
    for _ in range(2):
        assert (
            sender.button(user="U1", action_id="tip_share_anyway", value=value, channel="C1", message_ts="1.5").status
            == 200
        )
    assert sender.settle is not None
    sender.settle()

    assert len(all_tips(db)) == 1 and len(slack.posts("C1")) == 1
    # The same text shared again from another answer's button is another tip: only the double click is one.
    sender.concurrent = False
    sender.button(user="U1", action_id="tip_share_anyway", value=value, channel="C1", message_ts="2.5")
    assert len(all_tips(db)) == 2


@pytest.mark.parametrize("value", ["", "   ", "x" * 2001, "\x00\x01"])
def test_a_forged_share_anyway_value_is_refused_plainly(
    sender: SlackSender, slack: SlackDouble, db: Database, value: str
) -> None:
    sender.button(user="U1", action_id="tip_share_anyway", value=value, channel="C1")

    assert "That button no longer works" in slack.responses[-1]["text"]
    assert all_tips(db) == []


def test_an_over_long_tip_opens_the_form_with_the_text_in_it(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    text = "Lesson" + " word" * 700  # 3,506 characters

    answer = sender.command(text).json()

    assert "3,506 characters" in answer["text"] and "I opened it in a form" in answer["text"]
    [opened] = slack.calls_to("views.open")
    blocks = opened["view"]["blocks"]
    field = next(b for b in blocks if b.get("block_id") == "text")["element"]
    rest = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert len(field["initial_value"]) <= 3000 and (field["initial_value"] + " " + rest).split() == text.split()
    assert slack.block_errors == [] and all_tips(db) == []


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("delete 99999999999999999999999", "There is no tip #99999999999999999999999"),
        ("delete 2147483648", "There is no tip #2147483648"),
        ("delete 0", "There is no tip #0"),
        ("delete abc", "Give the tip's number"),
    ],
)
def test_a_bad_tip_number_gets_a_precise_answer_with_one_usage_line(
    sender: SlackSender, slack: SlackDouble, typed: str, problem: str
) -> None:
    answer = shown(sender.command(typed).json())

    assert problem in answer
    assert "Usage: `/tip delete 42`" in answer
    assert "/tip search" not in answer  # the one relevant line, not the whole help
    assert "something went wrong" not in str(slack.responses)


def test_deleting_the_largest_tip_number_that_does_not_exist_answers_plainly(
    sender: SlackSender, slack: SlackDouble
) -> None:
    sender.command("delete 2147483647")

    assert slack.responses[-1]["text"] == "There is no tip #2147483647 in this workspace."


@pytest.mark.parametrize("query", ["*docker*", "_cache_", "~old~", "`rm -rf`"])
def test_search_shows_formatting_characters_as_typed(sender: SlackSender, slack: SlackDouble, query: str) -> None:
    sender.command(f"search {query}")

    answer = slack.responses[-1]
    assert answer["blocks"][0]["text"]["text"] == f"Tips matching “{query}”"
    assert answer["blocks"][1]["text"] == {
        "type": "plain_text",
        "text": f"No tips match “{query}”. Try other or fewer words, or be the first: /tip <what you learned>",
        "emoji": False,
    }


def test_control_characters_are_stripped_before_anything_is_stored(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    sender.command("Null\x00 bytes\x1b[31m never reach\x7f the database\ttab kept")

    [tip] = all_tips(db)  # PostgreSQL refuses NUL in text: this stores there too
    assert tip.text == "Null bytes[31m never reach the database\ttab kept"


def test_tags_keep_unicode_and_stop_at_ten(sender: SlackSender, db: Database) -> None:
    many = " ".join(f"#t{n}" for n in range(12))
    sender.command(f"Learn #日本語 with #Über-tag and #c++ early {many}")

    [tip] = all_tips(db)
    assert tip.tags.split() == ["日本語", "über-tag", "c++", *(f"t{n}" for n in range(7))]


def test_the_composer_refuses_more_than_ten_tags_in_its_field(sender: SlackSender, db: Database) -> None:
    values = {
        "text": {"text": {"type": "plain_text_input", "value": "A tip with a great many tags"}},
        "tags": {"tags": {"type": "plain_text_input", "value": " ".join(f"t{n}" for n in range(11))}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
    }

    answer = sender.view_submission(user="U1", view={"type": "modal", "callback_id": "tip_compose"}, values=values)

    assert answer.json() == {"response_action": "errors", "errors": {"tags": "Give at most 10 tags (11 given)."}}
    assert all_tips(db) == []


def test_mine_counts_in_words_that_agree(sender: SlackSender, db: Database) -> None:
    sender.command("The only tip I ever shared here")

    answer = shown(sender.command("mine").json())

    assert "You have shared 1 tip." in answer and "1 tips" not in answer
