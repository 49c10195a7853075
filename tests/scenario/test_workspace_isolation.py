"""Isolation between workspaces served by one deployment (OAuth mode): workspace B's requests,
button values, forms' private_metadata, jobs and scheduled runs can't read, change, vote on, delete,
digest or search workspace A's tips, votes, circles, schedules, prompts or profiles.

B is installed and served, so its requests reach the listeners and the use cases: only their
scoping by workspace stands between B and A's data. B's people and channels even carry the same ids
as A's (U1, U4, C1), as different workspaces' may; A's own ids (tip, circle, round, prompt) are
forged into B's commands, buttons and forms. Each row checks that A's rows are as they were, that
nothing was asked of Slack with A's token, and that B read nothing of A's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Base, CircleRound, CustomPrompt
from tests.conftest import FakeClock
from tests.scenario.helpers import all_tips
from tests.scenario.test_circles import DUE, circle_cmd, create_circle, form_values
from tests.scenario.test_mentor import profile_values, save_profile
from tests.scenario.workspaces import TEAM_B, World, installed, world
from tests.slack_double import TEAM_ID
from tests.slack_sender import Response

__all__ = ["installed", "world"]  # fixtures

# What of A's may never show in B: its tip, circle, custom prompt and the skill in its profile.
A_SECRETS = ("Bisect the regression", "Rust learners", "What surprised you", "fortran")
BOOKKEEPING = {"jobs", "request_keys", "processed_events", "scheduler_leases"}


@dataclass
class Alpha:
    """A's data, made through A's own requests: U1's tip (voted by U2) posted in C1, U1's circle
    (U1, U2, U3) with a round open, admin U4's daily prompts in C1 and a custom prompt, U1's
    mentoring profile (teaches fortran)."""

    world: World
    tip_id: int
    tip_ts: str
    circle_id: int
    round_id: int
    prompt_number: int  # as A's admins see and type it
    settings_view: dict[str, Any]


@pytest.fixture
def alpha(installed: World, db: Database, clock: FakeClock) -> Alpha:
    a = installed.sender_a
    a.command("Bisect the regression before guessing at it #git")
    [tip] = all_tips(db)
    tip_ts = installed.a.channels["C1"].messages[-1]["ts"]
    a.reaction("reaction_added", "U2", "C1", tip_ts, "thumbsup", item_user="U1")
    clock.now = DUE.replace(day=29)
    assert create_circle(a, installed.a, zone="Europe/Berlin", time="09:00") == {}
    circle_cmd(a, "join Rust learners", user="U2")
    circle_cmd(a, "join Rust learners", user="U3")
    circle_cmd(a, "edit Rust learners")
    settings_view = dict(installed.a.calls_to("views.open")[-1]["view"])
    clock.now = DUE
    installed.circles.run_due()
    a.command("prompts <#C1|general> daily 09:00 Europe/Berlin", user="U4", command="/peerlearn")
    a.command("prompt add What surprised you this week?", user="U4", command="/peerlearn")
    save_profile(a, installed.a, "U1", teaches="fortran", team="Data")
    with db.snapshot() as session:
        round_ = session.scalars(select(CircleRound)).one()
        prompt = session.scalars(select(CustomPrompt)).one()
    return Alpha(installed, tip.id, tip_ts, round_.circle_id, round_.id, prompt.number, settings_view)


def rows_of(db: Database, team_id: str) -> dict[str, list[str]]:
    """Every row of one workspace's, in every table that keys rows by workspace."""
    with db.snapshot() as session:
        return {
            table.name: sorted(
                repr(tuple(row)) for row in session.execute(select(table).where(table.c.team_id == team_id))
            )
            for table in Base.metadata.sorted_tables
            if "team_id" in table.c and table.name not in BOOKKEEPING and not table.name.startswith("slack_")
        }


# -- how B acts ---------------------------------------------------------------------------------------


class InWorld(Protocol):
    """What B's acts need of a fixture's data: the world it was made in."""

    @property
    def world(self) -> World: ...


