"""/peerlearn under bad values, lost rights, direct messages and corrupt rows: precise answers,
nothing stored that should not be, and one broken schedule never stops the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.circles.rounds import CircleRunner
from bot.schedules import digests
from bot.schedules.commands import ADD_USAGE, REMOVE_USAGE
from bot.schedules.posting import PostingSettings, ScheduledPoster
from bot.schedules.service import ADMINS_ONLY
from runtime.jobs import JobWorker
from runtime.scheduler import next_due, run_scheduled_posts
from storage import circles as circle_queries
from storage.db import Database
from storage.models import CircleRound, CustomPrompt, Schedule, Tip
from tests.conftest import FakeClock
from tests.scenario.test_schedules import MONDAY_0730, ledger, prompt_posts, schedules_in
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

NOT_SAID = "something went wrong"


def told(sender: SlackSender, text: str, user: str = "U4", channel: str = "C1", **payload: str) -> str:
    """What the person running `/peerlearn <text>` reads: the ack's answer, or the later one."""
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, channel=channel, command="/peerlearn", **payload)
    if answer.body:
        return str(answer.json()["text"])
    return str(sender.double.responses[before]["text"])


def schedules_listing(sender: SlackSender, user: str = "U2") -> str:
    return str(sender.command("schedules", user=user, command="/peerlearn").json()["blocks"])


def custom_prompts(db: Database) -> list[CustomPrompt]:
    with db.snapshot() as session:
        return list(session.scalars(select(CustomPrompt)))


# -- bounds --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prompt remove 99999999999999999999999", "There is no prompt `99999999999999999999999`."),
        ("prompt remove 9223372036854775808", "There is no prompt `9223372036854775808`."),
        ("prompt remove twelve", "`twelve` is not a prompt number."),
        ("prompt remove", "Which prompt? Give its number."),
    ],
)
def test_impossible_prompt_numbers_get_a_precise_answer(
    sender: SlackSender, db: Database, text: str, expected: str
) -> None:
    with db.transaction() as session:
        session.add(CustomPrompt(team_id=TEAM_ID, text="Keep me", created_by="U4"))

    said = told(sender, text)

    assert f":warning: {expected}\nUsage: {REMOVE_USAGE}" in said
    assert NOT_SAID not in said.lower()
    assert [p.removed_at for p in custom_prompts(db)] == [None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What did you learn\x00 this week?", "control character (U+0000)"),
        ("Tab\tis fine but bell \x07 is not", "control character (U+0007)"),
        ("x" * 501, "That prompt is 501 characters; the limit is 500."),
    ],
)
def test_a_prompt_with_control_characters_or_too_long_is_never_stored(
    sender: SlackSender, db: Database, text: str, expected: str
) -> None:
    said = told(sender, "prompt add " + text)

    assert expected in said and f"Usage: {ADD_USAGE}" in said
    assert custom_prompts(db) == []


@pytest.mark.parametrize("when", ["mon 99:99", "mon 9999999999:00", "mon 1e309", "mon -5:00", "mon 09:00 Mars/Olympus"])
def test_absurd_times_are_refused_in_the_ack_and_never_stored(sender: SlackSender, db: Database, when: str) -> None:
    said = told(sender, f"prompts <#C1|general> {when}")

    assert said.startswith(":warning: ") and "Usage: `/peerlearn prompts #channel" in said
    assert schedules_in(db) == []


# -- rights --------------------------------------------------------------------------------------


