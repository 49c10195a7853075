"""/circle's parser and the circle forms' readers: forged, huge, non-finite and control-character input."""

from __future__ import annotations

from typing import Any

import pytest

from bot.circles.answer_form import read_answer_target, read_answers
from bot.circles.blocks import read_circle_form, read_settings_target
from bot.circles.commands import (
    ArchiveCircle,
    CheckinNow,
    CreateCircle,
    JoinCircle,
    ListCircles,
    PauseCircle,
    ShowHelp,
    parse_circle_command,
)
from bot.circles.inputs import FieldErrors, parse_id
from bot.circles.rules import CircleSpec, clean_line
from bot.text import without_control_characters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ShowHelp()),
        ("list", ListCircles()),
        ("create", CreateCircle("")),
        ("create Rust learners", CreateCircle("Rust learners")),
        ("JOIN  Rust   learners", JoinCircle("Rust learners")),
        ("pause Rust learners", PauseCircle("Rust learners", 1)),
        ("pause Rust learners 3", PauseCircle("Rust learners", 3)),
        ("pause Rust 2024", PauseCircle("Rust 2024", 1)),  # a long number belongs to the name
        ("pause Rust 12", PauseCircle("Rust", 12)),
        ("checkin Rust learners now", CheckinNow("Rust learners")),
        ("archive Go\x00 club", ArchiveCircle("Go club")),
    ],
)
def test_commands_parse_into_their_types(text: str, expected: object) -> None:
    assert parse_circle_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pause Rust learners 0", "Pause for 1 to 12 rounds"),
        ("pause Rust learners 99", "Pause for 1 to 12 rounds"),
        ("pause", "Which circle?"),
        ("checkin Rust learners", "Say `now`"),
        ("checkin now", "Which circle?"),
        ("join", "Which circle?"),
        ("frobnicate <b>", "I don't know `frobnicate`"),
    ],
)
def test_mistakes_get_one_precise_line(text: str, problem: str) -> None:
    parsed = parse_circle_command(text)
    assert isinstance(parsed, ShowHelp) and parsed.problem is not None and problem in parsed.problem


def test_unknown_words_are_shown_escaped() -> None:
    parsed = parse_circle_command("<!channel>")
    assert isinstance(parsed, ShowHelp) and parsed.problem is not None
    assert "<!channel>" not in parsed.problem and "&lt;!channel&gt;" in parsed.problem


def test_text_loses_control_characters_and_keeps_line_breaks() -> None:
    assert without_control_characters(" a\x00b\x1b[31m\nc\u0085d\ud800 ").strip() == "ab[31m\ncd"
    assert clean_line("Rust\nlearners\t\x07") == "Rust learners"


def form(**changes: Any) -> dict[str, Any]:
    """A settings form as Slack sends it: good values unless changed; None removes a field."""
    fields: dict[str, dict[str, Any]] = {
        "name": {"value": "Rust learners"},
        "description": {"value": "Reading the book"},
        "channel": {"selected_conversation": "C0123"},
        "cadence": {"selected_option": {"value": "weekly"}},
        "weekday": {"selected_option": {"value": "0"}},
        "time": {"selected_time": "09:00"},
        "zone": {"value": "Europe/Berlin"},
        "question_0": {"value": "What did you learn?"},
        "reminder": {"value": "4"},
        "window": {"value": "24"},
    }
    for block, value in changes.items():
        if value is None:
            fields.pop(block, None)
        else:
            fields[block] = value if isinstance(value, dict) else {"value": value}
    return {block: {"value": state} for block, state in fields.items()}


def errors_of(values: Any) -> dict[str, str]:
    read = read_circle_form(values)
    assert isinstance(read, FieldErrors), read
    return read.errors


def test_a_good_form_reads_as_a_spec() -> None:
    spec = read_circle_form(form(reminder=" 1.5 ", window="168"))
    assert isinstance(spec, CircleSpec)
    assert (spec.cadence, spec.weekday, spec.reminder_minutes, spec.window_minutes) == ("weekly", 0, 90, 168 * 60)
    daily = read_circle_form(form(cadence={"selected_option": {"value": "daily"}}))
    assert isinstance(daily, CircleSpec) and daily.weekday is None


@pytest.mark.parametrize(
    "hours", ["inf", "-inf", "nan", "1e309", "1e9", "1_000", "0", "0.25", "73", "4,5", "", "9" * 5000]
)
def test_reminder_hours_must_be_finite_and_within_bounds(hours: str) -> None:
    assert "A number of hours from 0.5 to 72" in errors_of(form(reminder=hours))["reminder"]


