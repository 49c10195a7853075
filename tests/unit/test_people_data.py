"""People's data, the pure parts: the CSV's formula guard, the commands, forget-me's button values."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from bot.people.blocks import NOT_YOURS, confirmation_value, read_confirmation, refusal
from bot.people.commands import ExportTips, ForgetMe, PeopleUsage, SendMyData, parse_people_command
from bot.people.erasure import request_names
from bot.people.export import safe_cell, write_tips_csv

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+1 for pairing", "'+1 for pairing"),
        ("-2 is fine", "'-2 is fine"),
        ("@channel read this", "'@channel read this"),
        ("\t=tabbed", "'\t=tabbed"),
        ("\r=returned", "'\r=returned"),
        ("Use = signs freely inside", "Use = signs freely inside"),
        ("", ""),
    ],
)
def test_no_cell_starts_a_formula(cell: str, written: str) -> None:
    assert safe_cell(cell) == written


def test_the_csv_keeps_text_whole_and_numbers_as_numbers() -> None:
    out = io.BytesIO()
    rows = [(7, "U1", 'Line one\nline "two", =three', "git", None, NOW, 3, None)]

    assert write_tips_csv(rows, out) == 1

    read = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert read == [
        ["number", "author", "text", "tags", "channel", "created", "helpful_votes", "permalink"],
        ["7", "U1", 'Line one\nline "two", =three', "git", "", "2026-12-01T12:00:00+00:00", "3", ""],
    ]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("export", ExportTips()),
        ("EXPORT", ExportTips()),
        ("my-data", SendMyData()),
        ("mydata", SendMyData()),
        ("forget-me", ForgetMe()),
        ("prompts #general mon 09:00", None),
        ("", None),
        ("exports", None),
    ],
)
def test_people_commands(text: str, parsed: object) -> None:
    assert parse_people_command(text) == parsed


def test_words_after_a_people_command_get_its_usage() -> None:
    parsed = parse_people_command("forget-me <@U2>")
    assert isinstance(parsed, PeopleUsage) and "/peerlearn forget-me" in parsed.usage
    assert "<@U2>" not in parsed.problem  # shown back as text, never as a live mention


def test_a_confirmation_is_its_own_persons_in_its_own_workspace_and_recent() -> None:
    value = confirmation_value("T1", "U1", NOW)
    mine = read_confirmation(value)

    assert refusal(mine, "T1", "U1", NOW) is None
    assert refusal(mine, "T1", "U2", NOW) == NOT_YOURS
    assert refusal(mine, "T2", "U1", NOW) == NOT_YOURS
    assert "expired" in str(refusal(mine, "T1", "U1", NOW.replace(hour=14)))
    for forged in ("T1:U1", "T1:U1:12:3", "t1:U1:1", "T1:U1:-1", None, 5, "T1:U1:" + "9" * 40):
        assert read_confirmation(forged) is None


def _form(**fields: str) -> str:
    return urlencode(fields)


@pytest.mark.parametrize(
    ("body", "mode", "named"),
    [
        (_form(command="/tip", user_id="U1", text="my words"), "http", True),
        (_form(command="/tip", user_id="U2", text="thanks <@U1>"), "http", False),  # a mention is not them
        (_form(payload=json.dumps({"type": "view_submission", "user": {"id": "U1"}})), "http", True),
        # someone else's shortcut on their message: the request carries the message, and its author
        (
            _form(
                payload=json.dumps(
                    {"type": "message_action", "user": {"id": "U2"}, "message": {"user": "U1", "text": "my words"}}
                )
            ),
            "http",
            True,
        ),
        (json.dumps({"type": "event_callback", "event": {"type": "message", "user": "U1"}}), "http", True),
        (json.dumps({"type": "event_callback", "event": {"type": "reaction_added", "item_user": "U1"}}), "http", True),
        (json.dumps({"command": "/ask", "user_id": "U1", "text": "words"}), "socket_mode", True),
        (json.dumps({"command": "/ask", "user_id": "U10", "text": "U1"}), "socket_mode", True),  # their id, as text
        (json.dumps({"command": "/ask", "user_id": "U10", "text": "words"}), "socket_mode", False),
        ("{not json, U1", "socket_mode", True),  # unreadable: deleted when it holds their id at all
        ("{not json", "socket_mode", False),
    ],
)
def test_a_kept_request_names_the_person_by_their_id_exactly(body: str, mode: str, named: bool) -> None:
    assert request_names(body, mode, "U1") is named
