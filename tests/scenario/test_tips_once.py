"""Issue #9 §1: every tip effect happens once, even when its job runs twice.

A worker killed with kill -9 leaves its job "running" until its lease runs out; another worker then
runs the same Slack request again. `Killed` stands for that death: a BaseException, so nothing in
the listener, Bolt or the worker catches it, the transaction in progress rolls back, and the job
row keeps its lease. Advancing the clock past the lease and draining again is the rerun.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient

from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.tips import rules
from runtime.jobs import JobWorker
from runtime.settings import Settings
from storage.db import Database
from storage.models import Tip
from tests.conftest import FakeClock
from tests.scenario.helpers import all_tips
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

PAST_THE_LEASE = {"minutes": 6}


class Killed(BaseException):
    """The job worker's process dying at this point (kill -9)."""


@pytest.fixture
def client(settings: Settings) -> WebClient:
    """Slack's client with a short timeout, so a late answer reads as a timeout within the test."""
    client = build_client(settings.bot_token, settings.slack_api_url, max_retries=2)
    client.timeout = 1
    return client


class Killer:
    """kill(owner, name, when=...): the worker dies instead of the next `times` calls of owner.name
    for which `when(*args)` holds; after those (or `heal()`), the function works again."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._armed: list[list[int]] = []

    def __call__(
        self, owner: Any, name: str, when: Callable[..., bool] = lambda *_, **__: True, times: int = 1
    ) -> None:
        real = getattr(owner, name)
        left = [times]
        self._armed.append(left)

        def dying(*args: Any, **kwargs: Any) -> Any:
            if left[0] > 0 and when(*args, **kwargs):
                left[0] -= 1
                raise Killed(name)
            return real(*args, **kwargs)

        self._monkeypatch.setattr(owner, name, dying)

    def heal(self) -> None:
        for left in self._armed:
            left[0] = 0


@pytest.fixture
def kill(monkeypatch: pytest.MonkeyPatch) -> Killer:
    return Killer(monkeypatch)


def rerun(clock: FakeClock, job_worker: JobWorker) -> None:
    clock.advance(**PAST_THE_LEASE)
    job_worker.drain()


def assert_each_tip_posted_once_and_linked(db: Database, slack: SlackDouble, channel: str, count: int) -> None:
    tips = all_tips(db)
    posts = [m for m in slack.channels[channel].messages if m.get("bot_id")]
    assert len(tips) == count and len(posts) == count
    assert sorted(t.message_ts or "" for t in tips) == sorted(m["ts"] for m in posts)
    for tip in tips:
        post = next(m for m in posts if m["ts"] == tip.message_ts)
        assert post["metadata"]["event_type"] == "peerlearn_tip"
        assert post["metadata"]["event_payload"] == {"request_key": tip.request_key, "tip_id": tip.id}
        assert tip.permalink and tip.channel_id == channel


# -- /tip share --------------------------------------------------------------------------------


def test_a_share_killed_after_slack_took_the_post_is_linked_not_posted_again(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    kill(rules, "record_post")

    with pytest.raises(Killed):
        sender.command("Read the stack trace from the bottom up")
    assert len(slack.posts("C1")) == 1 and all_tips(db)[0].message_ts is None
    rerun(clock, job_worker)

    assert_each_tip_posted_once_and_linked(db, slack, "C1", 1)
    assert len(slack.posts("C1")) == 1
    assert slack.responses == []  # nothing to tell: the tip is where it should be


def test_a_share_killed_before_posting_is_posted_once_by_the_rerun(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    kill(SlackGateway, "post")

    with pytest.raises(Killed):
        sender.command("Name the branch after the ticket number")
    assert len(all_tips(db)) == 1 and slack.channels["C1"].messages == []
    rerun(clock, job_worker)

    assert_each_tip_posted_once_and_linked(db, slack, "C1", 1)
    [lookup] = slack.calls_to("conversations.history")  # the rerun looked before it posted
    assert lookup["include_all_metadata"] in ("1", "true", True) and float(lookup["oldest"]) > 1_700_000_000


def test_a_post_that_timed_out_but_reached_slack_is_linked_and_not_reported_as_failed(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.answer_late_next("chat.postMessage", 2.0)

    sender.command("Timeouts do not mean it did not happen")

    assert_each_tip_posted_once_and_linked(db, slack, "C1", 1)
    assert slack.responses == []


def test_many_shares_with_a_worker_killed_mid_flight_make_each_tip_and_post_once(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    # The scene in small: shares queued, the worker dies holding them (some posted, some not).
    sender.concurrent = True
    for n in range(12):
        sender.command(f"Lesson {n} learned the hard way ({'before' if n % 2 else 'after'})")
    sender.concurrent = False
    kill(SlackGateway, "post", when=lambda _self, channel, text, *a, **k: "(before)" in text, times=99)
    kill(rules, "record_post", when=lambda _session, tip, *a: "(after)" in tip.text, times=99)

    with pytest.raises(Killed):
        job_worker.drain()
    posted_before_rerun = len(slack.posts("C1"))
    kill.heal()
    rerun(clock, job_worker)

    assert posted_before_rerun > 0
    assert_each_tip_posted_once_and_linked(db, slack, "C1", 12)
    assert len(slack.posts("C1")) == 12


# -- the composer, the button, Save as tip, the tip emoji, delete --------------------------------


def test_a_composed_tip_killed_after_its_post_is_linked_once(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    kill(rules, "record_post")
    values = {
        "text": {"text": {"type": "plain_text_input", "value": "Prefer composition over inheritance"}},
        "tags": {"tags": {"type": "plain_text_input", "value": "design"}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
    }
    view = {"type": "modal", "callback_id": "tip_compose", "private_metadata": json.dumps({"origin_channel_id": "C1"})}

    with pytest.raises(Killed):
        sender.view_submission(user="U1", view=view, values=values)
    slack.fail_next("conversations.info", error="ratelimited", times=3)  # the channel check's Slack, away
    rerun(clock, job_worker)

    assert_each_tip_posted_once_and_linked(db, slack, "C1", 1)
    assert not [c for c in slack.calls_to("chat.postEphemeral") if "wasn't shared" in c["text"]]  # it was


def test_a_replayed_share_anyway_press_shares_once(sender: SlackSender, slack: SlackDouble, db: Database) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": TEAM_ID},
        "trigger_id": "trigger-share-anyway-1",
        "response_url": slack.response_url(),
        "channel": {"id": "C1", "name": "general"},
        "container": {"type": "message", "is_ephemeral": True},
        "actions": [{"type": "button", "action_id": "tip_share_anyway", "block_id": "b", "value": "serach docker"}],
        "team": {"id": TEAM_ID, "domain": "peerlearn-test"},
        "api_app_id": "A0PEERLEARN",
        "token": "legacy-verification-token",
    }
    body = urlencode({"payload": json.dumps(payload)})

    for _ in range(3):  # the same signed request, replayed
        assert sender.post(body, "application/x-www-form-urlencoded").status == 200

    assert_each_tip_posted_once_and_linked(db, slack, "C1", 1)
    assert all_tips(db)[0].text == "serach docker"
    assert all(r.get("replace_original") for r in slack.responses)


def test_save_as_tip_killed_before_marking_the_message_finishes_on_the_rerun(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    ts = slack.add_message("C1", "U2", "Squash fixups before merging")
    kill(SlackGateway, "add_reaction")

    with pytest.raises(Killed):
        sender.message_shortcut(user="U1", channel="C1", message=slack.message("C1", ts))
    rerun(clock, job_worker)

    [tip] = all_tips(db)
    [reply] = slack.responses
    assert f"as tip #{tip.number}" in reply["text"] and "already" not in reply["text"]
    assert slack.message("C1", ts)["reactions"][0]["users"] == ["UBOT"]


def test_a_capture_by_emoji_killed_before_telling_tells_on_the_rerun(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    ts = slack.add_message("C1", "U2", "Pin your dependencies in CI")
    kill(SlackGateway, "tell")

    with pytest.raises(Killed):
        sender.reaction("reaction_added", "U1", "C1", ts, "bulb", item_user="U2")
    rerun(clock, job_worker)

    [tip] = all_tips(db)
    assert tip.helpful_count == 1
    [note] = slack.calls_to("chat.postEphemeral")
    assert f"tip #{tip.number}" in note["text"]


def test_a_delete_killed_before_slack_heard_of_it_finishes_on_the_rerun(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    sender.command("Delete me later, a tip to remove")
    [tip] = all_tips(db)
    kill(SlackGateway, "delete_message")

    with pytest.raises(Killed):
        sender.command(f"delete {tip.number}")
    assert all_tips(db) == [] and len(slack.channels["C1"].messages) == 1
    rerun(clock, job_worker)

    assert slack.channels["C1"].messages == []
    assert slack.responses[-1]["text"] == f":wastebasket: Tip #{tip.number} is deleted."


def test_request_keys_are_unique_per_team(db: Database) -> None:
    draft = rules.draft_tip("A tip made by one request")
    with db.transaction() as session:
        first = rules.share_tip_once(
            session, team_id="T1", author_id="U1", draft=draft, source="command", origin_channel_id="C1",
            request_key="t:abc",
        )  # fmt: skip
        again = rules.share_tip_once(
            session, team_id="T1", author_id="U1", draft=draft, source="command", origin_channel_id="C1",
            request_key="t:abc",
        )  # fmt: skip
        other_team = rules.share_tip_once(
            session, team_id="T2", author_id="U1", draft=draft, source="command", origin_channel_id="C1",
            request_key="t:abc",
        )  # fmt: skip
    assert first.created and not again.created and again.tip.id == first.tip.id
    assert other_team.created and other_team.tip.id != first.tip.id
    with db.snapshot() as session:
        assert session.query(Tip).count() == 2


# slack_sdk retries a call whose connection dropped; for chat.postMessage Slack may already have
# posted, so the client leaves it to the share, which looks for its post before posting again.
def test_a_post_whose_connection_drops_after_slack_took_it_is_made_once(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.drop_next("chat.postMessage")
    sender.command("Use git bisect run to find the commit that broke a test #git", user="U1", channel="C1")
    tips = all_tips(db)
    posts = [m for m in slack.channels["C1"].messages if "bisect" in str(m.get("text"))]
    assert len(tips) == 1 and len(posts) == 1
    assert tips[0].message_ts == posts[0]["ts"]  # linked: votes on it count