@pytest.mark.parametrize("hours", ["inf", "1e309", "1e9", "0.5", "169", "-24"])
def test_the_answer_window_must_be_finite_and_within_bounds(hours: str) -> None:
    assert "A number of hours from 1 to 168" in errors_of(form(window=hours))["window"]


def test_the_reminder_comes_before_the_window_closes() -> None:
    assert "reminder must come" in errors_of(form(reminder="24", window="24"))["reminder"]


@pytest.mark.parametrize(
    ("block", "forged", "field"),
    [
        ("weekday", {"selected_option": {"value": "9"}}, "weekday"),
        ("weekday", {"selected_option": "0"}, "weekday"),
        ("cadence", {"selected_option": {"value": "hourly"}}, "cadence"),
        ("cadence", None, "cadence"),
        ("time", {"selected_time": "25:99"}, "time"),
        ("time", {"selected_time": 900}, "time"),
        ("channel", {"selected_conversation": "U123"}, "channel"),
        ("channel", {"selected_conversation": ["C1"]}, "channel"),
        ("zone", "Mars/Olympus", "zone"),
        ("zone", "../../etc/passwd", "zone"),
        ("name", "x" * 81, "name"),
        ("name", "\x00\x01", "name"),
        ("question_0", "q" * 151, "question_0"),
        ("description", "d" * 1001, "description"),
    ],
)
def test_forged_or_out_of_bound_values_are_field_errors(block: str, forged: Any, field: str) -> None:
    assert field in errors_of(form(**{block: forged}))


def test_weekday_is_required_only_when_the_cadence_needs_one() -> None:
    assert "Pick the day" in errors_of(form(weekday=None))["weekday"]
    assert isinstance(
        read_circle_form(form(weekday=None, cadence={"selected_option": {"value": "weekdays"}})), CircleSpec
    )


@pytest.mark.parametrize("values", [None, [], "x", {"name": []}, {"name": {"value": 7}}])
def test_malformed_state_is_errors_not_a_crash(values: Any) -> None:
    assert errors_of(values)


def test_text_is_stored_without_control_characters() -> None:
    spec = read_circle_form(
        form(name="Rust\x00 learners", description="line\x00one\nline two", question_0="Why\x1b?", zone="UTC\x00")
    )
    assert isinstance(spec, CircleSpec)
    assert (spec.name, spec.description, spec.questions, spec.zone) == (
        "Rust learners",
        "lineone\nline two",
        ("Why?",),
        "UTC",
    )


def test_answers_are_read_aligned_and_bounded() -> None:
    def answers(*texts: Any) -> Any:
        return read_answers({f"answer_{i}": {"answer": {"value": t}} for i, t in enumerate(texts)})

    assert answers("", "stuck\x00 on lifetimes", None) == ["", "stuck on lifetimes"]
    assert answers("", None) == FieldErrors({"answer_0": "Answer at least one question."})
    assert "answer_1" in answers("ok", "a" * 2001).errors
    assert read_answers({"answer_x": {"answer": {"value": "forged"}}, "answer_0": "not a dict"}) == FieldErrors(
        {"answer_0": "Answer at least one question."}
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"circle_id": null, "origin": "C0123"}', (None, "C0123")),
        ('{"circle_id": 7}', (7, None)),
        ('{"circle_id": null, "origin": "https://evil"}', (None, None)),
    ],
)
def test_settings_metadata_is_parsed_strictly(raw: str, expected: tuple[int | None, str | None]) -> None:
    target = read_settings_target(raw)
    assert target is not None and (target.circle_id, target.origin_channel_id) == expected


@pytest.mark.parametrize(
    "raw", ["", "not json", "[1]", '{"circle_id": "7x"}', '{"circle_id": true}', '{"circle_id": 1e400}', None]
)
def test_forged_settings_metadata_is_refused(raw: Any) -> None:
    assert read_settings_target(raw) is None


@pytest.mark.parametrize(
    "value", ["", "abc", "-1", "0", "1.5", "99999999999999999999999", "9" * 5000, True, 2**40, None, [1]]
)
def test_ids_from_buttons_and_metadata_are_digits_within_range(value: Any) -> None:
    assert parse_id(value) is None
    assert read_answer_target(f'{{"round_id": {value!r}}}') is None


def test_good_ids_are_read() -> None:
    assert parse_id("42") == 42 and parse_id(42) == 42
    target = read_answer_target('{"round_id": 42}')
    assert target is not None and target.round_id == 42
