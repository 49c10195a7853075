"""/tip end to end: signed requests -> the real Bolt app -> the Slack double and the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from runtime.jobs import JobWorker
from storage.db import Database
from storage.models import Job, Tip
from tests.conftest import FakeClock
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def tip_count(db: Database) -> int:
    with db.snapshot() as session:
        return session.scalar(select(func.count()).select_from(Tip)) or 0


def only_tip(db: Database) -> Tip:
    with db.snapshot() as session:
        return session.scalars(select(Tip)).one()


def test_tip_is_saved_posted_and_linked(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    response = sender.command("Use `git worktree` to review PRs without stashing #Git #review")

    assert response.status == 200
    post = slack.wait_for(lambda: slack.posts("C1"), message="the tip post")[0]
    tip = slack.wait_for(lambda: only_tip(db).permalink and only_tip(db), message="the stored permalink")
    assert tip.author_id == "U1"
    assert tip.tags == "git review"
    assert tip.origin_channel_id == tip.channel_id == "C1"
    assert tip.message_ts == slack.channels["C1"].messages[-1]["ts"]
    assert tip.permalink.startswith("https://peerlearn-test.slack.com/archives/C1/p")
    rendered = str(post["blocks"])
    assert f"Tip #{tip.number}" in rendered and "<@U1>" in rendered
    assert "`#git`" in rendered and "React to this message if it helped you" in rendered


def test_mentions_in_a_tip_ping_nobody(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    sender.command("Hey <!channel> and <!here|here> & <!everyone>: read <https://x.test|the docs> > guessing")

    post = slack.wait_for(lambda: slack.posts("C1"), message="the tip post")[0]
    everything = post["text"] + str(post["blocks"])
    for live in ("<!channel>", "<!here", "<!everyone>", "<https://"):
        assert live not in everything
    assert "@channel" in everything and "&amp;" in everything and "&gt; guessing" in everything
    assert "link_names" not in post and "parse" not in post
    assert "<!channel>" not in only_tip(db).text and "@channel" in only_tip(db).text


def test_over_long_tip_is_refused_before_anything_is_stored(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    response = sender.command("x" * 3001)

    assert response.status == 200
    assert "3,001 characters" in response.json()["text"] and "3,000" in response.json()["text"]
    assert tip_count(db) == 0
    assert slack.posts() == []


def test_a_tip_of_3000_characters_full_of_markup_stays_within_block_limits(
    sender: SlackSender, slack: SlackDouble
) -> None:
    sender.command("<&> " * 750)

    slack.wait_for(lambda: slack.posts("C1"), message="the tip post")
    assert slack.block_errors == []


def test_bot_joins_a_public_channel_it_is_not_in(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    sender.command("Pin the channels you read daily", channel="CNOBOT")

    slack.wait_for(lambda: slack.posts("CNOBOT") and slack.channels["CNOBOT"].messages, message="post after join")
    assert slack.calls_to("conversations.join") == [{"channel": "CNOBOT"}]
    slack.wait_for(lambda: only_tip(db).channel_id == "CNOBOT", message="the post recorded on the tip")


def test_private_channel_saves_the_tip_and_explains(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    sender.command("Private wisdom stays in the team", channel="CPRIV")

    reply = slack.wait_for(lambda: slack.responses, message="an ephemeral explanation")[0]
    assert "is saved" in reply["text"] and "/invite @Peerlearn" in reply["text"]
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    tip = only_tip(db)
    assert tip.text == "Private wisdom stays in the team"
    assert tip.channel_id is None and tip.origin_channel_id == "CPRIV"


def test_archived_channel_keeps_the_tip_and_says_why(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    sender.command("Old channels still teach", channel="CARCH")

    reply = slack.wait_for(lambda: slack.responses, message="an explanation")[0]
    assert "archived" in reply["text"] and "is saved" in reply["text"]
    assert tip_count(db) == 1


def test_rate_limited_post_goes_back_to_the_queue_for_its_retry_after(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    sender.command("Retry politely after a 429")

    # No worker thread slept on the Retry-After: the job is back in the queue until it has passed,
    # the 429 not counted as an attempt, and nobody told of a failure.
    assert not slack.channels["C1"].messages and not slack.responses
    with db.queue.snapshot() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts, job.due_at) == ("queued", 0, clock() + timedelta(seconds=1))
    assert job_worker.drain() == 0  # not before then
    clock.advance(seconds=1)
    job_worker.drain()
    assert len(slack.channels["C1"].messages) == 1 and len(slack.posts("C1")) == 2
    assert only_tip(db).message_ts == slack.channels["C1"].messages[0]["ts"]


def test_server_errors_are_retried(sender: SlackSender, slack: SlackDouble) -> None:
    slack.fail_next("chat.postMessage", status=503)

    sender.command("Backoff is a kindness")

    slack.wait_for(lambda: slack.channels["C1"].messages, message="the post after a 503")
    assert len(slack.posts("C1")) == 2


def test_slow_slack_does_not_delay_the_ack(sender: SlackSender, slack: SlackDouble) -> None:
    slack.slow_next("chat.postMessage", 2.0)

    response = sender.command("Answer first, work after")

    assert response.status == 200 and response.elapsed < 0.5
    slack.wait_for(lambda: slack.channels["C1"].messages, message="the slow post")


def test_bare_tip_opens_the_composer(sender: SlackSender, slack: SlackDouble) -> None:
    sender.command("")

    opened = slack.wait_for(lambda: slack.calls_to("views.open"), message="views.open")[0]
    assert opened["view"]["callback_id"] == "tip_compose"
    assert opened["view"]["blocks"][2]["element"]["initial_conversation"] == "C1"
    assert slack.block_errors == []


def test_help_and_unknown_usage(sender: SlackSender) -> None:
    help_text = str(sender.command("help").json()["blocks"])
    assert "/tip search" in help_text and "/tip top" in help_text and "/tip delete 42" in help_text
    assert "react with :bulb: to turn a message into a tip" in help_text  # the workspace's tip emoji, named

    wrong = sender.command("top yesterday").json()
    assert wrong["response_type"] == "ephemeral"
    assert "`yesterday` is not a window" in str(wrong["blocks"])
    assert "Give the tip's number" in str(sender.command("delete abc").json()["blocks"])


def test_acks_stay_fast_while_slack_is_slow_and_every_listener_thread_is_busy(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    for _ in range(24):  # the test app has 8 listener threads: three rounds of slow posts
        slack.slow_next("chat.postMessage", 1.0)
    sender.concurrent = True

    acks = [sender.command(f"Slow Slack lesson {n}").elapsed for n in range(24)]

    sender.concurrent = False
    sender.settle()  # type: ignore[misc]
    assert max(acks) < 0.3
    slack.wait_for(lambda: len(slack.channels["C1"].messages) == 24, timeout=10, message="every tip posted")
