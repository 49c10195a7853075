"""/mentor end to end: the profile modal, who knows X, pausing, and bad input answered precisely."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import MentorProfile, ProfileSkill, RequestKey
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


def mentor(sender: SlackSender, text: str, user: str = "U1") -> str:
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, command="/mentor")
    if answer.body:
        return str(answer.json())
    return str(sender.double.responses[before]) if len(sender.double.responses) > before else ""


def profile_values(view: dict[str, Any], **typed: Any) -> dict[str, Any]:
    """What Slack sends for the submitted profile form: its initial values, with `typed` changes."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind = element["type"]
        if kind == "plain_text_input":
            state: dict[str, Any] = {"type": kind, "value": typed.get(block_id, element.get("initial_value"))}
        elif kind == "static_select":
            chosen = typed.get(block_id)
            state = {"type": kind, "selected_option": {"value": chosen} if chosen else element.get("initial_option")}
        elif kind == "checkboxes":
            chosen = typed.get(block_id)
            options = [{"value": v} for v in chosen] if chosen is not None else element.get("initial_options", [])
            state = {"type": kind, "selected_options": options}
        else:
            state = {"type": kind, "selected_users": typed.get(block_id, element.get("initial_users", []))}
        values[block_id] = {block_id: state}
    return values


def save_profile(sender: SlackSender, slack: SlackDouble, user: str, **typed: Any) -> dict[str, Any]:
    mentor(sender, "profile", user=user)
    view = slack.calls_to("views.open")[-1]["view"]
    return sender.view_submission(user=user, view=view, values=profile_values(view, **typed)).json() or {}


def test_profile_by_modal_is_saved_and_shown_again(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    answer = save_profile(
        sender,
        slack,
        "U1",
        teaches="#Postgres, python",
        learns="rust",
        level="senior",
        team="Data Platform",
        open_to=["mentoring", "coffee"],
        capacity="2",
        avoids=["U3"],
    )
    assert answer == {}
    with db.snapshot() as session:
        row = session.get(MentorProfile, (TEAM_ID, "U1"))
        assert row is not None
        assert (row.level, row.team_name, row.capacity, row.avoids) == ("senior", "Data Platform", 2, "U3")
        assert (row.open_to_mentoring, row.open_to_mentee, row.open_to_coffee) == (True, False, True)
        skills = {(s.kind, s.skill) for s in session.scalars(select(ProfileSkill))}
    assert skills == {("teach", "postgres"), ("teach", "python"), ("learn", "rust")}
    assert "Profile saved" in slack.posts("U1")[-1]["text"]
    # Re-opening shows the saved values.
    mentor(sender, "profile")
    view = slack.calls_to("views.open")[-1]["view"]
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["teaches"]["element"]["initial_value"] == "postgres python"
    assert by_id["level"]["element"]["initial_option"]["value"] == "senior"
    assert by_id["avoids"]["element"]["initial_users"] == ["U3"]
    assert "Data Platform" in mentor(sender, "me")


def test_bad_values_are_field_errors_and_nothing_is_stored(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    answer = save_profile(
        sender,
        slack,
        "U1",
        teaches=" ".join(f"skill{i}" for i in range(11)),
        level="wizard",
        capacity="1e309",
        open_to=["mentoring", "everything"],
        team="x" * 81,
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"teaches", "level", "capacity", "open_to", "team"}
    with db.snapshot() as session:
        assert session.scalars(select(MentorProfile)).first() is None


def test_find_ranks_teachers_and_tip_authors_and_says_why(sender: SlackSender, slack: SlackDouble) -> None:
    save_profile(sender, slack, "U2", teaches="sql", level="lead", open_to=["mentoring"])
    save_profile(sender, slack, "U3", teaches="sql", level="junior", open_to=["mentoring"])
    sender.command("Use EXPLAIN ANALYZE before adding an index #sql", user="U4", command="/tip", channel="C1")
    answer = mentor(sender, "find SQL")
    assert answer.index("<@U2>") < answer.index("<@U3>")
    assert "teaches sql (lead / principal)" in answer
    assert "<@U4> — 1 tip on #sql" in answer
    assert "<@U4> (you) — 1 tip on #sql" in mentor(sender, "find sql", user="U4")  # the asker, marked
    mentor(sender, "pause 2", user="U2")
    assert "<@U2>" not in mentor(sender, "find sql")
    mentor(sender, "resume", user="U2")
    assert "<@U2>" in mentor(sender, "find sql")
    mentor(sender, "off", user="U3")
    assert "<@U3>" not in mentor(sender, "find sql")


def test_unknown_skill_suggests_close_ones(sender: SlackSender, slack: SlackDouble) -> None:
    save_profile(sender, slack, "U2", teaches="kubernetes")
    answer = mentor(sender, "find kubernets")
    assert "Nobody I know of" in answer
    assert "kubernetes" in answer


def test_bad_commands_get_the_one_usage_line(sender: SlackSender) -> None:
    assert "/mentor pause [weeks]" in mentor(sender, "pause 99999999999999999999")
    assert "/mentor find &lt;skill&gt;" in mentor(sender, "find")  # escaped: Slack would swallow <skill>
    assert "I don't know `frobnicate`" in mentor(sender, "frobnicate")
    answer = mentor(sender, "pause 0")
    assert "1 to 52 weeks" in answer


def test_someone_deactivated_in_slack_leaves_find_at_once(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    save_profile(sender, slack, "U2", teaches="sql", level="lead", open_to=["mentoring"])
    assert "<@U2>" in mentor(sender, "find sql")

    sender.event({"type": "user_change", "user": {"id": "U2", "team_id": TEAM_ID, "deleted": True}})

    assert "<@U2>" not in mentor(sender, "find sql")
    with db.snapshot() as session:
        row = session.get(MentorProfile, (TEAM_ID, "U2"))
        assert row is not None and row.deactivated_at is not None


def test_other_profile_changes_queue_nothing(sender: SlackSender, db: Database) -> None:
    for status in ("In a meeting", "Lunch", ""):
        answer = sender.event(
            {"type": "user_change", "user": {"id": "U3", "team_id": TEAM_ID, "profile": {"status_text": status}}}
        )
        assert answer.status == 200
    with db.snapshot() as session:
        assert session.scalars(select(MentorProfile)).first() is None
    with db.queue.snapshot() as session:  # every queued job leaves its request's key for 10 minutes
        assert session.scalars(select(RequestKey)).first() is None
