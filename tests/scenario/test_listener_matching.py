"""The app's listeners are tried with cheaper matchers (runtime/matchers.py): the same one takes each request."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.circles.rounds import CircleRunner
from bot.schedules.posting import ScheduledPoster
from runtime import factory
from runtime.factory import build_app
from runtime.settings import Settings
from storage.db import Database
from tests.conftest import FakeClock
from tests.slack_double import BOT_USER_ID, TEAM_ID

FORM = "application/x-www-form-urlencoded"


def command(name: str, text: str) -> tuple[str, str]:
    return urlencode({"team_id": TEAM_ID, "user_id": "U1", "channel_id": "C1", "command": name, "text": text}), FORM


def event(kind: str, **fields: Any) -> tuple[str, str]:
    body = {"team_id": TEAM_ID, "type": "event_callback", "event_id": "Ev1", "event": {"type": kind, **fields}}
    return json.dumps(body), "application/json"


def interaction(kind: str, **fields: Any) -> tuple[str, str]:
    payload = {"type": kind, "team": {"id": TEAM_ID}, "user": {"id": "U1", "team_id": TEAM_ID}, **fields}
    return urlencode({"payload": json.dumps(payload)}), FORM


def button(action_id: str) -> tuple[str, str]:
    return interaction("block_actions", actions=[{"type": "button", "action_id": action_id, "value": "1"}])


def form(callback_id: str) -> tuple[str, str]:
    return interaction("view_submission", view={"type": "modal", "callback_id": callback_id, "state": {"values": {}}})


REQUESTS = [
    command("/tip", "Use git worktree to review without stashing"),
    command("/tip", "search docker cache"),
    command("/circle", "list"),
    command("/peerlearn", "schedules"),
    command("/mentor", "me"),
    command("/unknown", "x"),
    event("reaction_added", user="U1", reaction="+1", item={"type": "message", "channel": "C1", "ts": "1.2"}),
    event("reaction_removed", user="U1", reaction="+1", item={"type": "message", "channel": "C1", "ts": "1.2"}),
    event("message", user="U1", channel="C1", ts="2.0", text="lunch?"),
    event("message", user="U1", channel="C1", ts="2.0", text="+1", thread_ts="1.0", parent_user_id=BOT_USER_ID),
    event("message", user="U1", channel="C1", ts="2.0", text="+1", thread_ts="1.0", parent_user_id="U2"),
    event("message", subtype="bot_message", bot_id="B1", channel="C1", ts="2.0", text="build passed"),
    event("message", subtype="message_changed", channel="C1", ts="2.0", message={"user": "U1", "text": "x"}),
    event("app_home_opened", user="U1", tab="home"),
    event("user_change", user={"id": "U1", "deleted": True}),
    event("user_change", user={"id": "U1", "deleted": False}),
    button("circle_join"),
    button("circle_checkin"),
    button("pairing_met"),
    button("pairing_skip"),
    button("share_tip_anyway"),
    button("nothing_of_ours"),
    form("circle_settings"),
    form("circle_answers"),
    form("mentor_profile"),
    form("tip_compose"),
    interaction("message_action", callback_id="save_as_tip", channel={"id": "C1"}, message={"ts": "1.2"}),
]


def first_listener(app: App, body: str, content_type: str) -> int | None:
    request = BoltRequest(body=body, headers={"content-type": content_type})
    app._init_context(request)
    response = BoltResponse(status=200, body="")
    return next((n for n, listener in enumerate(app._listeners) if listener.matches(req=request, resp=response)), None)


@pytest.mark.parametrize(("body", "content_type"), REQUESTS)
def test_the_listener_bolt_would_pick_takes_the_request(
    body: str,
    content_type: str,
    settings: Settings,
    client: WebClient,
    db: Database,
    clock: FakeClock,
    poster: ScheduledPoster,
    circle_runner: CircleRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def app() -> App:
        return build_app(settings, client=client, db=db, clock=clock, poster=poster, circles=circle_runner)

    cheap = app()
    monkeypatch.setattr(factory, "cheapen_matchers", lambda app: 0)
    bolts_own = app()

    assert first_listener(cheap, body, content_type) == first_listener(bolts_own, body, content_type)
