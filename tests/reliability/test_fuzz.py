"""Every command parser and form reader, fed hostile input from a seeded generator (tests/reliability/
fuzz.py): no exception but the typed refusal, every result within its bounds. Then the HTTP
endpoint, with signed, well-formed Slack payloads carrying the same odd values: never a 5xx, and no
listener left with an unhandled error (the edge's own fuzz covers malformed bodies)."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any, get_args

import pytest

from bot.circles import rules as circle_rules
from bot.circles.answer_form import read_answer_target, read_answers
from bot.circles.blocks import circle_modal, read_circle_form, read_settings_target
from bot.circles.commands import CircleCommand, PauseCircle, parse_circle_command
from bot.circles.inputs import FieldErrors, parse_id
from bot.circles.rules import CircleSpec
from bot.figures.commands import MAX_WEEKS, parse_report
from bot.home.control import parse_target
from bot.home.modals import MAX_QUERY, read_query
from bot.pairing.blocks import profile_modal, read_profile_form
from bot.pairing.commands import FindPeople, MentorCommand, Pause, parse_mentor_command
from bot.pairing.profiles import MAX_AVOIDED, MAX_CAPACITY, MAX_SKILL_LENGTH, MAX_SKILLS, MAX_TEAM_LENGTH, Profile
from bot.pairing.profiles import read_profile as read_profile_values
from bot.schedules.commands import (
    MAX_ID,
    InvalidCommand,
    PeerlearnCommand,
    RemovePrompt,
    SetSchedule,
    known_zones,
    parse_peerlearn_command,
)
from bot.text import MAX_TAG_LENGTH, parse_tags
from bot.tips.blocks import ComposedTip, compose_modal, opened_from_home, read_compose_form
from bot.tips.commands import (
    MAX_BUTTON_VALUE,
    DeleteTip,
    SearchTips,
    ShareTip,
    TipCommand,
    TopTips,
    parse_tip_command,
    share_anyway_text,
)
from bot.tips.rules import MAX_TAGS, MAX_TIP_LENGTH, MAX_TIP_NUMBER, WINDOWS, TipDraft, TipRejected, draft_tip
from tests.reliability.figures import answered, tried
from tests.reliability.fuzz import Fuzz
from tests.scenario.test_browse_and_delete import compose_values
from tests.scenario.test_circles import form_values
from tests.scenario.test_mentor import profile_values
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

RUNS = 500  # inputs per parser or reader; fixed seeds, so a failure reproduces
PROFILE_KEYS = {"teaches": "value", "learns": "value", "level": "selected_option", "team": "value",
                "open_to": "selected_options", "capacity": "value", "avoids": "selected_users"}  # fmt: skip
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> bool:
    return isinstance(text, str) and not CONTROL.search(text)


def each(seed: int, make: Callable[[Fuzz], Any], check: Callable[[Any], None], runs: int = RUNS) -> None:
    fuzz = Fuzz(seed)
    for _ in range(runs):
        given = make(fuzz)
        try:
            check(given)
        except AssertionError as failure:
            raise AssertionError(f"{failure} for input {given!r:.300}") from None
        tried()


def in_union(result: object, union: Any) -> None:
    assert isinstance(result, get_args(union)), f"not one of the typed commands: {result!r:.200}"


# -- /tip -----------------------------------------------------------------------------------------


def test_tip_command_parser() -> None:
    def check(text: str) -> None:
        command: TipCommand = parse_tip_command(text)
        in_union(command, TipCommand)
        match command:
            case ShareTip(text=shared):
                assert 0 < len(shared) <= MAX_TIP_LENGTH and clean(shared)
            case DeleteTip(number=number):
                assert 1 <= number <= MAX_TIP_NUMBER
            case TopTips(window=window):
                assert window in WINDOWS
            case SearchTips(query=query):
                assert query and clean(query)
        for value in vars(command).values():
            assert not isinstance(value, str) or clean(value)

    each(1, lambda f: f.command(["search", "top", "mine", "delete", "help", "serach", "delte", "helpme"]), check)


def test_tip_drafts_and_share_anyway_values() -> None:
    def check(given: tuple[str, str, object]) -> None:
        text, tags, button = given
        draft: TipDraft | TipRejected
        try:
            draft = draft_tip(text, parse_tags(tags))
        except TipRejected as rejected:
            draft = rejected
        if isinstance(draft, TipRejected):
            assert draft.field in ("text", "tags") and str(draft)
        else:
            assert isinstance(draft, TipDraft) and 0 < len(draft.text) <= MAX_TIP_LENGTH and clean(draft.text)
            assert len(draft.tags) <= MAX_TAGS and all(0 < len(t) <= MAX_TAG_LENGTH and clean(t) for t in draft.tags)
        shared = share_anyway_text(button)
        assert shared is None or (0 < len(shared) <= MAX_BUTTON_VALUE and clean(shared))

    each(2, lambda f: (f.text(), f.text(["#a", "b,c", "#"]), f.pick([f.text(), f.value()])), check)


def test_tip_compose_form_reader() -> None:
    good = compose_values("Prefer small pull requests", "review")
    fields = {"text": "value", "tags": "value", "channel": "selected_conversation"}

    def check(values: Any) -> None:
        read = read_compose_form(values)
        if isinstance(read, dict):
            assert read and set(read) <= set(fields) and all(isinstance(e, str) and e for e in read.values())
        else:
            assert isinstance(read, ComposedTip) and re.fullmatch(r"[CG][A-Z0-9]{1,31}", read.channel_id)
            assert 0 < len(read.draft.text) <= MAX_TIP_LENGTH and clean(read.draft.text)
            assert len(read.draft.tags) <= MAX_TAGS

    each(3, lambda f: f.form(fields, {k: v[k] for k, v in good.items()}) if f.random.random() < 0.95 else f.value(),
         check)  # fmt: skip


# -- /circle --------------------------------------------------------------------------------------


def test_circle_command_parser() -> None:
    def check(text: str) -> None:
        command = parse_circle_command(text)
        in_union(command, CircleCommand)
        if isinstance(command, PauseCircle):
            assert 1 <= command.rounds <= circle_rules.MAX_PAUSE_ROUNDS
        for value in vars(command).values():
            assert not isinstance(value, str) or clean(value)

    keywords = ["create", "join", "leave", "list", "info", "pause", "checkin", "edit", "archive", "help"]
    each(4, lambda f: f.command(keywords), check)


def test_circle_settings_form_reader() -> None:
    view = circle_modal(channel_id="C1", zone="Europe/Berlin", name="Rust learners", origin="C1")
    good = {k: v["value"] for k, v in form_values(view).items()}
    keys = {"name": "value", "description": "value", "channel": "selected_conversation", "cadence": "selected_option",
            "weekday": "selected_option", "time": "selected_time", "zone": "value", "reminder": "value",
            "window": "value", **{f"question_{n}": "value" for n in range(circle_rules.MAX_QUESTIONS)}}  # fmt: skip

    def check(values: Any) -> None:
        read = read_circle_form(values)
        if isinstance(read, FieldErrors):
            assert read.errors and all(isinstance(e, str) and 0 < len(e) <= 150 for e in read.errors.values())
            return
        assert isinstance(read, CircleSpec)
        assert 0 < len(read.name) <= circle_rules.MAX_NAME and clean(read.name)
        assert len(read.description) <= circle_rules.MAX_DESCRIPTION
        assert read.cadence in circle_rules.CADENCES and read.zone in known_zones()
        assert (read.weekday is None) == (read.cadence not in circle_rules.ON_A_WEEKDAY)
        assert read.weekday is None or 0 <= read.weekday <= 6
        assert 0 < len(read.questions) <= circle_rules.MAX_QUESTIONS
        assert all(0 < len(q) <= circle_rules.MAX_QUESTION_LENGTH and clean(q) for q in read.questions)
        low, high = circle_rules.REMINDER_HOURS
        assert low * 60 <= read.reminder_minutes < read.window_minutes <= circle_rules.WINDOW_HOURS[1] * 60
        assert math.isfinite(read.reminder_minutes) and high * 60 >= read.reminder_minutes

    each(5, lambda f: f.form(keys, good, "value") if f.random.random() < 0.95 else f.value(), check)


def test_circle_metadata_answers_and_button_values() -> None:
    def metadata(f: Fuzz) -> object:
        forged = {f.pick(["circle_id", "round_id", "origin"]): f.value() for _ in range(f.random.randint(0, 3))}
        return f.pick([json.dumps(forged, allow_nan=True), f.text(), f.value(), '{"round_id": 1e309}', "[1]"])

    def check(given: tuple[object, Any, object]) -> None:
        raw, answers_values, button = given
        target = read_settings_target(raw)
        assert target is None or target.circle_id is None or 0 < target.circle_id < 2**31
        answer_target = read_answer_target(raw)
        assert answer_target is None or 0 < answer_target.round_id < 2**31
        answers = read_answers(answers_values)
        if isinstance(answers, FieldErrors):
            assert answers.errors
        else:
            assert answers and len(answers) <= circle_rules.MAX_QUESTIONS
            assert all(len(a) <= circle_rules.MAX_ANSWER_LENGTH and clean(a) for a in answers)
        parsed = parse_id(button)
        assert parsed is None or 0 < parsed < 2**31

    answer_keys = {f"answer_{n}": "value" for n in range(circle_rules.MAX_QUESTIONS)}
    good = {k: {"type": "plain_text_input", "value": "Lifetimes"} for k in answer_keys}
    each(6, lambda f: (metadata(f), f.form(answer_keys, good, "answer"), f.value()), check)


# -- /peerlearn -----------------------------------------------------------------------------------


def test_peerlearn_command_parser() -> None:
    def check(text: str) -> None:
        command = parse_peerlearn_command(text)
        in_union(command, PeerlearnCommand)
        match command:
            case RemovePrompt(number=number):
                assert 1 <= number <= MAX_ID
            case SetSchedule():
                assert command.weekday is None or 0 <= command.weekday <= 6
                assert command.zone is None or command.zone in known_zones()
                assert command.cadence in ("daily", "weekdays", "weekly", "biweekly")

    keywords = ["prompts", "prompt", "digest", "digests", "schedules", "help", "prompt add", "prompt remove",
                "prompt now", "digest now", "prompts <#C1|general>", "digest <#C1|general>",
                "prompts #general"]  # fmt: skip
    each(7, lambda f: f.command(keywords), check)


# -- /mentor --------------------------------------------------------------------------------------


def test_mentor_command_parser() -> None:
    def check(text: str) -> None:
        command = parse_mentor_command(text)
        in_union(command, MentorCommand)
        if isinstance(command, Pause):
            assert 1 <= command.weeks <= 52
        if isinstance(command, FindPeople):
            assert 0 < len(command.skill) <= MAX_TAG_LENGTH and clean(command.skill)

    keywords = ["profile", "edit", "find", "who", "me", "status", "pause", "resume", "on", "off", "stop", "help"]
    each(8, lambda f: f.command(keywords), check)


def test_mentor_profile_form_reader() -> None:
    view = profile_modal(None)
    good = {k: v[k] for k, v in profile_values(view, teaches="postgres", level="mid", capacity="2").items()}
    keys = PROFILE_KEYS

    def check(values: Any) -> None:
        read = read_profile_values("U1", read_profile_form(values))
        if isinstance(read, dict):
            assert read and all(isinstance(e, str) and e for e in read.values())
            return
        assert isinstance(read, Profile) and read.user_id == "U1"
        for skills in (read.teaches, read.learns):
            assert len(skills) <= MAX_SKILLS and all(0 < len(s) <= MAX_SKILL_LENGTH and clean(s) for s in skills)
        assert 0 <= read.capacity <= MAX_CAPACITY and len(read.avoids) <= MAX_AVOIDED and "U1" not in read.avoids
        assert read.team is None or (len(read.team) <= MAX_TEAM_LENGTH and clean(read.team))

    each(9, lambda f: f.form(keys, good) if f.random.random() < 0.95 else f.value(), check)


# -- the App Home and the report ------------------------------------------------------------------


def test_home_button_values_search_form_and_report_words() -> None:
    def check(given: tuple[object, Any, str, object]) -> None:
        button, search_values, report_text, metadata = given
        target = parse_target(button)
        assert target is None or 0 < target.id <= MAX_ID
        query = read_query(search_values)
        if isinstance(query, dict):
            assert set(query) == {"query"} and query["query"]
        else:
            assert 0 < len(query) <= MAX_QUERY and clean(query)
        report = parse_report(report_text.split())
        assert isinstance(report, InvalidCommand) or 1 <= report.weeks <= MAX_WEEKS
        assert opened_from_home({"private_metadata": metadata}) in (True, False)

    def make(f: Fuzz) -> tuple[object, Any, str, object]:
        number = f.pick([f.text(), str(f.random.randint(-5, 2**40)), "1e309", "0"])
        button = f.pick([f"schedule:{number}", f"circle:{number}", f.value(), f.text()])
        search = f.form({"query": "value"}, {"query": {"type": "plain_text_input", "value": "docker"}})
        metadata = f.pick([json.dumps({"home": f.value()}), f.text(), f.value(), '{"home": true}'])
        return button, search, f.command(["12", "52", "week", "weeks"]), metadata

    each(11, make, check)


# -- the HTTP endpoint ----------------------------------------------------------------------------

HTTP_RUNS = 240


def test_signed_payloads_with_odd_values_never_get_a_5xx(
    sender: SlackSender, slack: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    fuzz = Fuzz(10)
    circle_view = circle_modal(channel_id="C1", zone="UTC", name="Fuzz club", origin="C1")
    circle_good = {k: v["value"] for k, v in form_values(circle_view).items()}
    circle_keys = {"name": "value", "channel": "selected_conversation", "cadence": "selected_option",
                   "weekday": "selected_option", "time": "selected_time", "zone": "value", "reminder": "value",
                   "window": "value", "question_0": "value"}  # fmt: skip
    compose_good = {k: v[k] for k, v in compose_values("Prefer small pull requests").items()}
    profile_view = profile_modal(None)
    profile_good = {k: v[k] for k, v in profile_values(profile_view).items()}
    commands = {
        "/tip": ["search", "top", "mine", "delete", "help", "serach"],
        "/circle": ["create", "join", "leave", "list", "info", "pause", "checkin", "edit", "archive"],
        "/peerlearn": ["prompts <#C1|general>", "digest <#C1|general>", "prompt add", "prompt remove", "prompt now"],
        "/mentor": ["profile", "find", "me", "pause", "resume", "off"],
    }

    def one_request() -> int:
        user = fuzz.pick(["U1", "U2", "U4", "U9ADMIN", "UNOBODY"])
        roll = fuzz.random.random()
        if roll < 0.4:
            name = fuzz.pick(list(commands))
            text = re.sub(r"[\ud800-\udfff]", "", fuzz.command(commands[name]))  # a form body is UTF-8: no lone halves
            return sender.command(
                text, user=user, command=name, channel=fuzz.pick(["C1", "CNOBOT", "CPRIV", "CARCH", "D1", "G1"])
            ).status
        if roll < 0.8:
            callback, keys, good, blocks, action = fuzz.pick([
                ("circle_settings", circle_keys, circle_good, circle_view["blocks"], "value"),
                ("tip_compose", {"text": "value", "tags": "value", "channel": "selected_conversation"}, compose_good,
                 compose_modal("C1")["blocks"], None),
                ("circle_answers", {"answer_0": "value"}, {"answer_0": {"type": "plain_text_input", "value": "x"}},
                 [{"type": "input", "block_id": "answer_0"}], "answer"),
                ("mentor_profile", PROFILE_KEYS, profile_good, profile_view["blocks"], None),
            ])  # fmt: skip
            metadata = fuzz.pick(
                [
                    json.dumps({"circle_id": fuzz.value(), "origin": fuzz.value()}),
                    json.dumps({"round_id": fuzz.value()}),
                    fuzz.text(),
                    json.dumps({"origin_channel_id": fuzz.value()}),
                ]
            )
            view = {"type": "modal", "callback_id": callback, "private_metadata": metadata, "blocks": blocks}
            values = fuzz.form(keys, good, action)
            return sender.view_submission(user=user, view=view, values=values).status
        action = fuzz.pick(["circle_join", "circle_checkin", "tip_share_anyway", "peerlearn_share_from_home"])
        value = fuzz.pick([fuzz.text(), *["1", "0", "-1", "1e309", "99999999999999999999999", "\x00"]])
        return sender.button(user=user, action_id=action, value=value[:2000], channel=fuzz.pick(["C1", "D1"])).status

    started = time.monotonic()
    statuses = []
    with caplog.at_level(logging.ERROR, logger="peerlearn"):
        for _ in range(HTTP_RUNS):
            statuses.append(answered(one_request()))
    unhandled = [r.getMessage()[:300] for r in caplog.records if "unhandled error" in r.getMessage()]

    assert [s for s in statuses if s >= 500] == []
    assert unhandled == [], f"{len(unhandled)} listener errors, e.g. {unhandled[:3]}"
    assert time.monotonic() - started < 120
