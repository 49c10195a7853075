"""The sandbox with two workspaces (PEERLEARN_SANDBOX_WORKSPACES=2): one deployment of the app, in
OAuth mode, installed in both at start through the real flow (its install page, the sandbox's
consent page and oauth.v2.access, its redirect), serving each with its own token and data."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.sandbox.conftest import Sandbox, start_sandbox, stop_sandbox
from tests.sandbox.test_page import browser, page

__all__ = ["browser", "page"]  # fixtures


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the sandbox keeps its data in its own SQLite file; the SQLite pass of the suite covers it")
    directory = tmp_path_factory.mktemp("two-workspaces")
    running = start_sandbox(directory, PEERLEARN_SANDBOX_WORKSPACES="2")
    yield running, directory / "sandbox"
    assert stop_sandbox(running) == 0, "".join(running.output[-40:])


def state(sandbox: Sandbox, team: str, user: str = "", channel: str = "") -> dict[str, Any]:
    query = f"team={team}&user={user}&channel={channel}"
    with urllib.request.urlopen(f"{sandbox.url}sandbox/state?{query}", timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def texts(sandbox: Sandbox, team: str, user: str, channel: str) -> list[str]:
    return [json.dumps(message) for message in state(sandbox, team, user, channel)["messages"]]


def test_both_workspaces_are_installed_through_oauth(two: tuple[Sandbox, Path]) -> None:
    sandbox, data = two
    log = "".join(sandbox.output)
    assert "Peerlearn installed in Peerlearn Sandbox through the OAuth flow" in log
    assert "Peerlearn installed in Beta Sandbox through the OAuth flow" in log
    with sqlite3.connect(data / "peerlearn.db") as app_db:
        teams = {row[0] for row in app_db.execute("SELECT team_id FROM slack_bots WHERE bot_token IS NOT NULL")}
    assert teams == {"T0SANDBOX", "T0BETA"}


def test_the_page_switches_workspace_and_each_has_its_own_people(two: tuple[Sandbox, Path]) -> None:
    sandbox, _ = two
    first, beta = state(sandbox, ""), state(sandbox, "T0BETA")

    assert [w["id"] for w in first["workspaces"]] == ["T0SANDBOX", "T0BETA"]
    assert (first["team"], beta["team"]) == ("T0SANDBOX", "T0BETA")
    assert "Ana Souza" in {u["real_name"] for u in first["users"]}
    assert {u["real_name"] for u in beta["users"] if not u["is_bot"]} == {"Fay Lindqvist", "Gus Moreno", "Hana Sato"}
    assert any("the customer's own words" in text for text in texts(sandbox, "T0BETA", "U0GUS", "C0SUPPORT"))


def test_a_tip_in_one_workspace_never_shows_in_the_other(two: tuple[Sandbox, Path]) -> None:
    sandbox, _ = two
    tip = "Beta only: write the macro before the third identical ticket #support"

    answer = sandbox.act("send", team="T0BETA", user="U0GUS", channel="C0GENERAL", text=f"/tip {tip}")

    assert answer["ok"], answer
    deadline = time.monotonic() + 15
    while not any("write the macro" in text for text in texts(sandbox, "T0BETA", "U0GUS", "C0GENERAL")):
        assert time.monotonic() < deadline, "the tip was not posted in Beta's #general"
        time.sleep(0.1)
    # The first workspace's #general has the same channel id: nothing of Beta's there, nor in its search.
    assert not any("write the macro" in text for text in texts(sandbox, "T0SANDBOX", "U0ANA", "C0GENERAL"))
    sandbox.act("send", team="T0SANDBOX", user="U0ELI", channel="C0ENG", text="/tip search macro ticket")
    deadline = time.monotonic() + 15
    while not (found := [t for t in texts(sandbox, "T0SANDBOX", "U0ELI", "C0ENG") if "macro" in t]):
        assert time.monotonic() < deadline, "no answer to the search"
        time.sleep(0.1)
    assert not any("write the macro before" in text for text in found[-1:])


def test_scheduled_jobs_post_in_each_workspace_with_its_own_schedules(two: tuple[Sandbox, Path]) -> None:
    """The first workspace has Monday prompts and a Friday digest in #general; Beta, Tuesday prompts
    in its own #general. A week of jobs: each workspace's posts land in its own channel only."""
    sandbox, _ = two
    summaries = []
    for _ in range(6):
        answer = sandbox.act("jobs", user="U0ANA")
        assert answer["ok"], answer
        summaries.append(answer["summary"])

    # Each run says where its posts went: the two workspaces share the clock and the scheduler.
    assert all("New from the app: Peerlearn Sandbox " in s and "; Beta Sandbox " in s for s in summaries)
    assert any("Beta Sandbox 1 message" in s or "Beta Sandbox 2 messages" in s for s in summaries), summaries
    beta = [t for t in texts(sandbox, "T0BETA", "U0FAY", "C0GENERAL") if "Learning prompt" in t]
    first = [t for t in texts(sandbox, "T0SANDBOX", "U0ANA", "C0GENERAL") if "Learning prompt" in t]
    assert beta and first
    assert not set(beta) & set(first)


