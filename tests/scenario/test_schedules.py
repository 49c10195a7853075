"""Prompts and digests: configure by /peerlearn, the scheduler fires on the test clock, posts reach Slack."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.schedules.posting import ScheduledPoster
from bot.schedules.recording import LedgerRecorder
from storage.db import Database
from storage.models import Schedule, ScheduledPost, Tip, TipVote
from tests.conftest import ADMIN_ID, FakeClock
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

# Monday 2026-11-30, 07:30 UTC = 08:30 in Berlin.
MONDAY_0730 = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)


def peerlearn(sender: SlackSender, text: str, user: str = "U4", channel: str = "C1") -> str:
    """Run /peerlearn and return what the person is told."""
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, channel=channel, command="/peerlearn")
    if answer.body:
        return str(answer.json())
    return str(sender.double.responses[before]["text"])


def slack_time(moment: datetime, fallback: str) -> str:
    """How a moment is shown: in each reader's own zone by Slack, marked so beside the schedule's own
    zone; the schedule's zone as fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}} (your time)|{fallback}>"


def schedules_in(db: Database) -> list[Schedule]:
    with db.snapshot() as session:
        return list(session.scalars(select(Schedule).order_by(Schedule.id)))


def ledger(db: Database) -> list[ScheduledPost]:
    with db.snapshot() as session:
        return list(session.scalars(select(ScheduledPost).order_by(ScheduledPost.id)))


def prompt_posts(slack: SlackDouble, channel: str = "C1") -> list[dict[str, Any]]:
    """Prompt messages that exist in the channel (not attempts to post them)."""
    return [m for m in slack.channels[channel].messages if "Learning prompt" in str(m.get("blocks"))]


# -- configuring -------------------------------------------------------------------------------


def test_admin_schedules_prompts_and_sees_the_next_post_time(
    sender: SlackSender, clock: FakeClock, db: Database
) -> None:
    clock.now = MONDAY_0730

    said = peerlearn(sender, "prompts <#C1|general> mon 09:00 Europe/Berlin")

    assert "every Monday at 09:00 Europe/Berlin" in said
    next_post = slack_time(datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "2026-11-30 09:00 Europe/Berlin")
    assert f"Next post: *{next_post}*" in said
    [schedule] = schedules_in(db)
    assert (schedule.channel_id, schedule.kind, schedule.cadence, schedule.weekday) == ("C1", "prompt", "weekly", 0)
    assert (schedule.at_time, schedule.zone, schedule.configured_by) == ("09:00", "Europe/Berlin", "U4")


def test_time_zone_defaults_to_the_admins_own(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database
) -> None:
    clock.now = MONDAY_0730
    slack.users["U4"]["tz"] = "America/New_York"

    said = peerlearn(sender, "digest #general weekdays 17:30 channel-only")

    assert "every weekday (Mon–Fri) at 17:30 America/New_York" in said
    next_post = slack_time(datetime(2026, 11, 30, 22, 30, tzinfo=UTC), "2026-11-30 17:30 America/New_York")
    assert f"Next post: *{next_post}*" in said
    assert "only tips shared in that channel" in said
    assert schedules_in(db)[0].scope == "channel"


def test_only_admins_change_schedules(sender: SlackSender, db: Database) -> None:
    said = peerlearn(sender, "prompts <#C1|general> daily 09:00", user="U2")

    assert "Only workspace admins" in said
    assert schedules_in(db) == []
    assert "every day" in peerlearn(sender, "prompts <#C1|general> daily 09:00", user=ADMIN_ID)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prompts <#C1|general> funday 09:00", "`funday` is not a cadence"),
        ("prompts <#C1|general> biweekly funday 09:00", "`funday` is not a weekday"),
        ("prompts <#C1|general> mon 25:00", "`25:00` is not a time of day"),
        ("digest <#C1|general> mon 09:00 Mars/Olympus", "`Mars/Olympus` is not a time zone"),
        ("digest <#C1|general> mon", "Say at what time"),
        ("digest general mon 09:00", "`general` is not a channel"),
        ("prompts <#CPRIV|secret> mon 09:00", "I can't see"),
        ("prompts <#CARCH|old-news> mon 09:00", "archived"),
        ("prompts #nope mon 09:00", "I can't find #nope"),
        ("frobnicate", "I don't know `frobnicate`"),
    ],
)
def test_bad_input_is_explained_with_an_example_and_changes_nothing(
    sender: SlackSender, db: Database, text: str, expected: str
) -> None:
    said = peerlearn(sender, text)

    assert expected in said
    assert schedules_in(db) == []


