from __future__ import annotations

import pytest

from bot.pairing.commands import EditProfile, FindPeople, OptOut, Pause, Resume, ShowHelp, ShowMe, parse_mentor_command
from bot.pairing.people import Level
from bot.pairing.profiles import Profile, ProfileForm, read_profile
from bot.text import without_control_characters as clean_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ShowHelp()),
        ("help", ShowHelp()),
        ("profile", EditProfile()),
        ("me", ShowMe()),
        ("find #PostgreSQL", FindPeople("postgresql")),
        ("find c++ please", FindPeople("c++")),
        ("pause", Pause(1)),
        ("pause 3", Pause(3)),
        ("pause 3 weeks", Pause(3)),
        ("resume", Resume()),
        ("off", OptOut()),
    ],
)
def test_commands(text: str, expected: object) -> None:
    assert parse_mentor_command(text) == expected


@pytest.mark.parametrize("text", ["pause 0", "pause 53", "pause 1e9", "pause inf", "pause -1", "pause 99999999999999"])
def test_pause_is_bounded(text: str) -> None:
    command = parse_mentor_command(text)
    assert isinstance(command, ShowHelp)
    assert command.usage is not None and "/mentor pause" in command.usage


def test_control_characters_never_reach_a_command() -> None:
    assert parse_mentor_command("find\x00 sql") == FindPeople("sql")
    assert clean_text("a\x00b\x07c\nd") == "abc\nd"


def test_a_valid_form_reads_into_a_profile() -> None:
    form = ProfileForm(teaches="SQL, #python sql", learns="rust", level="mid", team="  Data  ", open_to=("mentee",))
    profile = read_profile("U1", form)
    assert profile == Profile(
        "U1",
        teaches=("sql", "python"),
        learns=("rust",),
        level=Level.MID,
        team="Data",
        open_to_mentoring=False,
        open_to_mentee=True,
        open_to_coffee=False,
    )


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (ProfileForm(capacity="inf"), "capacity"),
        (ProfileForm(capacity="6"), "capacity"),
        (ProfileForm(capacity="-1"), "capacity"),
        (ProfileForm(level="9"), "level"),
        (ProfileForm(open_to=("hourly",)), "open_to"),
        (ProfileForm(avoids=tuple(f"U{i}" for i in range(2, 23))), "avoids"),
        (ProfileForm(avoids=("<!channel>",)), "avoids"),
        (ProfileForm(teaches="x" * 60), "teaches"),
    ],
)
def test_bad_values_are_field_errors(form: ProfileForm, field: str) -> None:
    errors = read_profile("U1", form)
    assert isinstance(errors, dict)
    assert field in errors


def test_nobody_avoids_themselves() -> None:
    profile = read_profile("U1", ProfileForm(avoids=("U1", "U2", "U2")))
    assert isinstance(profile, Profile)
    assert profile.avoids == ("U2",)