def test_the_switcher_beside_acting_as_shows_each_workspace(page: Page, two: tuple[Sandbox, Path]) -> None:
    sandbox, _ = two
    page.goto(f"{sandbox.url}#team=T0SANDBOX&user=U0ANA&channel=C0GENERAL")
    switcher = page.get_by_label("Workspace")
    expect(switcher).to_have_value("T0SANDBOX")

    switcher.select_option("T0BETA")

    expect(page.get_by_label("Acting as")).to_have_value("U0FAY")  # Beta's people now
    for _ in range(5):  # the list is redrawn whenever the workspace changes: click again if it was
        page.get_by_role("button", name="support").click()
        try:
            expect(page.locator("#conversation-title")).to_contain_text("support", timeout=2000)
            break
        except AssertionError:
            continue
    expect(page.locator("#messages li.message").filter(has_text="the customer's own words")).to_be_visible()
    composer = page.get_by_label("Message #support")
    composer.fill("/tip Tag the ticket before you hand it over #handoff")
    composer.press("Enter")
    expect(page.locator("#messages li.message").filter(has_text="Tag the ticket before")).to_be_visible()

    switcher.select_option("T0SANDBOX")
    expect(page.get_by_label("Acting as")).to_have_value("U0ANA")
    expect(page.get_by_role("button", name="support")).to_have_count(0)  # no such channel here


def test_a_file_sent_in_the_second_workspace_arrives_and_downloads(two: tuple[Sandbox, Path]) -> None:
    """/peerlearn my-data in Beta: the file's bytes go to Beta's upload URL and download from the page."""
    sandbox, _ = two
    answer = sandbox.act("send", team="T0BETA", user="U0GUS", channel="C0GENERAL", text="/peerlearn my-data")
    assert answer["ok"], answer

    dm = state(sandbox, "T0BETA", "U0GUS")["app_dm"]
    deadline = time.monotonic() + 20
    while not (files := [f for m in state(sandbox, "T0BETA", "U0GUS", dm)["messages"] for f in m.get("files", [])]):
        assert time.monotonic() < deadline, texts(sandbox, "T0BETA", "U0GUS", "C0GENERAL")[-2:]
        time.sleep(0.2)
    with urllib.request.urlopen(sandbox.url + files[-1]["url"].lstrip("/"), timeout=30) as response:
        exported = json.loads(response.read())
    assert "U0GUS" in json.dumps(exported)


def test_a_link_opens_in_its_own_workspace_after_another_tab_switched(page: Page, two: tuple[Sandbox, Path]) -> None:
    """Tabs share what the page stores (the last workspace and person): a link clicked in the first
    tab must still open the first workspace, as its own person, after a second tab chose Beta."""
    sandbox, _ = two
    question = "/ask How do we rotate the staging database password safely? #postgres"
    answer = sandbox.act("send", team="T0SANDBOX", user="U0DANA", channel="C0GENERAL", text=question)
    assert answer["ok"], answer
    page.goto(f"{sandbox.url}#team=T0SANDBOX&user=U0DANA&channel=C0GENERAL")
    expect(page.get_by_role("link", name="your question").last).to_be_visible(timeout=15_000)

    other = page.context.new_page()
    other.goto(f"{sandbox.url}#team=T0BETA&user=U0FAY&channel=C0GENERAL")
    expect(other.get_by_label("Acting as")).to_have_value("U0FAY")
    other.close()

    page.get_by_role("link", name="your question").last.click()
    expect(page.get_by_label("Workspace")).to_have_value("T0SANDBOX")
    expect(page.get_by_label("Acting as")).to_have_value("U0DANA")
    expect(page.locator("#messages li.message").filter(has_text="rotate the staging database")).to_be_visible()
