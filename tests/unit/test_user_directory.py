"""bot/slack/users.UserDirectory: the cheapest Slack calls for the number of people asked about,
and admin rights asked of Slack at every check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.client import build_client
from bot.slack.results import Failed
from bot.slack.users import UserDirectory
from tests.slack_double import BOT_TOKEN, TEAM_ID, SlackDouble


@pytest.fixture
def workspace() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    for n in range(1000):
        double.add_user(f"U{n:05d}", f"person{n}")
    yield double
    double.stop()


def directory(double: SlackDouble, admins: frozenset[str] = frozenset()) -> UserDirectory:
    return UserDirectory(build_client(BOT_TOKEN, double.api_url, max_retries=0), admins)


def calls(double: SlackDouble) -> tuple[int, int]:
    return len(double.calls_to("users.list")), len(double.calls_to("users.info"))


@pytest.mark.parametrize(
    ("wanted", "expected_calls"),
    [
        ([f"U{n:05d}" for n in range(1)], (0, 1)),
        ([f"U{n:05d}" for n in range(20)], (0, 20)),  # up to 20: one users.info each
        ([f"U{n:05d}" for n in range(21)], (1, 0)),  # all on the first page of 200
        ([f"U{n:05d}" for n in range(500)], (3, 0)),  # a 500-member circle: 3 pages, not 500 calls
        ([f"U{n:05d}" for n in range(0, 1000, 2)], (5, 0)),  # spread over the whole workspace
    ],
)
def test_lookup_uses_the_cheapest_calls(
    workspace: SlackDouble, wanted: list[str], expected_calls: tuple[int, int]
) -> None:
    users = directory(workspace)

    found = users.lookup(wanted)

    assert set(found) == set(wanted)
    assert calls(workspace) == expected_calls
    assert all(call["limit"] == "200" for call in workspace.calls_to("users.list"))


def test_a_sweep_stops_early_when_the_people_are_far_down_a_big_workspace(workspace: SlackDouble) -> None:
    wanted = [f"U{n:05d}" for n in range(970, 1000)]  # 30 people on the last of 5 pages

    found = directory(workspace).lookup(wanted)

    # 30 missing allow 3 pages (each page must save ten users.info calls); the rest one by one.
    assert set(found) == set(wanted)
    assert calls(workspace) == (3, 30)


def test_people_already_known_cost_nothing(workspace: SlackDouble) -> None:
    users = directory(workspace)
    users.lookup([f"U{n:05d}" for n in range(300)])
    before = calls(workspace)

    assert len(users.lookup([f"U{n:05d}" for n in range(300)])) == 300
    assert users.get("U00042") is not None
    assert calls(workspace) == before


def test_unknown_people_are_left_out(workspace: SlackDouble) -> None:
    assert directory(workspace).lookup(["U00001", "UNOBODY"]).keys() == {"U00001"}


def test_a_demoted_admin_loses_the_right_at_the_next_check(workspace: SlackDouble) -> None:
    workspace.users["U00007"]["is_admin"] = True
    users = directory(workspace)
    assert users.get("U00007") is not None  # a cached, admin, profile

    assert users.is_admin("U00007", TEAM_ID) is True
    workspace.users["U00007"]["is_admin"] = False

    assert users.is_admin("U00007", TEAM_ID) is False
    assert users.admin_status("U00007", TEAM_ID) is False
    assert calls(workspace) == (0, 4)  # every rights check asks Slack


def test_admin_rights_belong_to_the_requests_workspace(workspace: SlackDouble) -> None:
    workspace.users["U00008"].update(is_owner=True, team_id="T0OTHER")

    users = directory(workspace)

    assert users.is_admin("U00008", "T0OTHER") is True
    assert users.is_admin("U00008", "T0TEST") is False


def test_deactivated_admins_and_unknown_people_are_no_admins(workspace: SlackDouble) -> None:
    workspace.users["U00009"].update(is_admin=True, deleted=True)

    users = directory(workspace)

    assert users.admin_status("U00009", TEAM_ID) is False
    assert users.admin_status("UNOBODY", TEAM_ID) is False


def test_peerlearn_admins_need_no_call_and_slack_failures_are_said(workspace: SlackDouble) -> None:
    users = directory(workspace, admins=frozenset({"U00001"}))

    assert users.admin_status("U00001", "T0TEST") is True
    assert calls(workspace) == (0, 0)
    workspace.fail_next("users.info", error="ratelimited")
    assert users.admin_status("U00002", TEAM_ID) == Failed("ratelimited")
