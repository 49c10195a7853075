"""A circle in a private channel is its channel's business: shown (list, info, the Home's *Browse
circles*) and joinable only by the channel's members; an answer from someone not in it is recorded
but never posted into its thread. Public circles are shown to everyone, as before."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.circles.rounds import CircleRunner
from storage.db import Database
from storage.models import Circle, CircleMember
from tests.conftest import FakeClock
from tests.scenario.home_helpers import buttons, click, click_on_home, home_text, open_home, shown_view
from tests.scenario.test_circles import (
    BEFORE,
    DUE,
    answer,
    checkin_dms,
    circle_cmd,
    create_circle,
    dms_to,
    participants,
    rounds,
)
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

SECRET = "Confidential: layoffs planning"


@pytest.fixture
def two_circles(sender: SlackSender, slack: SlackDouble, clock: FakeClock) -> None:
    """ "Rust learners" in #general (public, everyone in it); "Leads" in private #leads (U1, U2)."""
    slack.add_channel("C7", "leads", members=("U1", "U2"), is_private=True)
    clock.now = BEFORE
    assert create_circle(sender, slack, "Rust learners", zone="Europe/Berlin", time="09:00") == {}
    assert create_circle(sender, slack, "Leads", zone="Europe/Berlin", time="09:00", channel="C7",
                         description=SECRET) == {}  # fmt: skip
    circle_cmd(sender, "join Leads", user="U2")


def members_of(db: Database, name: str) -> set[str]:
    with db.snapshot() as session:
        circle = session.scalars(select(Circle).where(Circle.name == name)).one()
        return set(session.scalars(select(CircleMember.user_id).where(CircleMember.circle_id == circle.id)))


def circle_id(db: Database, name: str) -> int:
    with db.snapshot() as session:
        return session.scalars(select(Circle.id).where(Circle.name == name)).one()


def test_someone_outside_the_private_channel_sees_nothing_of_its_circle(
    sender: SlackSender, slack: SlackDouble, db: Database, two_circles: None
) -> None:
    # U4 (a workspace admin, even) is not in #leads.
    listed = circle_cmd(sender, "list", user="U4")
    assert "Rust learners" in listed and "Leads" not in listed and "layoffs" not in listed

    info = circle_cmd(sender, "info Leads", user="U4")
    never = circle_cmd(sender, "info Gardening", user="U4")
    assert info.startswith("There is no circle called “Leads”.") and "layoffs" not in info and "U2" not in info
    assert info.replace("Leads", "Gardening") == never  # the same words as a name never taken
    assert "Leads" not in circle_cmd(sender, "info Lead", user="U4")  # not even as a "Did you mean"

    assert circle_cmd(sender, "join Leads", user="U4").startswith("There is no circle called “Leads”.")
    sender.button(user="U4", action_id="circle_join", value=str(circle_id(db, "Leads")))  # a forged button
    assert members_of(db, "Leads") == {"U1", "U2"}

    open_home(sender, "U4")
    click_on_home(sender, slack, "U4", "home_browse_circles")
    browse = json.dumps(shown_view(slack, "U4"), ensure_ascii=False)
    assert "Rust learners" in browse and "Leads" not in browse and "layoffs" not in browse


def test_members_of_the_private_channel_see_and_join_its_circle(
    sender: SlackSender, slack: SlackDouble, db: Database, two_circles: None
) -> None:
    slack.channels["C7"].add_member("U3")

    listed = circle_cmd(sender, "list", user="U3")
    assert "Rust learners" in listed and "Leads" in listed
    assert SECRET in circle_cmd(sender, "info Leads", user="U3") and "<@U2>" in circle_cmd(sender, "info leads", "U3")
    open_home(sender, "U3")
    click_on_home(sender, slack, "U3", "home_browse_circles")
    browse = shown_view(slack, "U3")
    assert "Leads" in json.dumps(browse, ensure_ascii=False)
    [join] = [b for b in buttons(browse) if b["value"] == str(circle_id(db, "Leads"))]

    click(sender, "U3", browse, "home_join_circle", join["value"])

    assert members_of(db, "Leads") == {"U1", "U2", "U3"}
    assert "You joined" in circle_cmd(sender, "join Rust learners", user="U4")  # public: anyone, as before


def test_listing_asks_for_members_of_private_channels_only(
    sender: SlackSender, slack: SlackDouble, two_circles: None
) -> None:
    for n in range(5):
        slack.add_channel(f"C9{n}", f"public{n}", members=("U1",))
        create_circle(sender, slack, f"Public {n}", zone="Europe/Berlin", time="09:00", channel=f"C9{n}")
    infos, members = len(slack.calls_to("conversations.info")), len(slack.calls_to("conversations.members"))

    listed = circle_cmd(sender, "list", user="U2")

    assert "Leads" in listed and "Public 4" in listed
    assert len(slack.calls_to("conversations.members")) - members == 1  # #leads only
    assert len(slack.calls_to("conversations.info")) - infos == 7  # each circle channel once


def test_a_circle_channel_slack_cannot_describe_counts_as_private(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock
) -> None:
    slack.add_channel("C5", "rust", members=("U1",))  # public; U4 not in it (but may read it)
    clock.now = BEFORE
    assert create_circle(sender, slack, "Rust learners", zone="Europe/Berlin", time="09:00", channel="C5") == {}
    assert "Rust learners" in circle_cmd(sender, "list", user="U4")
    slack.fail_next("conversations.info", error="internal_error", times=2)

    assert "Rust learners" not in circle_cmd(sender, "list", user="U4")  # Slack couldn't say: private
    assert "Rust learners" in circle_cmd(sender, "list", user="U1")  # in it: shown all the same


