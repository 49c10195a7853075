"""/tip search, top, mine, delete, and the composer modal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.tips.blocks import compose_modal
from storage.db import Database
from storage.models import Tip
from tests.conftest import ADMIN_ID
from tests.scenario.helpers import all_tips
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


def add_tip(
    db: Database,
    text: str,
    *,
    author: str = "U1",
    votes: int = 0,
    age_days: float = 0,
    team: str = TEAM_ID,
    **extra: Any,
) -> int:
    with db.transaction() as session:
        tip = Tip(
            team_id=team,
            author_id=author,
            text=text,
            tags=extra.pop("tags", ""),
            source="command",
            helpful_count=votes,
            created_at=datetime.now(UTC) - timedelta(days=age_days),
            **extra,
        )
        session.add(tip)
        session.flush()
        return tip.id


def number(db: Database, tip_id: int) -> int:
    """The tip's number in its workspace: what people see and type (`/tip delete 3`)."""
    with db.snapshot() as session:
        return session.get_one(Tip, tip_id).number


def answer(sender: SlackSender, text: str) -> dict[str, Any]:
    """/tip search and top: an empty ack, then the answer through response_url from the job worker."""
    before = len(sender.double.responses)
    ack = sender.command(text)
    assert ack.status == 200 and not ack.body
    (reply,) = sender.double.responses[before:]
    return reply


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """The tip excerpts shown in a list answer, in order."""
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_search_ranks_by_relevance_and_helpfulness(sender: SlackSender, db: Database) -> None:
    add_tip(db, "Docker layer caching speeds up builds", votes=0)
    add_tip(
        db,
        "Order Dockerfile steps so docker caching works",
        votes=9,
        permalink="https://x.slack.com/archives/C1/p1",
    )
    add_tip(db, "Unrelated: stand-ups should be short", votes=50)
    add_tip(db, "docker caching docker caching docker", votes=0, team="T0OTHER")

    reply = answer(sender, "search docker caching")

    assert reply["response_type"] == "ephemeral"
    shown = texts(reply["blocks"])
    assert shown == [
        "Order Dockerfile steps so docker caching works",
        "Docker layer caching speeds up builds",
    ]
    facts = str(reply["blocks"])
    assert "9 found it helpful" in facts and "<https://x.slack.com/archives/C1/p1|view post>" in facts
    assert "<!date^" in facts and "<@U1>" in facts


def test_search_returns_at_most_ten_and_survives_query_syntax(sender: SlackSender, db: Database) -> None:
    for n in range(15):
        add_tip(db, f"Testing tip number {n} about pytest fixtures")

    reply = answer(sender, 'search pytest" OR NEAR(fixtures * -x:')

    assert len(texts(reply["blocks"])) == 10
    assert answer(sender, "search zzzunknownword")["blocks"][-1]["text"]["text"].startswith("No tips match")


def test_search_result_text_is_escaped(sender: SlackSender, db: Database) -> None:
    add_tip(db, "Never ping <!channel> for a flaky test")

    shown = str(answer(sender, "search flaky")["blocks"])

    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


def test_top_honours_the_window(sender: SlackSender, db: Database) -> None:
    add_tip(db, "fresh and loved", votes=5, age_days=1)
    add_tip(db, "fresh and ignored", votes=0, age_days=1)
    add_tip(db, "last month's favourite", votes=20, age_days=20)
    add_tip(db, "the classic", votes=99, age_days=200)

    assert texts(answer(sender, "top")["blocks"]) == ["fresh and loved"]
    assert texts(answer(sender, "top month")["blocks"]) == [
        "last month's favourite",
        "fresh and loved",
    ]
    assert texts(answer(sender, "top all")["blocks"]) == [
        "the classic",
        "last month's favourite",
        "fresh and loved",
    ]


def test_top_with_nothing_voted_encourages(sender: SlackSender, db: Database) -> None:
    add_tip(db, "no votes yet")

    assert "has a helpful vote yet" in str(answer(sender, "top week")["blocks"])


def test_mine_lists_only_my_tips_with_counts(sender: SlackSender, db: Database) -> None:
    add_tip(db, "mine, older", votes=2, age_days=3)
    add_tip(db, "mine, newer", votes=1)
    add_tip(db, "someone else's", author="U2")

    answer = sender.command("mine").json()

    assert texts(answer["blocks"]) == ["mine, newer", "mine, older"]
    assert "You have shared 2 tips." in str(answer["blocks"]) and "2 found it helpful" in str(answer["blocks"])
    assert "haven't shared a tip" in str(sender.command("mine", user="U3").json()["blocks"])