def test_a_demoted_admin_loses_the_right_at_once(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    assert "every day" in told(sender, "prompts <#C1|general> daily 09:00")
    slack.users["U4"]["is_admin"] = False

    said = told(sender, "digest <#C1|general> daily 17:00")

    assert said == ADMINS_ONLY
    assert [s.kind for s in schedules_in(db)] == ["prompt"]


def test_rights_are_checked_in_the_job_when_the_change_is_made(
    sender: SlackSender, slack: SlackDouble, db: Database, job_worker: JobWorker
) -> None:
    sender.concurrent = True  # Slack has its ack; the change waits in the queue
    sender.command("prompts <#C1|general> daily 09:00", user="U4", command="/peerlearn")
    slack.users["U4"]["is_admin"] = False

    job_worker.drain()

    assert slack.responses[-1]["text"] == ADMINS_ONLY
    assert schedules_in(db) == []


def test_an_admin_of_another_workspace_is_no_admin_here(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    slack.add_user("UGUEST", "guest", is_admin=True, team_id="T0OTHER")

    assert told(sender, "prompt now", user="UGUEST") == ADMINS_ONLY
    assert ledger(db) == []


def test_when_slack_cannot_say_who_is_admin_nothing_changes_and_the_person_is_told(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.fail_next("users.info", error="fatal_error")

    said = told(sender, "prompts <#C1|general> daily 09:00")

    assert "couldn't check your admin rights with Slack just now (`fatal_error`)" in said
    assert schedules_in(db) == []


# -- direct messages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "channel_name", "expected"),
    [
        ("D0U4", "directmessage", "I post digests in channels, not in direct messages"),
        ("C0MPDM", "mpdm-dave--bob-1", "I post digests in channels, not in direct messages"),
        ("G0SECRET", "privategroup", "I'm not in this conversation."),
    ],
)
def test_digest_now_in_a_direct_message_names_the_way_to_a_channel(
    sender: SlackSender, slack: SlackDouble, db: Database, channel: str, channel_name: str, expected: str
) -> None:
    said = told(sender, "digest now", channel=channel, channel_name=channel_name)

    assert expected in said and "`/peerlearn digest now #general`" in said
    assert "Usage: `/peerlearn prompt now [#channel]`" in said
    # Decided from the payload: no conversations.info (a DM would need im:read) and nothing posted.
    assert slack.calls_to("conversations.info") == [] and slack.posts() == []
    assert ledger(db) == []


def test_prompt_now_from_a_direct_message_posts_in_the_channel_it_names(
    sender: SlackSender, slack: SlackDouble
) -> None:
    sender.command(
        "prompt now <#C1|general>", user="U4", channel="D0U4", channel_name="directmessage", command="/peerlearn"
    )

    assert "Posted a learning prompt in <#C1>" in str(sender.double.responses[-1]["text"])
    assert len(prompt_posts(slack)) == 1


# -- one bad item never stops the others ---------------------------------------------------------

CORRUPT = [
    ("CBAD1", {"zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ("CBAD2", {"cadence": "hourly"}, "unknown cadence 'hourly'"),
    ("CBAD3", {"at_time": "25:99"}, "time '25:99' is not HH:MM"),
    ("CBAD4", {"cadence": "weekly", "weekday": 9}, "weekday 9 is not a day of the week"),
    ("CBAD5", {"kind": "newsletter"}, "unknown kind 'newsletter'"),
]


def store_corrupt_schedules(db: Database, now: datetime) -> None:
    """Rows as a hand edit or an older version could leave them: each breaks one rule."""
    with db.transaction() as session:
        for channel_id, broken, _ in CORRUPT:
            values: dict[str, Any] = {
                "team_id": TEAM_ID, "channel_id": channel_id, "kind": "prompt", "cadence": "daily", "weekday": None,
                "at_time": "09:00", "zone": "Europe/Berlin", "scope": "workspace", "configured_by": "U2",
                "created_at": now - timedelta(days=1), "updated_at": now - timedelta(days=1),
            }  # fmt: skip
            session.add(Schedule(**(values | broken)))


def test_corrupt_schedules_are_paused_and_their_admin_told_while_the_healthy_one_posts(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    told(sender, "prompts <#CNOBOT|random> daily 09:00 Europe/Berlin")
    store_corrupt_schedules(db, clock.now)
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    assert next_due(db, MONDAY_0730) == clock.now  # the broken rows don't break the sandbox's clock either
    report = poster.run_due()

    assert report.posted == 1 and len(prompt_posts(slack, "CNOBOT")) == 1
    paused = {s.channel_id: s.paused_reason for s in schedules_in(db) if s.channel_id.startswith("CBAD")}
    assert paused == {channel_id: f"invalid: {problem}" for channel_id, _, problem in CORRUPT}
    notices = [p["text"] for p in slack.posts("U2")]
    assert len(notices) == len(CORRUPT)
    assert all("its stored settings can't be read" in text and "Set it again" in text for text in notices)
    assert "I paused the learning prompts for <#CBAD1>" in notices[0]

    clock.advance(days=1)
    assert poster.run_due().posted == 1  # the healthy one goes on; the broken ones stay quiet
    assert len(slack.posts("U2")) == len(CORRUPT)
    listing = schedules_listing(sender)
    assert "<#CBAD5> — unknown kind · its settings can't be read: set it again" in listing
    assert "<#CNOBOT> — learning prompts, every day at 09:00 Europe/Berlin · next <!date^" in listing


def test_the_tick_runs_circle_rounds_even_when_scheduled_posts_fail(
    poster: ScheduledPoster, circle_runner: CircleRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_gone() -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(poster, "run_due", database_gone)

    report = run_scheduled_posts(poster, circle_runner)

    assert report.rounds is not None and report.posts.claimed == 0


def test_a_digest_with_unreadable_circle_answers_still_posts(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database
) -> None:
    with db.transaction() as session:
        circle = circle_queries.add_circle(
            session, team_id=TEAM_ID, name="Rust", name_key="rust", description="", channel_id="C1",
            cadence="daily", weekday=None, at_time="09:00", zone="UTC", anchor=None, questions="{not json",
            reminder_minutes=240, window_minutes=1440, owner_id="U1",
            created_at=clock.now - timedelta(days=3), updated_at=clock.now - timedelta(days=3),
        )  # fmt: skip
        round_ = CircleRound(
            team_id=TEAM_ID, circle_id=circle.id, period="p1", due_at=clock.now - timedelta(days=2),
            remind_at=clock.now - timedelta(days=2), closes_at=clock.now - timedelta(days=1), channel_id="C1",
            status="closed",
        )  # fmt: skip
        session.add(round_)
        session.flush()
        circle_queries.add_participant(session, round_, "U1", "answered")
        circle_queries.add_participant(session, round_, "U2", "invited")
        circle_queries.participant(session, round_.id, "U1").answers = "[truncated"  # type: ignore[union-attr]

    told(sender, "digest now")

    shown = str(slack.posts("C1")[-1]["blocks"])
    assert "*Learning circles*: 1 check-in round, 1 of 2 check-ins answered." in shown


# -- the digest ----------------------------------------------------------------------------------


def old_tip(db: Database, now: datetime, text: str, votes: int, days_ago: int) -> int:
    with db.transaction() as session:
        tip = Tip(
            team_id=TEAM_ID, author_id="U1", text=text, tags="", source="command", origin_channel_id="C1",
            helpful_count=votes, created_at=now - timedelta(days=days_ago),
        )  # fmt: skip
        session.add(tip)
        session.flush()
        return tip.id


def test_the_archive_resurfaces_the_most_helpful_older_tip_then_the_next(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database
) -> None:
    old_tip(db, clock.now, "Newest of the old, barely helpful", 1, 10)
    second = old_tip(db, clock.now, "Second best, and the older of two equals", 4, 90)
    old_tip(db, clock.now, "Second best, but newer", 4, 30)
    best = old_tip(db, clock.now, "The classic everyone loved", 9, 60)

    told(sender, "digest now")
    clock.advance(minutes=5)
    told(sender, "digest now")

    assert [row.resurfaced_tip_id for row in ledger(db)] == [best, second]
    assert "The classic everyone loved" in str(slack.posts("C1")[0]["blocks"])


def test_the_quiet_digest_names_the_configured_tip_emoji(
    db: Database, slack: SlackDouble, clock: FakeClock, poster: ScheduledPoster
) -> None:
    starry = ScheduledPoster(
        db, poster.slack, clock=clock, pacer=poster.pacer, settings=PostingSettings(tip_emoji="star-struck")
    )

    starry.post_now(TEAM_ID, "C1", "digest", "U4")

    shown = str(slack.posts("C1")[-1]["blocks"])
    assert "A quiet stretch" in shown and "react with :star-struck: to a message" in shown


def test_the_listing_never_shows_a_next_post_in_the_past(
    sender: SlackSender, clock: FakeClock, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    told(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")
    clock.now = datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)  # half a minute after today's post was due

    listing = schedules_listing(sender)

    tomorrow = int(datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp())
    shown = f"<!date^{tomorrow}^{{date_short_pretty}} {{time}} (your time)|2026-12-01 09:00 Europe/Berlin>"
    assert f"next {shown}" in listing


def test_a_post_that_keeps_failing_is_given_up_after_the_grace_window_and_its_admin_told(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    told(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    slack.fail_next("chat.postMessage", error="internal_error")
    assert poster.run_due().retrying == 1

    clock.advance(hours=13)  # still failing, and past the 12-hour grace window
    report = poster.run_due()

    assert report.failed == 1
    assert [row.status for row in ledger(db)] == ["failed"]
    [notice] = [p["text"] for p in slack.posts("U4")]
    assert "couldn't post the learning prompt in <#C1> (`internal_error`)" in notice
    assert "The schedule stays on" in notice
    clock.advance(minutes=1)
    assert poster.run_due().failed == 0 and len(slack.posts("U4")) == 1


def test_a_digest_that_cannot_be_built_leaves_the_others_to_post(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, poster: ScheduledPoster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    clock.now = MONDAY_0730
    told(sender, "digest <#C1|general> daily 09:00 Europe/Berlin")
    told(sender, "digest <#CNOBOT|random> daily 09:00 Europe/Berlin")
    real_gather = digests.gather

    def gather(session: Any, **kwargs: Any) -> digests.Digest:
        if kwargs["channel_id"] == "C1":
            raise ValueError("a surprise in this channel's data")
        return real_gather(session, **kwargs)

    monkeypatch.setattr(digests, "gather", gather)
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    report = poster.run_due()

    assert (report.posted, report.retrying) == (1, 1)
    assert "peer learning" in str(slack.posts("CNOBOT")[-1]["blocks"]) and slack.posts("C1") == []
    assert {row.channel_id: row.status for row in ledger(db)} == {"C1": "pending", "CNOBOT": "posted"}
