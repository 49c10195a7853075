"""Circles under forged payloads, bad values and reruns: every change authorised, bounded and made once."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.circles import service as circle_service
from bot.circles.blocks import read_circle_form, read_settings_target
from bot.circles.rounds import CircleRunner
from bot.circles.rules import CircleSpec
from bot.services import Services
from bot.slack.gateway import SlackGateway
from bot.slack.users import UserDirectory
from storage.db import Database
from storage.models import Circle, CircleMember, CircleRound, RoundParticipant
from tests.conftest import FakeClock
from tests.scenario.test_circles import (
    DUE,
    answer,
    circle_cmd,
    create_circle,
    form_values,
    rounds,
    weekly_circle,
)
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

OTHER_TEAM = "T0OTHER"
__all__ = ["weekly_circle"]  # the fixture, shared with the happy-path scenarios


def the_circle(db: Database) -> Circle:
    with db.snapshot() as session:
        return session.scalars(select(Circle)).one()


def count(db: Database, model: Any) -> int:
    with db.snapshot() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def settings_view(slack: SlackDouble, sender: SlackSender, user: str = "U1") -> dict[str, Any]:
    circle_cmd(sender, "edit Rust learners", user=user)
    return dict(slack.calls_to("views.open")[-1]["view"])


def submit(sender: SlackSender, user: str, view: dict[str, Any], values: dict[str, Any], team: str = TEAM_ID) -> Any:
    submitted = {**view, "id": "V9", "team_id": team, "state": {"values": values}}
    return sender.interaction(
        {
            "type": "view_submission",
            "team": {"id": team, "domain": "x"},
            "user": {"id": user, "team_id": team},
            "trigger_id": sender.double.trigger_id(),
            "view": submitted,
        }
    )


def services(db: Database, slack: SlackDouble, clock: FakeClock) -> Services:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test-000-peerlearn", base_url=slack.api_url)
    return Services(db, SlackGateway(client), UserDirectory(client, frozenset()), clock, "bulb")


def announcements(slack: SlackDouble) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.channels["C1"].messages
        if (m.get("metadata") or {}).get("event_type") == "peerlearn_circle_announced"
    ]


# -- authorised where the change happens ------------------------------------------------------------


def test_a_forged_settings_form_changes_nothing(
    sender: SlackSender, slack: SlackDouble, db: Database, weekly_circle: None
) -> None:
    view = settings_view(slack, sender)  # the owner's form, replayed by others with their own values
    renamed = form_values(view, name="Mine now", channel="CPRIV", question_0="Pwned?")

    by_member = submit(sender, "U2", view, renamed).json()
    from_elsewhere = submit(sender, "U1", view, renamed, team=OTHER_TEAM).json()
    unsigned_id = submit(sender, "U2", {**view, "private_metadata": '{"circle_id": "1 OR 1=1"}'}, renamed).json()

    assert "Only the owner of “Rust learners” or an admin" in by_member["errors"]["name"]
    assert not from_elsewhere  # another workspace's request is refused before any listener (runtime/workspace.py)
    assert "out of date" in unsigned_id["errors"]["name"]
    circle = the_circle(db)
    assert (circle.name, circle.channel_id, json.loads(circle.questions)[0]) == (
        "Rust learners",
        "C1",
        "What did you learn or try since the last check-in?",
    )


def test_the_use_case_checks_the_right_again_at_the_change(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, weekly_circle: None
) -> None:
    view = settings_view(slack, sender)
    spec = read_circle_form(form_values(view, name="Mine now"))
    target = read_settings_target(view["private_metadata"])
    assert isinstance(spec, CircleSpec) and target is not None
    deps = services(db, slack, clock)

    as_member = circle_service.save_settings(deps, team_id=TEAM_ID, user_id="U2", target=target, spec=spec, key="k1")
    elsewhere = circle_service.save_settings(deps, team_id=OTHER_TEAM, user_id="U1", target=target, spec=spec, key="k2")
    as_admin = circle_service.save_settings(deps, team_id=TEAM_ID, user_id="U4", target=target, spec=spec, key="k3")

    assert isinstance(as_member, circle_service.Refused) and "Only the owner" in as_member.message
    assert isinstance(elsewhere, circle_service.Refused) and "no longer exists" in elsewhere.message
    assert isinstance(as_admin, circle_service.Saved) and the_circle(db).name == "Mine now"


def test_only_participants_answer_and_forged_buttons_get_an_answer(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    clock.now = DUE
    circle_runner.run_due()
    round_ = rounds(db)[0]
    view = {"type": "modal", "callback_id": "circle_answers", "private_metadata": json.dumps({"round_id": round_.id})}
    values = {"answer_0": {"answer": {"type": "plain_text_input", "value": "forged"}}}

    assert submit(sender, "U4", view, values).status == 200  # not a member
    assert submit(sender, "U2", view, values, team=OTHER_TEAM).status == 200  # a member's id, from elsewhere
    for forged in ("abc", "-1", "99999999999999999999999", str(round_.id) + "\x00"):
        assert sender.button(user="U4", action_id="circle_checkin", value=forged).status == 200

    with db.snapshot() as session:
        answered = session.scalars(select(RoundParticipant).where(RoundParticipant.answers.is_not(None))).all()
    assert answered == []
    assert [m for m in slack.channels["C1"].messages if m.get("thread_ts") == round_.thread_ts] == []
    told = [p["text"] for p in slack.posts("U4")]
    assert len(told) == 5 and all(t == "You're not part of that check-in." for t in told)


# -- bounds -----------------------------------------------------------------------------------------


def test_bad_hours_and_forged_options_are_field_errors_and_nothing_is_stored(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    for changes in (
        {"reminder": "inf"},
        {"window": "1e309"},
        {"window": "1e9"},
        {"reminder": "nan"},
        {"weekday": "9"},
        {"cadence": "hourly"},
        {"time": "99:99"},
    ):
        answered = create_circle(sender, slack, **changes)
        assert answered["response_action"] == "errors", changes
        assert set(answered["errors"]) == {next(iter(changes))}, answered
    assert count(db, Circle) == 0
    assert "No learning circles yet" in circle_cmd(sender, "list")


def test_control_characters_are_dropped_the_same_on_every_database(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    assert create_circle(sender, slack, name="Go\x00 club\x1b", question_0="Stuck\x00?") == {}

    circle = the_circle(db)
    assert (circle.name, json.loads(circle.questions)[0]) == ("Go club", "Stuck?")
    assert "I paused" not in str(slack.posts("U1"))


def test_pausing_is_bounded_and_worded(sender: SlackSender, weekly_circle: None) -> None:
    assert "Pause for 1 to 12 rounds" in circle_cmd(sender, "pause Rust learners 99", user="U2")
    assert "sit out the next round of" in circle_cmd(sender, "pause Rust learners", user="U2")
    assert "sit out the next 3 rounds of" in circle_cmd(sender, "pause Rust learners 3", user="U2")
    assert "sitting out 3 rounds" in circle_cmd(sender, "info Rust learners")


# -- the first minute ---------------------------------------------------------------------------------


def test_a_new_circle_is_announced_with_a_join_button_that_joins_once(
    sender: SlackSender, slack: SlackDouble, db: Database, weekly_circle: None
) -> None:
    [announced] = announcements(slack)
    shown = str(announced["blocks"])
    assert "started the learning circle *Rust learners*" in shown and "every Monday at 09:00" in shown
    [button] = [e for b in announced["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"]) == ("circle_join", str(the_circle(db).id))
    assert the_circle(db).announce_ts == announced["ts"]

    before = len(slack.responses)
    for _ in range(2):
        sender.button(user="U4", action_id="circle_join", value=button["value"], channel="C1")
    sender.button(user="U4", action_id="circle_join", value="abc", channel="C1")
    said = [r["text"] for r in slack.responses[before:]]

    assert said[0].startswith(":wave: You joined “Rust learners”") and said[1] == "You're already in “Rust learners”."
    assert "no longer exists" in said[2]
    assert all(r["response_type"] == "ephemeral" and r["replace_original"] is False for r in slack.responses[before:])
    with db.snapshot() as session:
        assert session.get(CircleMember, (the_circle(db).id, "U4")) is not None


def test_checking_in_turns_the_invitation_into_checked_in_and_clicking_again_edits(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    clock.now = DUE
    circle_runner.run_due()
    round_ = rounds(db)[0]
    answer(sender, slack, "U2", round_.id, "Lifetimes")

    with db.snapshot() as session:
        dm_ts = session.get(RoundParticipant, (round_.id, "U2")).dm_ts  # type: ignore[union-attr]
    invitation = slack.message("D2", str(dm_ts))
    assert invitation is not None and invitation["text"] == "✓ Checked in to Rust learners — edit your answers"
    assert "Edit answers" in str(invitation["blocks"]) and "{date_short_pretty} {time}|" in str(invitation["blocks"])

    sender.button(user="U2", action_id="circle_checkin", value=str(round_.id))
    assert slack.calls_to("views.open")[-1]["view"]["blocks"][1]["element"]["initial_value"] == "Lifetimes"


# -- every effect once --------------------------------------------------------------------------------


def test_an_answer_whose_reply_ts_was_lost_is_edited_not_posted_again(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    circle_runner: CircleRunner,
    weekly_circle: None,
) -> None:
    clock.now = DUE
    circle_runner.run_due()
    round_ = rounds(db)[0]
    answer(sender, slack, "U2", round_.id, "Lifetimes")
    [reply] = [m for m in slack.channels["C1"].messages if m.get("thread_ts") == round_.thread_ts]
    assert reply["metadata"]["event_payload"] == {"round_id": round_.id, "user_id": "U2"}
    with db.transaction() as session:  # the worker died after Slack took the post, before its ts was kept
        session.get(RoundParticipant, (round_.id, "U2")).reply_ts = None  # type: ignore[union-attr]

    answer(sender, slack, "U2", round_.id, "Lifetimes, again")

    replies = [m for m in slack.channels["C1"].messages if m.get("thread_ts") == round_.thread_ts]
    assert len(replies) == 1 and "Lifetimes, again" in str(replies[0]["blocks"])
    with db.snapshot() as session:
        assert session.get(RoundParticipant, (round_.id, "U2")).reply_ts == reply["ts"]  # type: ignore[union-attr]


def test_a_creation_run_twice_makes_one_circle_and_one_announcement(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    circle_cmd(sender, "create Go club")
    view = slack.calls_to("views.open")[-1]["view"]
    spec = read_circle_form(form_values(view))
    target = read_settings_target(view["private_metadata"])
    assert isinstance(spec, CircleSpec) and target is not None
    deps = services(db, slack, clock)

    def run() -> circle_service.Saved | circle_service.Refused:
        return circle_service.save_settings(deps, team_id=TEAM_ID, user_id="U1", target=target, spec=spec, key="t:1")

    first, second = run(), run()
    with db.transaction() as session:  # a third run after a death between the post and keeping its ts
        session.get(Circle, the_circle(db).id).announce_ts = None  # type: ignore[union-attr]
    third = run()

    assert all(isinstance(saved, circle_service.Saved) for saved in (first, second, third))
    assert count(db, Circle) == 1 and len(announcements(slack)) == 1
    assert the_circle(db).announce_ts == announcements(slack)[0]["ts"]


def test_checkin_now_run_twice_opens_one_round(
    slack: SlackDouble, db: Database, clock: FakeClock, circle_runner: CircleRunner, weekly_circle: None
) -> None:
    deps = services(db, slack, clock)
    for _ in range(2):
        opened = circle_service.checkin_now(deps, circle_runner, TEAM_ID, "U1", "Rust learners", "t:same-request")
        assert opened.opened
    assert count(db, CircleRound) == 1
    assert len([m for m in slack.channels["C1"].messages if "check-in —" in m["text"]]) == 1
