"""Learning circles end to end: create by modal, join, a round opens, answers, edits, reminder, summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.circles.rounds import CircleRunner
from storage.db import Database
from storage.models import Circle, CircleMember, CircleRound, RoundParticipant
from tests.conftest import FakeClock
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

# Monday 2026-11-30 07:00 UTC = 08:00 Berlin; the circle meets Mondays at 09:00 Berlin (08:00 UTC).
BEFORE = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def circle_cmd(sender: SlackSender, text: str, user: str = "U1") -> str:
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, command="/circle")
    if answer.body:
        return str(answer.json())
    if len(sender.double.responses) == before:
        return ""
    said = sender.double.responses[before]  # after the ack, by response_url: its text, and blocks if any
    return str(said["text"]) + (str(said["blocks"]) if said.get("blocks") else "")


def form_values(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What Slack sends for a submitted circle form: initial values, with `changes` typed in."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        element, block_id = block["element"], block["block_id"]
        kind = element["type"]
        if kind == "plain_text_input":
            state = {"type": kind, "value": changes.get(block_id, element.get("initial_value"))}
        elif kind == "conversations_select":
            state = {"type": kind, "selected_conversation": changes.get(block_id, element.get("initial_conversation"))}
        elif kind == "timepicker":
            state = {"type": kind, "selected_time": changes.get(block_id, element.get("initial_time"))}
        else:
            chosen = changes.get(block_id)
            option = element.get("initial_option") if chosen is None else {"value": chosen}
            state = {"type": kind, "selected_option": option}
        values[block_id] = {"value": state}
    return values


def create_circle(
    sender: SlackSender, slack: SlackDouble, name: str = "Rust learners", **changes: Any
) -> dict[str, Any]:
    circle_cmd(sender, f"create {name}")
    view = slack.calls_to("views.open")[-1]["view"]
    answer = sender.view_submission(user="U1", view=view, values=form_values(view, **changes))
    return answer.json() or {}


def rounds(db: Database) -> list[CircleRound]:
    with db.snapshot() as session:
        return list(session.scalars(select(CircleRound).order_by(CircleRound.id)))


def participants(db: Database, round_id: int) -> dict[str, RoundParticipant]:
    with db.snapshot() as session:
        return {
            p.user_id: p for p in session.scalars(select(RoundParticipant).where(RoundParticipant.round_id == round_id))
        }


def dms_to(slack: SlackDouble, user: str) -> list[dict[str, Any]]:
    return [p for p in slack.posts() if p["channel"] == user]


def checkin_dms(slack: SlackDouble, user: str) -> list[dict[str, Any]]:
    """Invitations and reminders to check in (not other notices)."""
    return [p for p in dms_to(slack, user) if "circle_checkin" in str(p.get("blocks"))]


def answer(sender: SlackSender, slack: SlackDouble, user: str, round_id: int, *texts: str) -> Any:
    sender.button(user=user, action_id="circle_checkin", value=str(round_id))
    view = slack.calls_to("views.open")[-1]["view"]
    values = {
        f"answer_{i}": {"answer": {"type": "plain_text_input", "value": text or None}} for i, text in enumerate(texts)
    }
    return sender.view_submission(user=user, view=view, values=values)


@pytest.fixture
def weekly_circle(sender: SlackSender, slack: SlackDouble, clock: FakeClock) -> None:
    clock.now = BEFORE
    assert create_circle(sender, slack, zone="Europe/Berlin", time="09:00") == {}
    circle_cmd(sender, "join rust LEARNERS", user="U2")
    circle_cmd(sender, "join Rust learners", user="U3")


def test_creating_a_circle_by_modal(sender: SlackSender, slack: SlackDouble, db: Database, weekly_circle: None) -> None:
    with db.snapshot() as session:
        circle = session.scalars(select(Circle)).one()
        members = set(session.scalars(select(CircleMember.user_id)))
    assert (circle.name, circle.channel_id, circle.cadence, circle.weekday, circle.at_time) == (
        "Rust learners",
        "C1",
        "weekly",
        0,
        "09:00",
    )
    assert members == {"U1", "U2", "U3"}
    # Confirmed where the command ran, times in each reader's own zone (Berlin as the fallback).
    [created] = [c for c in slack.calls_to("chat.postEphemeral") if c["user"] == "U1" and "created" in c["text"]]
    assert created["channel"] == "C1"
    assert "every Monday at 09:00 Europe/Berlin" in created["text"]
    next_time = "<!date^1796025600^{date_short_pretty} {time} (your time)|2026-11-30 09:00 Europe/Berlin>"
    assert f"next {next_time}" in created["text"]
    listing = circle_cmd(sender, "list", user="U4")
    assert "Rust learners" in listing and "3 members" in listing


def test_modal_errors_are_shown_in_the_fields(sender: SlackSender, slack: SlackDouble, weekly_circle: None) -> None:
    answer_ = create_circle(
        sender,
        slack,
        name="rust Learners",
        question_0="",
        question_1="",
        question_2="",
        reminder="30",
        window="24",
        zone="Moon/Base",
    )

    assert answer_["response_action"] == "errors"
    errors = answer_["errors"]
    assert "already a circle called" in errors["name"]
    assert "at least one question" in errors["question_0"]
    assert "reminder must come" in errors["reminder"]
    assert "not a time zone" in errors["zone"]


def test_unknown_names_suggest_the_closest(sender: SlackSender, weekly_circle: None) -> None:
    said = circle_cmd(sender, "join Rust lerners", user="U4")

    assert "There is no circle called “Rust lerners”" in said and "Did you mean “Rust learners”?" in said
    assert "Did you mean “Rust learners”?" in circle_cmd(sender, "info rust", user="U4")  # a part of the name


def test_a_whole_round(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    clock.now = DUE
    assert circle_runner.run_due().opened == 1
    assert circle_runner.run_due().opened == 0  # exactly once
    [round_] = rounds(db)
    header = [m for m in slack.channels["C1"].messages if "check-in — Mon, Nov 30, 2026" in m["text"]]
    assert len(header) == 1 and round_.thread_ts == header[0]["ts"]
    assert [len(checkin_dms(slack, user)) for user in ("U1", "U2", "U3")] == [1, 1, 1]

    answer(sender, slack, "U2", round_.id, "Lifetimes, finally", "Async traits <!channel>", "")
    replies = [m for m in slack.channels["C1"].messages if m.get("thread_ts") == round_.thread_ts]
    assert len(replies) == 1 and "Lifetimes, finally" in str(replies[0]["blocks"])
    assert "<!channel>" not in str(replies[0]) and "&lt;!channel&gt;" in str(replies[0]["blocks"])
    answer(sender, slack, "U2", round_.id, "Lifetimes and borrowing", "Async traits", "")  # an edit
    replies = [m for m in slack.channels["C1"].messages if m.get("thread_ts") == round_.thread_ts]
    assert len(replies) == 1 and "Lifetimes and borrowing" in str(replies[0]["blocks"])
    assert len([c for c in slack.calls_to("chat.update") if c["channel"] == "C1"]) == 1

    clock.advance(hours=4)  # the reminder
    assert circle_runner.run_due().reminded == 1
    assert circle_runner.run_due().reminded == 0
    assert [len(checkin_dms(slack, user)) for user in ("U1", "U2", "U3")] == [2, 1, 2]

    answer(sender, slack, "U3", round_.id, "", "Macros", "I can teach cargo workspaces")
    clock.advance(hours=20)  # the window closes
    assert circle_runner.run_due().closed == 1
    assert circle_runner.run_due().closed == 0

    summary = slack.channels["C1"].messages[-1]
    shown = str(summary["blocks"])
    assert summary["thread_ts"] == round_.thread_ts
    assert "*2 of 3* checked in" in shown
    assert "*Can you help?*" in shown and "<@U2>: Async traits" in shown and "<@U3>: Macros" in shown
    with db.snapshot() as session:
        streaks = {m.user_id: m.streak for m in session.scalars(select(CircleMember))}
    assert streaks == {"U1": 0, "U2": 1, "U3": 1}
    late = answer(sender, slack, "U1", round_.id, "too late")
    assert late.status == 200 and "has closed" in dms_to(slack, "U1")[-1]["text"]


def test_at_least_one_answer_is_required(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    clock.now = DUE
    circle_runner.run_due()

    empty = answer(sender, slack, "U2", rounds(db)[0].id, "", "", "").json()

    assert empty == {"response_action": "errors", "errors": {"answer_0": "Answer at least one question."}}


def test_pause_skips_rounds_without_breaking_the_streak(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    for week in range(3):
        clock.now = DUE + timedelta(weeks=week)
        circle_runner.run_due()
        round_id = rounds(db)[-1].id
        if week == 0:
            answer(sender, slack, "U2", round_id, "week one")
            circle_cmd(sender, "pause Rust learners 1", user="U2")
        if week == 2:
            answer(sender, slack, "U2", round_id, "week three")
        clock.advance(hours=25)
        circle_runner.run_due()

    assert participants(db, rounds(db)[1].id)["U2"].status == "paused"
    assert len(checkin_dms(slack, "U2")) == 2  # weeks one and three; nothing while paused (answered before reminders)
    with db.snapshot() as session:
        assert session.get(CircleMember, (rounds(db)[0].circle_id, "U2")).streak == 2


def test_unreachable_and_deactivated_members_are_skipped(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    slack.users["U3"]["dms_closed"] = True
    slack.add_user("U5", "gone", deleted=True)
    circle_cmd(sender, "join Rust learners", user="U5")
    clock.now = DUE

    circle_runner.run_due()

    people = participants(db, rounds(db)[0].id)
    assert (people["U3"].status, people["U5"].status, people["U2"].status) == ("unreachable", "unreachable", "invited")
    assert rounds(db)[0].status == "open"
    assert dms_to(slack, "U5") == []


def test_an_archived_channel_pauses_the_circle_and_tells_the_owner(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    slack.channels["C1"].is_archived = True
    clock.now = DUE

    circle_runner.run_due()

    with db.snapshot() as session:
        assert session.scalars(select(Circle)).one().paused_reason == "is_archived"
    assert "I paused the circle “Rust learners”" in dms_to(slack, "U1")[-1]["text"]
    assert "paused (is_archived)" in circle_cmd(sender, "list")


def test_owner_or_admin_manage_others_may_not(
    sender: SlackSender, slack: SlackDouble, db: Database, weekly_circle: None
) -> None:
    assert "Only the owner" in circle_cmd(sender, "archive Rust learners", user="U2")
    assert "Opened a check-in" in circle_cmd(sender, "checkin Rust learners now", user="U4")  # a workspace admin
    assert "already has an open check-in" in circle_cmd(sender, "checkin Rust learners now")
    assert "Archived" in circle_cmd(sender, "archive Rust learners")
    assert "There is no circle called" in circle_cmd(sender, "info Rust learners")


def test_info_shows_members_streaks_and_last_answers(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    clock.now = DUE
    circle_runner.run_due()
    answer(sender, slack, "U2", rounds(db)[0].id, "something")

    info = circle_cmd(sender, "info rust learners", user="U4")

    assert "<@U2> — streak 0 · last answer <!date^1796025600^{date_short_pretty}|2026-11-30>" in info
    assert "<@U3> — streak 0 · no answer yet" in info
    assert "every Monday at 09:00 Europe/Berlin" in info


def test_the_digest_reports_circle_activity(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    clock.now = DUE
    circle_runner.run_due()
    answer(sender, slack, "U2", rounds(db)[0].id, "traits", "Pinning futures", "")
    clock.advance(hours=2)

    sender.command("digest now", user="U4", command="/peerlearn")

    shown = str(slack.channels["C1"].messages[-1]["blocks"])
    # The round is still open: the two who have not answered yet are not counted as unanswered.
    assert "*Learning circles*: 1 check-in round (still open), 1 of 1 check-in answered." in shown
    assert "• <@U2> (Rust learners): Pinning futures" in shown


def test_a_digest_posted_elsewhere_quotes_no_answer_of_a_private_circle(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner
) -> None:
    # Two circles: one in a public channel, one in a private channel; the workspace digest goes to #general (C1).
    slack.add_channel("C5", "rust", members=("U1", "U2", "U3"))
    slack.add_channel("C7", "leads", members=("U1", "U2", "U3"), is_private=True)
    clock.now = BEFORE
    assert create_circle(sender, slack, "Rust learners", zone="Europe/Berlin", time="09:00", channel="C5") == {}
    assert create_circle(sender, slack, "Leads", zone="Europe/Berlin", time="09:00", channel="C7") == {}
    for name in ("Rust learners", "Leads"):
        circle_cmd(sender, f"join {name}", user="U2")
    clock.now = DUE
    circle_runner.run_due()
    by_channel = {round_.channel_id: round_.id for round_ in rounds(db)}
    answer(sender, slack, "U2", by_channel["C5"], "traits", "Pinning futures", "")
    answer(sender, slack, "U2", by_channel["C7"], "hiring", "Our reorg plans for Q1", "")
    clock.advance(hours=2)

    sender.command("digest now", user="U4", command="/peerlearn")

    shown = str(slack.channels["C1"].messages[-1]["blocks"])
    assert "2 check-in rounds (2 still open)" in shown  # counted: no one's words
    assert "• <@U2> (Rust learners): Pinning futures" in shown
    assert "reorg" not in shown and "Leads" not in shown
    asked = len([c for c in slack.calls_to("conversations.info") if c.get("channel") == "C5"])
    sender.command("digest now", user="U4", command="/peerlearn")  # the next digest, a moment later
    assert len([c for c in slack.calls_to("conversations.info") if c.get("channel") == "C5"]) == asked


def test_a_circle_channel_slack_cannot_describe_counts_as_private_in_a_digest(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner
) -> None:
    slack.add_channel("C5", "rust", members=("U1", "U2", "U3"))
    clock.now = BEFORE
    assert create_circle(sender, slack, "Rust learners", zone="Europe/Berlin", time="09:00", channel="C5") == {}
    circle_cmd(sender, "join Rust learners", user="U2")
    clock.now = DUE
    circle_runner.run_due()
    answer(sender, slack, "U2", rounds(db)[0].id, "traits", "Pinning futures", "")
    clock.advance(hours=2)
    slack.fail_next("conversations.info", error="ratelimited")

    sender.command("digest now", user="U4", command="/peerlearn")

    shown = str(slack.channels["C1"].messages[-1]["blocks"])
    assert "1 check-in round (still open)" in shown and "Pinning futures" not in shown


def test_a_circle_form_naming_a_private_channel_the_owner_is_not_in_creates_nothing(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("GEXEC", "exec", members=("U2",), is_private=True)  # the app and U2; not U1

    create_circle(sender, slack, "Leads", zone="Europe/Berlin", time="09:00", channel="GEXEC")

    with db.snapshot() as session:
        assert session.scalars(select(Circle)).all() == []
    assert slack.channels["GEXEC"].messages == []
    told = [c["text"] for c in slack.calls_to("chat.postEphemeral") + slack.posts() if c.get("channel") in ("C1", "U1")]
    assert any("private channel you're not in" in text for text in told), told


def test_owner_edits_the_circle_in_the_same_form(
    sender: SlackSender, slack: SlackDouble, db: Database, weekly_circle: None
) -> None:
    assert "Only the owner" in circle_cmd(sender, "edit Rust learners", user="U2")
    circle_cmd(sender, "edit Rust learners")
    view = slack.calls_to("views.open")[-1]["view"]
    assert view["title"]["text"] == "Edit circle"

    sender.view_submission(
        user="U1", view=view, values=form_values(view, time="17:30", cadence="biweekly", weekday="4")
    )

    with db.snapshot() as session:
        circle = session.scalars(select(Circle)).one()
    assert (circle.at_time, circle.cadence, circle.weekday, circle.name) == ("17:30", "biweekly", 4, "Rust learners")
    [updated] = [c for c in slack.calls_to("chat.postEphemeral") if "updated" in c["text"]]
    assert (updated["channel"], updated["user"]) == ("C1", "U1")
    assert "updated: every other Friday at 17:30 Europe/Berlin" in updated["text"]


def test_a_large_circle_looks_people_up_in_pages_not_one_by_one(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    for n in range(450):
        slack.add_user(f"UBIG{n:03d}", f"member{n}", deleted=n == 7)
        circle_cmd(sender, "join Rust learners", user=f"UBIG{n:03d}")
    clock.now = DUE

    circle_runner.run_due()

    assert len(slack.calls_to("users.list")) == 3  # 200 + 200 + the rest
    assert len(slack.calls_to("users.info")) < 5
    assert participants(db, rounds(db)[0].id)["UBIG007"].status == "unreachable"
    assert len([p for p in slack.posts() if "circle_checkin" in str(p.get("blocks"))]) == 452
