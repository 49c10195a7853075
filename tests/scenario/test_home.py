"""The App Home for the people who use Peerlearn: drawn on app_home_opened for whoever opened it,
a welcome on the first visit, their tips, votes, streaks, circles and match, and buttons that start
things — drawn again when they act from it."""

from __future__ import annotations

import json
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.home import service as home
from bot.services import Services
from bot.slack.gateway import SlackGateway
from bot.slack.users import UserDirectory
from storage.db import Database
from storage.models import CircleMember, CircleRound, Tip, TipVote, utcnow
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.helpers import all_tips
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
from tests.scenario.test_circles import circle_cmd, create_circle
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def share(sender: SlackSender, db: Database, user: str, text: str) -> Tip:
    sender.command(text, user=user)
    return [tip for tip in all_tips(db) if tip.author_id == user][-1]


def test_a_first_visit_welcomes_and_says_how_each_part_starts(sender: SlackSender, slack: SlackDouble) -> None:
    open_home(sender, "U2")

    [published] = slack.calls_to("views.publish")
    assert published["user_id"] == "U2"
    text = home_text(slack, "U2")
    assert "Welcome to Peerlearn" in text
    for starts in ("*Share a tip* above", "/tip &lt;what you learned&gt;", "*Browse circles* above",
                   "/circle create", "/peerlearn prompts #channel mon 09:00", "*Edit my profile*",
                   "/peerlearn pairing #channel", "*Ask a question* above", "/ask &lt;your question&gt;"):  # fmt: skip
        assert starts in text, starts
    assert "You haven't shared a tip yet" in text and "not in a circle yet" in text
    assert "For admins" not in text  # bob is not an admin
    assert [b["text"]["text"] for b in buttons(home_of(slack, "U2"))] == [
        "Share a tip", "Search tips", "Browse circles", "Edit my profile", "Ask a question",
    ]  # fmt: skip
    assert "No open questions" in text

    open_home(sender, "U2")  # the second visit: straight to their page
    assert "Welcome to Peerlearn" not in home_text(slack, "U2")
    assert not slack.block_errors


def test_a_rerun_of_the_first_visits_job_still_welcomes(
    db: Database, client: WebClient, clock: FakeClock, slack: SlackDouble
) -> None:
    services = Services(db, SlackGateway(client), UserDirectory(client, frozenset({ADMIN_ID})), clock, "bulb")
    home.opened(services, "T0TEST", "U3", "e:first-open")
    home.opened(services, "T0TEST", "U3", "e:first-open")  # the same opening's job, run again
    assert "Welcome to Peerlearn" in home_text(slack, "U3")
    home.opened(services, "T0TEST", "U3", "e:second-open")
    assert "Welcome to Peerlearn" not in home_text(slack, "U3")