def command(al: InWorld, command: str, text: str, user: str = "U1") -> Response:
    return al.world.sender_b.command(text, user=user, command=command, channel="C1")


def interaction(al: InWorld, user: str, payload: dict[str, Any]) -> Response:
    b = al.world.sender_b
    return b.interaction(
        {"team": {"id": TEAM_B.id, "domain": "beta"}, "user": {"id": user, "team_id": TEAM_B.id}, **payload}
    )


def button(al: InWorld, user: str, action_id: str, value: str) -> Response:
    b = al.world.b
    return interaction(
        al, user,
        {
            "type": "block_actions", "trigger_id": b.trigger_id(), "response_url": b.response_url(),
            "channel": {"id": "C1"}, "container": {"type": "message"},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value}],
        },
    )  # fmt: skip


def submit(al: InWorld, user: str, view: dict[str, Any], values: dict[str, Any]) -> Response:
    submitted = {**view, "id": "V9", "team_id": TEAM_B.id, "state": {"values": values}}
    return interaction(al, user, {"type": "view_submission", "trigger_id": al.world.b.trigger_id(), "view": submitted})


def event(al: InWorld, event: dict[str, Any]) -> Response:
    return al.world.sender_b.event(event)


def a_settings_form(al: Alpha) -> Response:
    """A's circle settings form (its private_metadata names A's circle), submitted in B."""
    return submit(al, "U1", al.settings_view, form_values(al.settings_view, name="Mine now", channel="C1"))


def a_answers_form(al: Alpha) -> Response:
    view = {"type": "modal", "callback_id": "circle_answers", "private_metadata": json.dumps({"round_id": al.round_id})}
    return submit(al, "U2", view, {"answer_0": {"answer": {"type": "plain_text_input", "value": "forged"}}})


def b_profile_form(al: Alpha) -> Response:
    """B's U1 saves a profile with A's U1 named in the metadata: only B's U1 may change."""
    command(al, "/mentor", "profile")
    view = al.world.b.calls_to("views.open")[-1]["view"]
    view = {**view, "private_metadata": json.dumps({"user_id": "U1", "team_id": TEAM_ID})}
    return submit(al, "U1", view, profile_values(view, teaches="forgery"))


Act = Callable[[Alpha], object]
ROWS: list[tuple[str, Act]] = [
    ("/tip delete A's tip id", lambda al: command(al, "/tip", f"delete {al.tip_id}")),
    ("/tip search for A's words", lambda al: command(al, "/tip", "search bisect regression")),
    ("/tip top", lambda al: command(al, "/tip", "top all")),
    ("/tip mine (same user id as A's author)", lambda al: command(al, "/tip", "mine")),
    ("a vote on A's tip post's ts", lambda al: al.world.sender_b.reaction(
        "reaction_added", "U2", "C1", al.tip_ts, "thumbsup", item_user="U1")),
    ("taking back A's vote", lambda al: al.world.sender_b.reaction(
        "reaction_removed", "U2", "C1", al.tip_ts, "thumbsup", item_user="U1")),
    ("the tip emoji on A's message ts", lambda al: al.world.sender_b.reaction(
        "reaction_added", "U3", "C1", al.tip_ts, "bulb", item_user="U1")),
    ("/circle join Rust learners", lambda al: command(al, "/circle", "join Rust learners", "U4")),
    ("/circle leave Rust learners", lambda al: command(al, "/circle", "leave Rust learners", "U2")),
    ("/circle info Rust learners", lambda al: command(al, "/circle", "info Rust learners")),
    ("/circle list", lambda al: command(al, "/circle", "list")),
    ("/circle checkin Rust learners now", lambda al: command(al, "/circle", "checkin Rust learners now")),
    ("/circle archive Rust learners", lambda al: command(al, "/circle", "archive Rust learners")),
    ("/circle edit Rust learners", lambda al: command(al, "/circle", "edit Rust learners")),
    ("/circle pause Rust learners", lambda al: command(al, "/circle", "pause Rust learners 2", "U2")),
    ("Join button with A's circle id", lambda al: button(al, "U4", "circle_join", str(al.circle_id))),
    ("Check in button with A's round id", lambda al: button(al, "U2", "circle_checkin", str(al.round_id))),
    ("answers form for A's round", a_answers_form),
    ("A's circle settings form", a_settings_form),
    ("/peerlearn prompts off in C1", lambda al: command(al, "/peerlearn", "prompts <#C1|general> off", "U4")),
    ("/peerlearn prompt remove A's prompt number", lambda al: command(
        al, "/peerlearn", f"prompt remove {al.prompt_number}", "U4")),
    ("/peerlearn prompt list", lambda al: command(al, "/peerlearn", "prompt list", "U4")),
    ("/peerlearn schedules", lambda al: command(al, "/peerlearn", "schedules", "U4")),
    ("/peerlearn digest now", lambda al: command(al, "/peerlearn", "digest now", "U4")),
    ("/peerlearn prompt now", lambda al: command(al, "/peerlearn", "prompt now", "U4")),
    ("/mentor find fortran", lambda al: command(al, "/mentor", "find fortran")),
    ("/mentor me", lambda al: command(al, "/mentor", "me")),
    ("/mentor off", lambda al: command(al, "/mentor", "off")),
    ("a profile form naming A's person", b_profile_form),
    ("the Home tab", lambda al: event(al, {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})),
]  # fmt: skip


