"""The admins' Home: every schedule and circle with *Pause*, *Resume* and *Run now* (authorised at
the change, forged values refused), the last weeks at a glance, and Slack's limits held with a
large workspace."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.figures.sparkline import BARS
from bot.kit import MAX_VIEW_BLOCKS
from sandbox.block_kit import view_problems
from storage.db import Database
from storage.models import Circle, CircleMember, CircleRound, Question, QuestionsChannel, Schedule, Tip, utcnow
from tests.conftest import ADMIN_ID
from tests.scenario.home_helpers import (
    buttons,
    click,
    click_on_home,
    home_of,
    home_text,
    open_home,
    shown_view,
    submit,
)
from tests.scenario.test_circles import create_circle
from tests.scenario.test_schedules import prompt_posts
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def peerlearn(sender: SlackSender, text: str, user: str = "U4") -> None:
    sender.command(text, user=user, command="/peerlearn")


def schedule_row(db: Database, kind: str = "prompt") -> Schedule:
    with db.snapshot() as session:
        return session.scalars(select(Schedule).where(Schedule.kind == kind)).one()


def circle_row(db: Database) -> Circle:
    with db.snapshot() as session:
        return session.scalars(select(Circle)).one()


@pytest.fixture
def scheduled(sender: SlackSender, slack: SlackDouble) -> None:
    """A prompt and a digest in #general, a circle, and a tip."""
    peerlearn(sender, "prompts <#C1|general> mon 09:00 Europe/Berlin")
    peerlearn(sender, "digest <#C1|general> fri 16:00 Europe/Berlin")
    assert create_circle(sender, slack, "Rust learners") == {}
    sender.command("Read the changelog before you upgrade a dependency #deps", user="U1")


def test_admins_see_every_schedule_with_its_buttons_and_the_weeks_at_a_glance(
    sender: SlackSender, slack: SlackDouble, db: Database, scheduled: None
) -> None:
    open_home(sender, "U4")

    text = home_text(slack, "U4")
    assert "For admins" in text
    assert "*Learning prompts* in <#C1>" in text and "every Monday at 09:00 Europe/Berlin" in text
    assert "*Digest* in <#C1>" in text and "*Rust learners* in <#C1>" in text
    prompt, circle = schedule_row(db), circle_row(db)
    values = {(b["action_id"], b.get("value")) for b in buttons(home_of(slack, "U4"))}
    for target in (f"schedule:{prompt.id}", f"circle:{circle.id}"):
        assert {("home_pause", target), ("home_run_now", target)} <= values
    assert "The last 8 weeks" in text
    for label in (
        "*Tips shared*",
        "*People who shared or voted*",
        "*Check-in participation*",
        "*Pairs that met*",
        "*Questions answered*",
    ):
        assert label in text
    assert BARS[0] * 7 + BARS[-1] in text  # one tip, this week: seven empty weeks, then the top bar
    assert "1 this week so far · 0 last week" in text
    assert not slack.block_errors

    open_home(sender, "U1")  # a member: no admin part, whatever they try
    assert "For admins" not in home_text(slack, "U1")
    open_home(sender, ADMIN_ID)  # PEERLEARN_ADMINS
    assert "For admins" in home_text(slack, ADMIN_ID)


def test_pause_resume_and_run_now_from_home(
    sender: SlackSender, slack: SlackDouble, db: Database, scheduled: None
) -> None:
    open_home(sender, "U4")
    target = f"schedule:{schedule_row(db).id}"

    click_on_home(sender, slack, "U4", "home_pause", target)
    assert schedule_row(db).paused_reason == "by an admin"
    text = home_text(slack, "U4")
    assert ":pause_button: Paused the learning prompts for <#C1>" in text
    assert ("home_resume", target) in {(b["action_id"], b.get("value")) for b in buttons(home_of(slack, "U4"))}
    assert "paused (by an admin)" in str(sender.command("schedules", user="U2", command="/peerlearn").json())

    click_on_home(sender, slack, "U4", "home_resume", target)
    assert schedule_row(db).paused_reason is None
    assert ":arrow_forward: Resumed the learning prompts for <#C1>: the next post is" in home_text(slack, "U4")

    click_on_home(sender, slack, "U4", "home_run_now", target)
    assert len(prompt_posts(slack)) == 1
    assert "Posted a learning prompt in <#C1>" in home_text(slack, "U4")
    # What came of the click is shown under the row clicked (its buttons' block), not at the top of the Home.
    blocks = home_of(slack, "U4")["blocks"]
    said = next(i for i, b in enumerate(blocks) if "Posted a learning prompt" in str(b))
    assert blocks[said - 1]["type"] == "actions" and blocks[said - 1]["block_id"] == target.replace(":", "_")

    circle = f"circle:{circle_row(db).id}"
    click_on_home(sender, slack, "U4", "home_pause", circle)
    assert circle_row(db).paused_reason == "by an admin"
    click_on_home(sender, slack, "U4", "home_resume", circle)
    assert circle_row(db).paused_reason is None
    click_on_home(sender, slack, "U4", "home_run_now", circle)
    with db.snapshot() as session:
        assert len(session.scalars(select(CircleRound)).all()) == 1
    assert "Opened a check-in for “Rust learners”" in home_text(slack, "U4")
    assert not slack.block_errors