def test_home_with_data_shows_votes_streaks_the_weeks_best_and_circles_in_my_zone(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.users["U1"]["tz"] = "America/New_York"
    mine = share(sender, db, "U1", "Read the error message twice &lt;b&gt;before&lt;/b&gt; searching #debugging")
    theirs = share(sender, db, "U3", "Squash fixups before review with git rebase -i --autosquash #git")
    slack.wait_for(lambda: all(t.message_ts for t in all_tips(db)), message="the posted tips")
    sender.reaction("reaction_added", "U2", "C1", mine.message_ts, "+1", item_user="U1")  # type: ignore[arg-type]
    sender.reaction("reaction_added", "U2", "C1", theirs.message_ts, "+1", item_user="U3")  # type: ignore[arg-type]
    with db.transaction() as session:  # two earlier weeks with a tip each, and a vote from last month
        for weeks in (1, 2):
            old = Tip(team_id="T0TEST", author_id="U1", text=f"An older tip, {weeks} weeks ago", tags="",
                      source="command", created_at=utcnow() - timedelta(weeks=weeks))  # fmt: skip
            session.add(old)
        session.flush()
        session.add(TipVote(tip_id=old.id, user_id="U4", team_id="T0TEST", author_id="U1",
                            created_at=utcnow() - timedelta(days=40)))  # fmt: skip
        session.execute(update(Tip).where(Tip.id == old.id).values(helpful_count=1))
    assert create_circle(sender, slack, "Rust learners") == {}
    circle_cmd(sender, "checkin Rust learners now")
    with db.transaction() as session:
        round_id = session.scalars(select(CircleRound.id)).one()
        session.execute(update(CircleMember).values(streak=4))  # as four answered rounds leave it

    open_home(sender, "U1")

    text = home_text(slack, "U1")
    assert "You have shared *3 tips* · *1 helpful vote* this month · *2* all time" in text
    assert ":fire: A tip every week for 3 weeks in a row" in text
    assert text.count("Read the error message twice &lt;b&gt;before") == 1  # escaped, and not repeated
    assert "Squash fixups" in text  # the week's best, from colleagues
    assert "*Rust learners* in <#C1>" in text and ":fire: 4 check-ins in a row" in text
    assert "America/New_York" in text  # my next check-in, in my zone for clients without Slack dates
    [check_in] = [b for b in buttons(home_of(slack, "U1")) if b["action_id"] == "circle_checkin"]
    assert check_in["text"]["text"] == "Check in" and check_in["value"] == str(round_id)
    assert not slack.block_errors


def test_check_in_from_home_and_the_home_is_drawn_again(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    assert create_circle(sender, slack, "Rust learners") == {}
    circle_cmd(sender, "checkin Rust learners now")
    open_home(sender, "U1")
    [check_in] = [b for b in buttons(home_of(slack, "U1")) if b["action_id"] == "circle_checkin"]

    click_on_home(sender, slack, "U1", "circle_checkin", check_in["value"])
    form = shown_view(slack, "U1")
    assert json.loads(form["private_metadata"])["home"] is True
    answers = {"answer_0": {"answer": {"type": "plain_text_input", "value": "Lifetimes finally clicked"}}}
    assert submit(sender, "U1", form, answers) is None

    [edit] = [b for b in buttons(home_of(slack, "U1")) if b["action_id"] == "circle_checkin"]
    assert edit["text"]["text"] == "Edit my answers"


def test_share_a_tip_from_home_and_see_it_there(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    open_home(sender, "U3")
    click_on_home(sender, slack, "U3", "home_share_tip")
    form = shown_view(slack, "U3")
    assert form["callback_id"] == "tip_compose"
    values = {
        "text": {"text": {"type": "plain_text_input", "value": "Name tests after the behaviour they check"}},
        "tags": {"tags": {"type": "plain_text_input", "value": "testing"}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
    }
    assert submit(sender, "U3", form, values) is None

    assert "Name tests after the behaviour they check" in home_text(slack, "U3")
    assert "You have shared *1 tip*" in home_text(slack, "U3")


def test_search_tips_from_home_shows_results_in_the_form(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    share(sender, db, "U2", "Use docker build --cache-from to reuse layers in CI #docker")
    open_home(sender, "U1")
    click_on_home(sender, slack, "U1", "home_search_tips")
    form = shown_view(slack, "U1")
    assert form["callback_id"] == "home_search"

    empty = submit(sender, "U1", form, {"query": {"query": {"type": "plain_text_input", "value": "  "}}})
    assert empty["response_action"] == "errors" and "query" in empty["errors"]
    answer = submit(sender, "U1", form, {"query": {"query": {"type": "plain_text_input", "value": "docker cache"}}})

    assert answer["response_action"] == "update" and "Searching" in json.dumps(answer["view"])
    [updated] = slack.calls_to("views.update")
    assert updated["view_id"] == form["id"]
    results = json.dumps(shown_view(slack, "U1"))
    assert "Use docker build --cache-from" in results and "docker cache" in results  # the query stays in its field
    assert not slack.block_errors


def test_browse_circles_and_join_one_from_home(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    assert create_circle(sender, slack, "Rust learners") == {}
    open_home(sender, "U2")
    click_on_home(sender, slack, "U2", "home_browse_circles")
    browse = shown_view(slack, "U2")
    [join] = [b for b in buttons(browse) if b["action_id"] == "home_join_circle"]

    click(sender, "U2", browse, "home_join_circle", join["value"])

    with db.snapshot() as session:
        assert "U2" in set(session.scalars(select(CircleMember.user_id)))
    redrawn = json.dumps(shown_view(slack, "U2"))
    assert "You joined" in redrawn and "You're a member" in redrawn
    assert "home_join_circle" not in redrawn
    home_now = home_text(slack, "U2")
    assert "You joined" in home_now and "*Rust learners* in <#C1>" in home_now

    click(sender, "U2", browse, "home_join_circle", "99999")  # a circle that isn't (any more)
    assert "no longer exists" in json.dumps(shown_view(slack, "U2"))


def test_edit_my_profile_opens_the_mentoring_form(sender: SlackSender, slack: SlackDouble) -> None:
    open_home(sender, "U2")
    click_on_home(sender, slack, "U2", "home_edit_profile")
    assert shown_view(slack, "U2")["callback_id"] == "mentor_profile"


def test_the_messages_tab_draws_nothing(sender: SlackSender, slack: SlackDouble) -> None:
    open_home(sender, "U1", tab="messages")
    assert slack.calls_to("views.publish") == []


def test_a_streak_waits_for_this_weeks_tip(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    with db.transaction() as session:
        for weeks in (1, 2, 4):  # the last two weeks, and one before a gap
            session.add(Tip(team_id="T0TEST", author_id="U2", text=f"A tip from {weeks} weeks ago", tags="",
                            source="command", created_at=utcnow() - timedelta(weeks=weeks)))  # fmt: skip
    open_home(sender, "U2")
    assert "A tip every week for 2 weeks in a row. Share one this week to keep it going." in home_text(slack, "U2")

    share(sender, db, "U2", "Keep a changelog entry with every pull request #process")
    open_home(sender, "U2")
    assert "A tip every week for 3 weeks in a row. Keep it going!" in home_text(slack, "U2")