def what_b_read(al: InWorld, answer: object, calls_before: int, responses_before: int) -> str:
    b = al.world.b
    said = [str(answer.json()) if isinstance(answer, Response) and answer.body else ""]
    said += [str(response) for response in b.responses[responses_before:]]
    said += [str(call.args) for call in b.calls[calls_before:]]
    return " ".join(said)


@pytest.mark.parametrize(("action", "act"), ROWS, ids=[action for action, _ in ROWS])
def test_workspace_b_can_not_reach_workspace_as_data(alpha: Alpha, db: Database, action: str, act: Act) -> None:
    world = alpha.world
    before = rows_of(db, TEAM_ID)
    a_calls, b_calls, b_responses = len(world.a.calls), len(world.b.calls), len(world.b.responses)

    answer = act(alpha)

    assert rows_of(db, TEAM_ID) == before, f"{action}: A's data changed"
    assert world.a.calls[a_calls:] == [], f"{action}: Slack was asked something with A's token"
    read = what_b_read(alpha, answer, b_calls, b_responses)
    # (What B typed itself may come back, as in "There is no circle called “Rust learners”".)
    unseen = [secret for secret in A_SECRETS if secret.lower() not in action.lower()]
    assert not [secret for secret in unseen if secret.lower() in read.lower()], f"{action}: B read {read[:400]}"
    if isinstance(answer, Response):
        assert answer.status == 200


def test_b_scheduled_digest_and_prompts_are_bs_own(alpha: Alpha, db: Database, clock: FakeClock) -> None:
    """B's scheduled digest is made of B's data alone (A's voted tip is no favourite of B's archive),
    and is posted in B's own channel with B's token."""
    world = alpha.world
    world.sender_b.command("Beta's own tip: pin your dependencies #python")
    world.sender_b.command("digest <#C1|general> daily 09:30 Europe/Berlin", user="U4", command="/peerlearn")
    clock.now = DUE.replace(hour=8, minute=30, second=5)  # 09:30 Berlin: B's digest; A's prompt was at 09:00
    b_posts = len(world.b.posts("C1"))

    world.poster.run_due()

    digests = [str(post) for post in world.b.posts("C1")[b_posts:]]
    assert len(digests) == 1 and "peer learning" in digests[0]
    assert not [secret for secret in A_SECRETS if secret.lower() in digests[0].lower()]
    assert [p for p in world.a.posts("C1") if "pin your dependencies" in str(p)] == []