def test_an_answer_from_someone_not_in_the_private_channel_is_kept_but_not_posted(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner,
    two_circles: None,
) -> None:  # fmt: skip
    slack.channels["C7"].add_member("U3")
    circle_cmd(sender, "join Leads", user="U3")
    clock.now = DUE
    circle_runner.run_due()
    round_id = next(r.id for r in rounds(db) if r.channel_id == "C7")
    slack.channels["C7"].remove_member("U3")  # invited, then left the channel (still in the circle)

    answer(sender, slack, "U3", round_id, "<!channel> outsider text", "outsider stuck", "")
    answer(sender, slack, "U2", round_id, "insider text", "insider stuck", "")

    thread = [str(m) for m in slack.channels["C7"].messages]
    assert not any("outsider" in m for m in thread) and any("insider text" in m for m in thread)
    assert "outsider text" in (participants(db, round_id)["U3"].answers or "")  # recorded all the same
    assert "it's a private channel you're not in" in dms_to(slack, "U3")[-1]["text"]

    clock.advance(hours=24)  # the round closes: its summary counts U3's answers, quotes only U2's
    assert circle_runner.run_due().closed == 2
    summary = str(slack.channels["C7"].messages[-1]["blocks"])
    assert "*2 of 3* checked in" in summary and "insider stuck" in summary and "outsider" not in summary


def test_a_member_not_in_the_private_channel_is_not_asked_its_questions(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner,
    two_circles: None,
) -> None:  # fmt: skip
    slack.channels["C7"].add_member("U3")
    circle_cmd(sender, "join Leads", user="U3")
    slack.channels["C7"].remove_member("U3")  # left the channel before the round
    clock.now = DUE

    circle_runner.run_due()

    [leads] = rounds_of_leads(db)
    assert [p.status for p in participants(db, leads).values()].count("invited") == 2  # U1, U2
    assert participants(db, leads)["U3"].status == "unreachable"
    assert not [dm for dm in checkin_dms(slack, "U3") if "Leads" in str(dm)]
    assert [dm for dm in checkin_dms(slack, "U2") if "Leads" in str(dm)]


def test_leave_pause_and_managing_name_no_hidden_circle_but_its_own_people_still_reach_it(
    sender: SlackSender, slack: SlackDouble, db: Database, two_circles: None
) -> None:
    opened = len(slack.calls_to("views.open"))
    # U3 (not an admin) and U4 (an admin) are not in #leads: neither "only the owner <@U1> may" nor
    # "you're not a member of Leads", which would name it.
    for user in ("U3", "U4"):
        for command in ("leave Leads", "pause Leads 2", "checkin Leads now", "archive Leads", "edit Leads"):
            said = circle_cmd(sender, command, user=user)
            assert "There is no circle called “Leads”." in said and "U1" not in said, (user, command, said)
    assert len(slack.calls_to("views.open")) == opened  # no edit form
    assert members_of(db, "Leads") == {"U1", "U2"} and not rounds_of_leads(db)
    assert "Leads" in circle_cmd(sender, "list", user="U1")  # not archived

    slack.channels["C7"].remove_member("U2")  # still in the circle: may pause it and leave it
    assert "sit out the next 2 rounds of “Leads”" in circle_cmd(sender, "pause Leads 2", user="U2")
    assert "You left “Leads”" in circle_cmd(sender, "leave Leads", user="U2")
    assert members_of(db, "Leads") == {"U1"}


def rounds_of_leads(db: Database) -> list[int]:
    return [r.id for r in rounds(db) if r.channel_id == "C7"]


def test_a_public_circle_whose_channel_slack_cannot_describe_leaves_no_member_out(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, circle_runner: CircleRunner
) -> None:
    # A member of a public channel's circle need not be in its channel; "don't know" is not "private".
    clock.now = BEFORE
    assert create_circle(sender, slack, "Rust learners", zone="Europe/Berlin", time="09:00") == {}
    slack.add_user("U5", "eve")  # in the workspace, not in #general
    circle_cmd(sender, "join Rust learners", user="U5")
    clock.now = DUE
    slack.fail_next("conversations.info", error="ratelimited", times=3)

    assert circle_runner.run_due().opened == 1

    [round_] = rounds(db)
    assert str(participants(db, round_.id)["U5"].status) == "invited"


def test_an_admin_outside_the_private_channel_neither_sees_nor_pauses_its_circle_from_the_home(
    sender: SlackSender, slack: SlackDouble, db: Database, two_circles: None
) -> None:
    # U4 is a workspace admin, not in private #leads.
    open_home(sender, "U4")
    assert "Rust learners" in home_text(slack, "U4") and "Leads" not in home_text(slack, "U4")

    click_on_home(sender, slack, "U4", "home_pause", f"circle:{circle_id(db, 'Leads')}")  # a forged click

    with db.snapshot() as session:
        assert session.scalars(select(Circle.paused_reason).where(Circle.name == "Leads")).one() is None
    assert "Leads" not in home_text(slack, "U4")
    slack.channels["C7"].add_member("U4")  # once in it, the admin sees and manages it
    open_home(sender, "U4")
    assert "Leads" in home_text(slack, "U4")
