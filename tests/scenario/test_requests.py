"""Request-level contracts: signatures, timestamps, routing, health, and the error handler."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from bot.notices import could_not_do_it
from storage.db import Database
from tests.scenario.helpers import all_tips
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


def command_body(text: str = "help") -> str:
    return urlencode({"team_id": "T0TEST", "user_id": "U1", "channel_id": "C1", "command": "/tip", "text": text})


def test_bad_signature_is_rejected_with_401(sender: SlackSender, db: Database) -> None:
    response = sender.post(
        command_body("a sneaky tip"), "application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )

    assert response.status == 401
    assert all_tips(db) == []


def test_wrong_secret_is_rejected(sender: SlackSender, db: Database) -> None:
    impostor = SlackSender(sender.wsgi_app, sender.double, signing_secret="0123456789abcdef0123456789abcdef")

    assert impostor.command("forged tip").status == 401
    assert all_tips(db) == []


def test_stale_timestamp_is_rejected_even_when_signed(sender: SlackSender, db: Database) -> None:
    response = sender.post(
        command_body("replayed tip"), "application/x-www-form-urlencoded", timestamp=int(time.time()) - 6 * 60
    )

    assert response.status == 401
    assert all_tips(db) == []


def test_a_signed_request_within_five_minutes_is_accepted(sender: SlackSender) -> None:
    response = sender.post(command_body(), "application/x-www-form-urlencoded", timestamp=int(time.time()) - 4 * 60)

    assert response.status == 200


def test_health_check_round_trips_the_database(sender: SlackSender) -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz"}
    statuses: list[str] = []

    body = b"".join(sender.wsgi_app(environ, lambda status, headers: statuses.append(status)))

    assert statuses == ["200 OK"] and body == b"ok\n"


def test_unknown_paths_are_404(sender: SlackSender) -> None:
    statuses: list[str] = []
    sender.wsgi_app({"REQUEST_METHOD": "GET", "PATH_INFO": "/admin"}, lambda status, headers: statuses.append(status))

    assert statuses == ["404 Not Found"]


def test_an_unexpected_error_reaches_the_user(
    sender: SlackSender, slack: SlackDouble, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.tips import rules as tips

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tips, "mine", broken)

    response = sender.command("mine")

    assert response.status == 200  # answered in the ack, not with Slack's own failure notice
    assert response.json() == {"response_type": "ephemeral", "text": could_not_do_it()}
    sender.command("Still works afterwards")
    assert len(all_tips(db)) == 1


def test_errors_after_the_ack_are_told_to_the_user(
    sender: SlackSender, slack: SlackDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.tips import service as tip_service

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tip_service, "delete", broken)

    response = sender.command("delete 7")

    assert response.status == 200
    assert "something went wrong" in slack.responses[-1]["text"]
    assert slack.responses[-1]["response_type"] == "ephemeral"