def test_admins_see_questions_channels_and_turn_one_off_from_home(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    def questions_channels() -> list[str]:
        with db.snapshot() as session:
            return list(session.scalars(select(QuestionsChannel.channel_id)))

    open_home(sender, "U4")
    assert "No questions channel yet" in home_text(slack, "U4")
    peerlearn(sender, "questions <#C1|general> on")
    assert questions_channels() == ["C1"]

    open_home(sender, "U4")
    assert "<#C1> · every question asked there" in home_text(slack, "U4")
    assert ("home_questions_off", "C1") in {(b["action_id"], b.get("value")) for b in buttons(home_of(slack, "U4"))}

    # Authorised at the change: a member's forged click, and forged values, change nothing.
    click(sender, "U2", {"type": "home", "id": "VHOME", "blocks": []}, "home_questions_off", "C1")
    assert "Only workspace admins and owners" in home_text(slack, "U2") and questions_channels() == ["C1"]
    for forged in ("", "C1 C2", "schedule:1", "D123"):
        click(sender, "U4", {"type": "home", "id": "VHOME", "blocks": []}, "home_questions_off", forged)
        assert "not one I know" in home_text(slack, "U4") and questions_channels() == ["C1"]

    click_on_home(sender, slack, "U4", "home_questions_off", "C1")
    assert questions_channels() == []
    assert "Questions in <#C1> are no longer answered by Peerlearn." in home_text(slack, "U4")
    assert "No questions channel yet" in home_text(slack, "U4")
    assert not slack.block_errors


def test_a_member_forging_the_admin_buttons_changes_nothing(
    sender: SlackSender, slack: SlackDouble, db: Database, scheduled: None
) -> None:
    open_home(sender, "U2")  # bob: not an admin, not the circle's owner
    home = home_of(slack, "U2")
    prompt, circle = f"schedule:{schedule_row(db).id}", f"circle:{circle_row(db).id}"

    for action, value in [("home_pause", prompt), ("home_run_now", prompt), ("home_resume", prompt)]:
        click(sender, "U2", home, action, value)
        assert "Only workspace admins and owners" in home_text(slack, "U2")
    for action in ("home_pause", "home_run_now"):
        click(sender, "U2", home, action, circle)
        assert "Only the owner of “Rust learners”" in home_text(slack, "U2")

    assert schedule_row(db).paused_reason is None and circle_row(db).paused_reason is None
    assert prompt_posts(slack) == []
    with db.snapshot() as session:
        assert session.scalars(select(CircleRound)).all() == []


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("schedule:abc", "not one I know"),
        ("schedule:99999999999", "not one I know"),  # past any id
        ("circle:0", "not one I know"),
        ("schedule:12 ", "not one I know"),
        ("tip:1", "not one I know"),
        ("", "not one I know"),
        ("schedule:4242", "no longer exists"),
        ("circle:4242", "no longer exists"),
    ],
)
def test_forged_values_are_refused_by_an_admin_too(
    sender: SlackSender, slack: SlackDouble, db: Database, scheduled: None, value: str, said: str
) -> None:
    click(sender, "U4", {"type": "home", "id": "VHOME", "blocks": []}, "home_pause", value)
    assert said in home_text(slack, "U4")
    assert schedule_row(db).paused_reason is None and circle_row(db).paused_reason is None


def test_another_workspaces_schedule_is_not_found(
    sender: SlackSender, slack: SlackDouble, db: Database, scheduled: None
) -> None:
    with db.transaction() as session:
        foreign = Schedule(team_id="TOTHER", channel_id="CX", kind="prompt", cadence="daily", at_time="09:00",
                           zone="UTC", configured_by="UX")  # fmt: skip
        session.add(foreign)
        session.flush()
        foreign_id = foreign.id
    click(sender, "U4", {"type": "home", "id": "VHOME", "blocks": []}, "home_pause", f"schedule:{foreign_id}")
    assert "no longer exists" in home_text(slack, "U4")
    with db.snapshot() as session:
        assert session.get(Schedule, foreign_id).paused_reason is None  # type: ignore[union-attr]