def test_author_deletes_a_tip_and_its_post(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    sender.command("Delete me later")
    [tip] = all_tips(db)

    sender.command(f"delete {tip.number}")

    assert slack.responses[-1]["text"] == f":wastebasket: Tip #{tip.number} is deleted."
    assert all_tips(db) == []
    assert slack.calls_to("chat.delete") == [{"channel": "C1", "ts": tip.message_ts}]
    assert slack.channels["C1"].messages == []
    sender.command(f"delete {tip.number}")  # again: said plainly, not "there is no tip"
    assert slack.responses[-1]["text"] == f"Tip #{tip.number} was already deleted."


def test_only_the_author_or_an_admin_may_delete(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    first = add_tip(db, "U1's tip")
    second = add_tip(db, "also U1's")
    third = add_tip(db, "and another")

    sender.command(f"delete {number(db, first)}", user="U2")
    assert "Only the author" in slack.responses[-1]["text"]
    sender.command(f"delete {number(db, second)}", user="U4")  # workspace admin (users.info)
    sender.command(f"delete #{number(db, third)}", user=ADMIN_ID)  # PEERLEARN_ADMINS

    assert [t.id for t in all_tips(db)] == [first]


def test_deleting_a_captured_tip_leaves_the_message_and_removes_the_mark(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    ts = slack.add_message("C1", "U2", "A message worth keeping")
    sender.message_shortcut(user="U1", channel="C1", message=slack.message("C1", ts))
    [tip] = all_tips(db)

    sender.command(f"delete {tip.number}", user="U2")

    assert slack.message("C1", ts) is not None
    assert "reactions" not in slack.message("C1", ts)  # Slack drops a reaction nobody holds any more
    assert slack.calls_to("chat.delete") == []


def test_no_tip_leaks_across_workspaces(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    foreign = add_tip(db, "another workspace's secret roadmap", votes=5, team="T0OTHER")

    assert "secret" not in str(answer(sender, "search roadmap"))
    assert "secret" not in str(answer(sender, "top all"))
    sender.command(f"delete {number(db, foreign)}", user=ADMIN_ID)  # its number there, #1: none here
    assert f"no tip #{number(db, foreign)}" in slack.responses[-1]["text"]
    assert len(all_tips(db)) == 1


def compose_values(text: str, tags: str = "", channel: str | None = "C1") -> dict[str, Any]:
    return {
        "text": {"text": {"type": "plain_text_input", "value": text}},
        "tags": {"tags": {"type": "plain_text_input", "value": tags or None}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": channel}},
    }


def test_composer_submission_shares_the_tip(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    view = compose_modal("C1")

    response = sender.view_submission(
        user="U2", view=view, values=compose_values("Rubber-duck it #debugging", "Habits, #focus")
    )

    assert response.status == 200 and response.body == b""
    [tip] = all_tips(db)
    assert (tip.author_id, tip.source, tip.tags, tip.channel_id) == (
        "U2",
        "modal",
        "debugging habits focus",
        "C1",
    )
    assert len(slack.posts("C1")) == 1


def test_composer_shows_field_errors_and_saves_nothing(sender: SlackSender, db: Database) -> None:
    answer = sender.view_submission(user="U2", view=compose_modal("C1"), values=compose_values("z" * 3001)).json()

    assert answer["response_action"] == "errors"
    assert "3,001 characters" in answer["errors"]["text"]
    assert all_tips(db) == []


def test_composer_post_failure_is_told_by_dm(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    sender.view_submission(user="U2", view=compose_modal("CPRIV"), values=compose_values("Quiet tip", channel="CPRIV"))

    [note] = [p for p in slack.posts() if p["channel"] == "U2"]
    assert "is saved" in note["text"] and "/invite @Peerlearn" in note["text"]
    assert json.loads(compose_modal("CPRIV")["private_metadata"]) == {"origin_channel_id": "CPRIV"}
    assert len(all_tips(db)) == 1


def test_a_composer_naming_a_private_channel_the_person_is_not_in_posts_nothing_there(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    # The app is in #exec (private) and U1 is; U3 forges the form's channel to post there.
    slack.add_channel("GEXEC", "exec", members=("U1",), is_private=True)

    sender.view_submission(
        user="U3",
        view=compose_modal("C1"),
        values=compose_values("<!channel> Re-enter your SSO password", channel="GEXEC"),
    )

    assert slack.channels["GEXEC"].messages == [] and all_tips(db) == []
    [note] = [c for c in slack.calls_to("chat.postEphemeral") if c["user"] == "U3"]  # where the composer was opened
    assert note["channel"] == "C1" and "private channel you're not in" in note["text"]
    assert "&lt;!channel&gt; Re-enter your SSO password" in note["text"]  # given back, escaped: nothing lost


def test_a_member_of_a_private_channel_shares_a_tip_there_from_the_composer(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("GTEAM", "team", members=("U1", "U3"), is_private=True)

    sender.view_submission(
        user="U3", view=compose_modal("C1"), values=compose_values("Pair on reviews", channel="GTEAM")
    )

    assert len(slack.channels["GTEAM"].messages) == 1 and len(all_tips(db)) == 1