def test_schedules_lists_everything_with_next_times_and_off_removes(
    sender: SlackSender, clock: FakeClock, db: Database
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "prompts <#C1|general> mon 09:00 Europe/Berlin")
    peerlearn(sender, "digest <#CNOBOT|random> biweekly fri 16:00 UTC")

    listing = peerlearn(sender, "schedules", user="U2")

    prompts_next = slack_time(datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "2026-11-30 09:00 Europe/Berlin")
    digest_next = slack_time(datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "2026-12-04 16:00 UTC")
    assert f"<#C1> — learning prompts, every Monday at 09:00 Europe/Berlin · next {prompts_next}" in listing
    assert f"<#CNOBOT> — digest, every other Friday at 16:00 UTC · next {digest_next}" in listing
    assert "No more learning prompts in <#C1>" in peerlearn(sender, "prompts <#C1|general> off")
    assert [s.channel_id for s in schedules_in(db)] == ["CNOBOT"]
    assert "nothing changed" in peerlearn(sender, "prompts <#C1|general> off")


# -- firing ------------------------------------------------------------------------------------


def test_prompt_fires_once_per_period_and_rotates(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")

    assert poster.run_due().claimed == 0
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 Berlin
    assert poster.run_due().posted == 1
    assert poster.run_due().claimed == 0  # a retried tick
    clock.advance(minutes=1)
    assert poster.run_due().claimed == 0  # the next tick, same period
    first = prompt_posts(slack)
    assert len(first) == 1
    clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    poster.run_due()

    posts = prompt_posts(slack)
    assert len(posts) == 2 and posts[0]["blocks"] != posts[1]["blocks"]
    assert [row.period for row in ledger(db)] == ["2026-11-30", "2026-12-01"]
    assert posts[0]["metadata"]["event_payload"]["ledger_id"] == ledger(db)[0].id


def test_a_missed_post_is_made_when_back_within_grace_and_skipped_after(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    poster: ScheduledPoster,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")

    clock.now = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # down from 08:59 until 15:00 Berlin
    assert poster.run_due().posted == 1
    clock.now = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # down all of the next day: 13 h late
    with caplog.at_level(logging.WARNING):
        report = poster.run_due()

    assert report.posted == 0 and report.skipped == 1
    assert "skipped" in caplog.text
    assert len(prompt_posts(slack)) == 1
    assert [row.status for row in ledger(db)] == ["posted", "skipped"]
    assert poster.run_due().claimed == 0


def test_nothing_is_owed_for_times_before_the_schedule_existed(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, poster: ScheduledPoster
) -> None:
    clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 11:00 Berlin, after today's 09:00
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")

    assert poster.run_due().claimed == 0
    assert prompt_posts(slack) == []


def test_rate_limited_post_is_retried_and_made_once(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    assert poster.run_due().posted == 1
    assert len(prompt_posts(slack)) == 1


def test_server_errors_beyond_retries_are_retried_on_a_later_tick(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    slack.fail_next("chat.postMessage", status=503, times=3)  # three tries (the first and two that looked first)

    assert poster.run_due().retrying == 1
    assert ledger(db)[0].status == "pending"
    clock.advance(minutes=3)

    assert poster.run_due().posted == 1
    assert len(prompt_posts(slack)) == 1
    assert ledger(db)[0].attempts == 2


def test_a_crash_after_slack_got_the_post_does_not_post_again(
    sender: SlackSender,
    slack: SlackDouble,
    clock: FakeClock,
    db: Database,
    poster: ScheduledPoster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    real_record = LedgerRecorder.record_posted

    def crash(self: LedgerRecorder, post_id: int, ts: str) -> object:
        raise KeyboardInterrupt("the process died right after Slack answered")

    monkeypatch.setattr(LedgerRecorder, "record_posted", crash)
    with pytest.raises(KeyboardInterrupt):
        poster.run_due()
    monkeypatch.setattr(LedgerRecorder, "record_posted", real_record)
    assert ledger(db)[0].status == "pending" and len(prompt_posts(slack)) == 1

    clock.advance(minutes=6)  # the claim's lease runs out; a restarted scheduler looks again
    restarted = ScheduledPoster(db, poster.slack, clock=clock, pacer=poster.pacer, holder="test-1")

    assert restarted.run_due().posted == 1
    assert len(prompt_posts(slack)) == 1
    assert ledger(db)[0].status == "posted"
    assert ledger(db)[0].message_ts == slack.channels["C1"].messages[-1]["ts"]


def test_an_archived_channel_pauses_the_schedule_and_tells_its_admin(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "digest <#C1|general> daily 09:00 Europe/Berlin")
    slack.channels["C1"].is_archived = True
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    poster.run_due()

    [schedule] = schedules_in(db)
    assert schedule.paused_reason == "is_archived"
    [notice] = [p for p in slack.posts() if p["channel"] == "U4"]
    assert "paused the digest for <#C1>" in notice["text"] and "archived" in notice["text"]
    assert "paused (is_archived)" in peerlearn(sender, "schedules")
    clock.advance(days=1)
    assert poster.run_due().claimed == 0


def test_one_channel_failing_never_blocks_the_others(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = MONDAY_0730
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")
    peerlearn(sender, "prompts <#CNOBOT|random> daily 09:00 Europe/Berlin")
    slack.channels["C1"].is_archived = True
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    report = poster.run_due()

    assert report.posted == 1 and report.claimed == 2
    assert len(prompt_posts(slack, "CNOBOT")) == 1


# -- post now, custom prompts, replies ----------------------------------------------------------


def test_prompt_now_posts_here_through_the_ledger(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    said = peerlearn(sender, "prompt now")

    assert "Posted a learning prompt in <#C1>" in said
    assert len(prompt_posts(slack)) == 1
    assert ledger(db)[0].period.startswith("now:") and ledger(db)[0].status == "posted"
    assert "Only workspace admins" in peerlearn(sender, "prompt now", user="U2")


def test_custom_prompts_join_the_rotation(
    sender: SlackSender, slack: SlackDouble, db: Database, poster: ScheduledPoster
) -> None:
    said = peerlearn(sender, "prompt add What did you &lt;b&gt;automate&lt;/b&gt; this week? &amp; why")
    assert "Added prompt `1`" in said  # the workspace's first, whatever the database id
    assert "&lt;b&gt;" in said
    assert "`1` What did you &lt;b&gt;automate" in peerlearn(sender, "prompt list", user="U2")

    texts = set()
    for _ in range(48):  # 47 built-in + 1 custom: the whole bank, each once
        poster.post_now("T0TEST", "C1", "prompt", "U4")
    for post in prompt_posts(slack):
        texts.add(post["blocks"][1]["text"]["text"])
    assert len(texts) == 48
    assert any("automate" in text for text in texts)
    poster.post_now("T0TEST", "C1", "prompt", "U4")  # the 49th starts a new cycle
    assert ledger(db)[-1].prompt_cycle == 1
    assert "Removed prompt `1`" in peerlearn(sender, "prompt remove 1")
    assert "There is no custom prompt `1`" in peerlearn(sender, "prompt remove 1")


def test_replies_in_a_prompt_thread_are_counted_once(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    peerlearn(sender, "prompt now")
    prompt_ts = ledger(db)[0].message_ts
    reply = {"type": "message", "channel": "C1", "user": "U2", "text": "I learned X", "ts": "1800000000.000100"}

    sender.event({**reply, "thread_ts": prompt_ts}, event_id="EvREPLY1")
    sender.event({**reply, "thread_ts": prompt_ts}, event_id="EvREPLY1", retry_num=1)
    sender.event({**reply, "ts": "1800000000.000200", "thread_ts": prompt_ts}, event_id="EvREPLY2")
    sender.event({**reply, "ts": "1800000000.000300"}, event_id="EvTOPLEVEL")
    sender.event({**reply, "ts": "1800000000.000400", "thread_ts": "1700000000.999999"}, event_id="EvOTHER")

    assert ledger(db)[0].reply_count == 2


# -- digests -------------------------------------------------------------------------------


def seed_week(db: Database, now: datetime) -> dict[str, int]:
    """A week of tips and votes ending at `now`, and an older favourite."""
    with db.transaction() as session:

        def tip(text: str, author: str, days_ago: float, channel: str = "C1", votes: tuple[str, ...] = ()) -> int:
            row = Tip(
                team_id="T0TEST", author_id=author, text=text, tags="", source="command", origin_channel_id=channel,
                helpful_count=len(votes), created_at=now - timedelta(days=days_ago),
                permalink=f"https://peerlearn-test.slack.com/archives/{channel}/p{int(days_ago * 1000)}",
            )  # fmt: skip
            session.add(row)
            session.flush()
            for voter in votes:
                voted = now - timedelta(days=days_ago) + timedelta(hours=1)
                session.add(TipVote(tip_id=row.id, user_id=voter, team_id="T0TEST", author_id=author, created_at=voted))
            return row.id

        return {
            "star": tip("Use EXPLAIN ANALYZE before adding an index", "U1", 2, votes=("U2", "U3", "U4")),
            "good": tip("Keep PRs under 300 lines", "U2", 3, votes=("U1",)),
            "elsewhere": tip(
                "Record a 2-minute Loom instead of a long thread", "U3", 1, channel="CNOBOT", votes=("U1", "U2")
            ),
            "quiet": tip("Nobody voted for this yet", "U3", 4),
            "classic": tip("Write the commit message first", "U1", 60, votes=("U2", "U3", "U4")),
        }


def test_digest_tells_the_week(sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database) -> None:
    ids = seed_week(db, clock.now)

    peerlearn(sender, "digest now")

    [post] = [p for p in slack.posts("C1") if "peer learning" in str(p["blocks"])]
    shown = str(post["blocks"])
    assert "This week in peer learning" in shown
    assert "*4 tips* shared by *3 people*" in shown
    order = [shown.index(text) for text in ("EXPLAIN ANALYZE", "2-minute Loom", "Keep PRs under 300")]
    assert order == sorted(order)
    assert "Nobody voted" not in shown
    assert "*Top teachers* (helpful votes received): <@U1> (3), <@U3> (2), <@U2> (1)" in shown
    assert "From the archive" in shown and "Write the commit message first" in shown
    assert slack.block_errors == []
    assert ledger(db)[0].resurfaced_tip_id == ids["classic"]


def test_channel_only_digest_counts_only_that_channels_tips(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database
) -> None:
    seed_week(db, clock.now)
    peerlearn(
        sender, f"digest <#C1|general> daily {(clock.now + timedelta(hours=1)).strftime('%H:%M')} UTC channel-only"
    )

    peerlearn(sender, "digest now")

    shown = str(next(p for p in slack.posts("C1") if "peer learning" in str(p["blocks"]))["blocks"])
    assert "Loom" not in shown and "*3 tips* shared by *3 people*" in shown


def test_a_quiet_week_gets_an_encouraging_digest(sender: SlackSender, slack: SlackDouble) -> None:
    peerlearn(sender, "digest now")

    shown = str(slack.posts("C1")[-1]["blocks"])
    assert "A quiet stretch" in shown and "/tip" in shown
    assert "Top teachers" not in shown


def test_digest_of_long_tips_stays_within_block_limits(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, db: Database
) -> None:
    with db.transaction() as session:
        for n in range(8):
            session.add(
                Tip(team_id="T0TEST", author_id=f"U{n}", text="<!channel> &" * 270, tags="", source="command",
                    helpful_count=9 - n, created_at=clock.now - timedelta(days=1))
            )  # fmt: skip

    peerlearn(sender, "digest now")

    assert slack.block_errors == []
    post = str(slack.posts("C1")[-1])
    assert "<!channel>" not in post


def test_digest_recaps_the_periods_prompt(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    peerlearn(sender, "prompt now")
    prompt_ts = ledger(db)[0].message_ts
    for n in range(3):
        sender.event(
            {
                "type": "message",
                "channel": "C1",
                "user": "U2",
                "text": "answer",
                "ts": f"1800000000.00{n}",
                "thread_ts": prompt_ts,
            }
        )
    clock.advance(minutes=5)

    peerlearn(sender, "digest now")

    shown = str(slack.posts("C1")[-1]["blocks"])
    assert "*The prompt:*" in shown and "3 replies in its thread." in shown


def fire_times(poster: ScheduledPoster, clock: FakeClock, db: Database, start: datetime, days: int) -> list[str]:
    """Tick every 15 minutes for `days` days; the UTC times of the posts that were made."""
    clock.now = start
    while clock.now < start + timedelta(days=days):
        poster.run_due()
        clock.advance(minutes=15)
    return [row.due_at.strftime("%m-%d %H:%M") for row in ledger(db) if row.status == "posted"]


def test_daylight_saving_keeps_the_wall_clock_through_the_whole_path(
    sender: SlackSender, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = datetime(2027, 3, 26, 0, 0, tzinfo=UTC)
    peerlearn(sender, "prompts <#C1|general> daily 09:00 Europe/Berlin")
    peerlearn(sender, "digest <#CNOBOT|random> daily 02:30 Europe/Berlin")

    fire_times(poster, clock, db, datetime(2027, 3, 26, 0, 0, tzinfo=UTC), days=4)

    prompts_at = [r.due_at.strftime("%m-%d %H:%M") for r in ledger(db) if r.kind == "prompt"]
    digests_at = [r.due_at.strftime("%m-%d %H:%M") for r in ledger(db) if r.kind == "digest"]
    assert prompts_at == ["03-26 08:00", "03-27 08:00", "03-28 07:00", "03-29 07:00"]  # CET, then CEST
    # 02:30 does not exist on 2027-03-28: that day's digest goes out at 03:00 CEST (01:00 UTC), once.
    assert digests_at == ["03-26 01:30", "03-27 01:30", "03-28 01:00", "03-29 00:30"]


def test_the_repeated_hour_in_october_posts_once(
    sender: SlackSender, clock: FakeClock, db: Database, poster: ScheduledPoster
) -> None:
    clock.now = datetime(2027, 10, 29, 0, 0, tzinfo=UTC)
    peerlearn(sender, "prompts <#C1|general> daily 02:30 Europe/Berlin")

    fire_times(poster, clock, db, datetime(2027, 10, 29, 0, 0, tzinfo=UTC), days=4)

    # 2027-10-31 has 02:30 twice (CEST, then CET): one post, at the first.
    assert [r.due_at.strftime("%m-%d %H:%M") for r in ledger(db)] == [
        "10-29 00:30",
        "10-30 00:30",
        "10-31 00:30",
        "11-01 01:30",
    ]