def test_a_broken_schedule_is_not_resumed_into_a_loop(
    sender: SlackSender, slack: SlackDouble, db: Database, scheduled: None
) -> None:
    with db.transaction() as session:
        row = session.scalars(select(Schedule).where(Schedule.kind == "prompt")).one()
        row.zone, row.paused_reason = "Mars/Olympus", "its settings can't be read"
    click(sender, "U4", {"type": "home", "id": "VHOME", "blocks": []}, "home_resume", f"schedule:{row.id}")
    assert "can't be read" in home_text(slack, "U4") and "Set it again" in home_text(slack, "U4")
    assert schedule_row(db).paused_reason == "its settings can't be read"


# -- Slack's limits, whatever the data -------------------------------------------------------------


def test_home_and_its_forms_stay_within_slacks_limits_with_a_large_workspace(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    heavy = "&<>" * 900 + " and so on"  # escapes to five times its length
    name = "Ünïcode & <circle> " * 4
    with db.transaction() as session:
        for n in range(400):
            session.add(Tip(team_id="T0TEST", author_id="U4" if n % 2 else "U1", text=f"{n} {heavy}",
                            tags=" ".join(f"tag{t}" for t in range(10)), source="command", helpful_count=n,
                            created_at=utcnow() - timedelta(hours=n)))  # fmt: skip
        for n in range(300):
            session.add(Schedule(team_id="T0TEST", channel_id=f"C{n:09d}", kind=("prompt", "digest", "pairing")[n % 3],
                                 cadence="weekly", weekday=n % 7, at_time="09:00", zone="Europe/Berlin",
                                 configured_by="U4", paused_reason=heavy if n % 5 == 0 else None))  # fmt: skip
        for n in range(150):
            circle = Circle(team_id="T0TEST", name=f"{name[:70]}{n}", name_key=f"c{n}", description=heavy,
                            channel_id="C1", cadence="weekly", weekday=0, at_time="09:00", zone="Europe/Berlin",
                            questions='["q"]', reminder_minutes=60, window_minutes=120, owner_id="U1",
                            paused_reason=heavy if n % 7 == 0 else None)  # fmt: skip
            session.add(circle)
            session.flush()
            session.add(CircleMember(circle_id=circle.id, user_id="U4", team_id="T0TEST", streak=n))
        for n in range(30):
            session.add(Question(team_id="T0TEST", asker_id="U4", text=f"Q{n}x {heavy}?", source="command",
                                 channel_id="C1", state="waiting", request_key=f"q{n}",
                                 permalink=f"https://x.slack.com/archives/C1/p{n}?a=<b>&c",
                                 asked_at=utcnow() - timedelta(minutes=n)))  # fmt: skip
        for n in range(40):
            session.add(QuestionsChannel(team_id="T0TEST", channel_id=f"CQ{n:08d}", enabled_by="U4"))

    open_home(sender, "U4")
    open_home(sender, "U4")  # and once more, without the welcome
    for call in slack.calls_to("views.publish"):
        view = json.loads(call["view"]) if isinstance(call["view"], str) else call["view"]
        assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
        assert view_problems(view) == []
    text = home_text(slack, "U4")
    assert "…and 290 more: `/peerlearn schedules`" in text and "…and 144 more: `/circle list`" in text
    assert "…and 140 more: `/circle list`" in text  # the admin's own circles beyond the ten shown
    assert "…and more: `/ask mine` lists them all." in text and "Q4x" in text and "Q5x" not in text
    assert "…and 36 more: `/peerlearn questions` lists them all." in text
    assert "*Questions answered*" in text  # the last of the admin's part: nothing cut

    click_on_home(sender, slack, "U4", "home_browse_circles")
    browse = shown_view(slack, "U4")
    assert len(browse["blocks"]) <= MAX_VIEW_BLOCKS and "…and 60 more" in json.dumps(browse, ensure_ascii=False)
    click_on_home(sender, slack, "U4", "home_search_tips")
    submit(sender, "U4", shown_view(slack, "U4"), {"query": {"query": {"type": "plain_text_input", "value": "so on"}}})
    results = shown_view(slack, "U4")
    assert len(results["blocks"]) <= MAX_VIEW_BLOCKS and view_problems(results) == []
    assert not slack.block_errors


def test_run_now_from_the_home_posts_nothing_in_a_private_channel_the_admin_is_not_in(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("C7", "leads", members=("U1", "U2", ADMIN_ID), is_private=True)  # not U4, an admin
    sender.command("prompts <#C7|leads> mon 09:00 Europe/Berlin", user=ADMIN_ID, command="/peerlearn")
    with db.snapshot() as session:
        schedule_id = session.scalars(select(Schedule.id)).one()
    open_home(sender, "U4")

    click_on_home(sender, slack, "U4", "home_run_now", f"schedule:{schedule_id}")

    assert prompt_posts(slack, "C7") == []
    assert "private channel you're not in" in home_text(slack, "U4")
