"""The sandbox's parts without the app: the switch, the manifest reading, the Web API's refusals, forms."""

from __future__ import annotations

import ast
import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from runtime.settings import ConfigError, wants_sandbox
from sandbox.block_kit import view_problems
from sandbox.forms import form_values
from sandbox.manifest import Manifest
from sandbox.page_state import page_state
from sandbox.seed import seed_workspace
from sandbox.web_api import Triggers, WebApi
from sandbox.workspace import BOT_USER_ID, Workspace
from tests.sandbox.conftest import offline_sandbox

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-unit-test"


@pytest.mark.parametrize(
    ("env", "sandbox"),
    [
        ({}, True),
        ({"SLACK_BOT_TOKEN": " ", "SLACK_SIGNING_SECRET": ""}, True),  # blank counts as unset
        ({"PEERLEARN_SANDBOX": "auto"}, True),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, False),  # partial: Settings then names what is missing
        ({"SLACK_APP_TOKEN": "xapp-1"}, False),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "abc", "PEERLEARN_SANDBOX": "off"}, False),
    ],
)
def test_the_sandbox_runs_only_without_any_credential(env: dict[str, str], sandbox: bool) -> None:
    assert wants_sandbox(env) is sandbox


@pytest.mark.parametrize(("value", "variable"), [("off", "SLACK_BOT_TOKEN"), ("yes", "PEERLEARN_SANDBOX")])
def test_sandbox_off_or_unknown_is_a_configuration_error(value: str, variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        wants_sandbox({"PEERLEARN_SANDBOX": value})
    assert raised.value.variable == variable


def test_the_manifest_decides_commands_shortcuts_and_events() -> None:
    manifest = Manifest.load(ROOT / "manifest.yml")
    assert {"/tip", "/peerlearn", "/circle"} <= set(manifest.commands)
    assert manifest.commands["/peerlearn"].should_escape and not manifest.commands["/tip"].should_escape
    assert [s.callback_id for s in manifest.shortcuts] == ["save_as_tip", "ask_peerlearn"]
    assert manifest.subscribed("message", "channel") and manifest.subscribed("message", "group")
    assert not manifest.subscribed("message", "im")  # the app did not ask for DMs' messages
    assert manifest.subscribed("reaction_added", "channel") and manifest.subscribed("app_home_opened", "im")
    assert manifest.home_tab and manifest.messages_tab


@pytest.fixture
def api(tmp_path: Path) -> tuple[WebApi, Workspace, list[dict[str, Any]], Triggers]:
    workspace = Workspace(tmp_path / "slack.db")
    seed_workspace(workspace)
    events: list[dict[str, Any]] = []
    triggers = Triggers()
    return WebApi(workspace, TOKEN, triggers, events.append), workspace, events, triggers


def test_the_web_api_checks_the_token(api: tuple[WebApi, Workspace, list[Any], Triggers]) -> None:
    web_api = api[0]
    assert web_api.handle("auth.test", {}, None) == {"ok": False, "error": "not_authed"}
    assert web_api.handle("auth.test", {}, "xoxb-other") == {"ok": False, "error": "invalid_auth"}
    assert web_api.handle("auth.test", {}, TOKEN)["user_id"] == BOT_USER_ID
    assert web_api.handle("admin.users.list", {}, TOKEN)["error"] == "unknown_method"


def test_posting_follows_slacks_membership_rules(api: tuple[WebApi, Workspace, list[Any], Triggers]) -> None:
    web_api, _, events, _ = api
    assert web_api.handle("chat.postMessage", {"channel": "C0DESIGN", "text": "hi"}, TOKEN)["error"] == "not_in_channel"
    assert (
        web_api.handle("chat.postMessage", {"channel": "G0LEADS", "text": "hi"}, TOKEN)["error"] == "channel_not_found"
    )
    assert web_api.handle("conversations.join", {"channel": "G0LEADS"}, TOKEN)["error"] == (
        "method_not_supported_for_channel_type"
    )
    assert web_api.handle("conversations.join", {"channel": "C0DESIGN"}, TOKEN)["ok"]
    posted = web_api.handle("chat.postMessage", {"channel": "C0DESIGN", "text": "hi"}, TOKEN)
    assert posted["ok"] and events[-1]["type"] == "message" and events[-1]["ts"] == posted["ts"]
    assert web_api.handle("chat.postMessage", {"channel": "U0ANA", "text": "a DM"}, TOKEN)["channel"] == "D0ANA"
    assert web_api.handle("chat.postMessage", {"channel": BOT_USER_ID, "text": "x"}, TOKEN)["error"] == "cannot_dm_bot"
    unsafe = {"channel": "C0GENERAL", "text": "<!channel>", "link_names": "true"}
    assert web_api.handle("chat.postMessage", unsafe, TOKEN)["error"] == "invalid_arguments"


def test_refused_block_kit_is_recorded_for_the_page(api: tuple[WebApi, Workspace, list[Any], Triggers]) -> None:
    web_api, workspace, _, _ = api
    blocks = json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}] * 51)
    answer = web_api.handle("chat.postMessage", {"channel": "C0GENERAL", "text": "x", "blocks": blocks}, TOKEN)
    assert answer["error"] == "invalid_blocks" and "51 blocks, more than 50" in answer["errors"]
    manifest = Manifest.load(ROOT / "manifest.yml")
    shown = page_state(workspace, manifest, user_id="U0ANA", channel_id="C0GENERAL", thread_ts=None, clock={})
    assert shown["problems"][0]["method"] == "chat.postMessage"
    assert "blocks[0].text: text is 3001 characters, more than 3000" in shown["problems"][0]["details"]
    assert not any(m["is_app"] for m in shown["messages"]), "nothing refused is posted"


def test_a_modal_needs_a_fresh_trigger(api: tuple[WebApi, Workspace, list[Any], Triggers]) -> None:
    web_api, _, _, triggers = api
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Hello"}, "blocks": [{"type": "divider"}]}
    assert web_api.handle("views.open", {"trigger_id": "made-up", "view": json.dumps(view)}, TOKEN)["error"] == (
        "expired_trigger_id"
    )
    trigger = triggers.issue("U0BEN", "C0GENERAL")
    opened = web_api.handle("views.open", {"trigger_id": trigger, "view": json.dumps(view)}, TOKEN)
    assert opened["ok"] and opened["view"]["id"].startswith("V")
    assert web_api.handle("views.open", {"trigger_id": trigger, "view": json.dumps(view)}, TOKEN)["error"] == (
        "expired_trigger_id"  # one use only
    )
    long_title = {**view, "title": {"type": "plain_text", "text": "x" * 25}}
    trigger = triggers.issue("U0BEN", "C0GENERAL")
    refused = web_api.handle("views.open", {"trigger_id": trigger, "view": json.dumps(long_title)}, TOKEN)
    assert refused["error"] == "invalid_arguments"


def test_form_values_are_shaped_as_slack_sends_them() -> None:
    view = {
        "blocks": [
            {"type": "input", "block_id": "name", "element": {"type": "plain_text_input", "action_id": "v",
                                                              "initial_value": "Readers"}},
            {"type": "input", "block_id": "when", "element": {"type": "timepicker", "action_id": "v"}},
            {"type": "input", "block_id": "often", "element": {"type": "static_select", "action_id": "v", "options": [
                {"text": {"type": "plain_text", "text": "Weekly"}, "value": "weekly"}]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "not an input"}},
        ]
    }  # fmt: skip
    values = form_values(view, {"when": "08:30", "often": "weekly"})
    assert values == {
        "name": {"v": {"type": "plain_text_input", "value": "Readers"}},
        "when": {"v": {"type": "timepicker", "selected_time": "08:30"}},
        "often": {"v": {"type": "static_select", "selected_option": view["blocks"][2]["element"]["options"][0]}},
    }


def test_a_people_picker_sends_the_picked_ids_or_keeps_its_initial_ones() -> None:
    picker = {"type": "multi_users_select", "action_id": "v", "initial_users": ["U0ELI"]}
    view = {"blocks": [{"type": "input", "block_id": "avoids", "element": picker}]}

    assert form_values(view)["avoids"]["v"] == {"type": "multi_users_select", "selected_users": ["U0ELI"]}
    picked = form_values(view, {"avoids": "U0BEN,U0CHEN"})["avoids"]["v"]
    assert picked == {"type": "multi_users_select", "selected_users": ["U0BEN", "U0CHEN"]}
    assert form_values(view, {"avoids": ""})["avoids"]["v"]["selected_users"] == []  # everyone unpicked


def _select(**changes: Any) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": "Weekly"}, "value": "weekly"}
    return {"type": "static_select", "action_id": "v", "options": [option], **changes}


@pytest.mark.parametrize(
    ("view", "problem"),
    [
        ({"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": [
            {"type": "input", "block_id": "a", "label": {"type": "plain_text", "text": "A"},
             "element": {"type": "plain_text_input", "action_id": "v"}}]}, "needs a submit button"),
        ({"type": "modal", "title": {"type": "plain_text", "text": "T"}, "submit": {"type": "plain_text", "text": "Go"},
          "blocks": [{"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}]}, "must be unique"),
        ({"type": "home"}, "view needs blocks"),
        ({"type": "home", "blocks": [{"type": "actions", "elements": [_select(options=[])]}]}, "needs options"),
        ({"type": "home", "blocks": [{"type": "actions", "elements": [
            _select(initial_option={"text": {"type": "plain_text", "text": "Daily"}, "value": "daily"})]}]},
         "initial_option must be one of the options"),
        ({"type": "home", "blocks": [{"type": "actions", "elements": [
            {"type": "timepicker", "action_id": "t", "initial_time": "9:00"}]}]}, "HH:mm"),
        ({"type": "home", "blocks": [{"type": "context", "elements": [{"type": "image", "image_url": "x"}]}]},
         "image needs image_url and alt_text"),
    ],
)  # fmt: skip
def test_views_slack_would_refuse(view: dict[str, Any], problem: str) -> None:
    assert any(problem in found for found in view_problems(view)), view_problems(view)


def test_the_page_actions_take_json_from_the_pages_own_address_only(tmp_path: Path) -> None:
    offline = offline_sandbox(tmp_path)
    url = offline.url + "sandbox/send"
    form = b'{"user": "U0ANA", "channel": "C0GENERAL", "text": "hello"}'
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, data=form, headers={"Content-Type": "text/plain"}))
        assert refused.value.code == 415
        rebound = {"Content-Type": "application/json", "Host": "attacker.example:80"}  # DNS rebinding
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, data=form, headers=rebound))
        assert refused.value.code == 403
        request = urllib.request.Request(url, data=form, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as accepted:
            assert json.loads(accepted.read()) == {"ok": True}
    finally:
        offline.close()


def test_malformed_arguments_get_slacks_errors_not_a_dropped_connection(
    api: tuple[WebApi, Workspace, list[Any], Triggers],
) -> None:
    web_api, workspace, _, _ = api
    not_objects = web_api.handle("chat.postMessage", {"channel": "C0GENERAL", "text": "x", "blocks": "[1]"}, TOKEN)
    assert not_objects["error"] == "invalid_blocks" and "blocks[0]: must be an object" in not_objects["errors"]
    bad_limit = web_api.handle("conversations.history", {"channel": "C0GENERAL", "limit": "many"}, TOKEN)
    assert bad_limit["error"] == "invalid_arguments"
    manifest = Manifest.load(ROOT / "manifest.yml")
    shown = page_state(workspace, manifest, user_id="U0ANA", channel_id="C0GENERAL", thread_ts=None, clock={})
    assert [p["method"] for p in shown["problems"]] == ["conversations.history", "chat.postMessage"]  # newest first
    assert shown["problems"][1]["details"][0] == "blocks[0]: must be an object"


def test_the_apps_messages_tab_is_read_only_as_its_manifest_says(tmp_path: Path) -> None:
    offline = offline_sandbox(tmp_path)
    try:
        body = json.dumps({"user": "U0ANA", "channel": "D0ANA", "text": "hello app"}).encode()
        request = urllib.request.Request(
            offline.url + "sandbox/send", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request) as answer:
            assert json.loads(answer.read()) == {
                "ok": False,
                "error": "Sending messages to this app has been turned off.",
            }
    finally:
        offline.close()


def _page_emoji() -> set[str]:
    table = (ROOT / "sandbox" / "static" / "mrkdwn.js").read_text().split("const EMOJI = {", 1)[1].split("};", 1)[0]
    return {found.group(1) or found.group(2) for found in re.finditer(r'(?:"([^"]+)"|([\w+-]+)):\s*"', table)}


def _app_emoji() -> dict[str, str]:
    """Every :emoji: in what the app says (string literals in bot/ and handlers/), with where it is."""
    used = {}
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for name in re.findall(r"(?<![\w:/]):([a-z0-9_+'-]*[a-z][a-z0-9_+'-]*):(?![\w/])", node.value):
                    used[name] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return used


def test_every_emoji_the_app_uses_renders_on_the_page() -> None:
    used = _app_emoji() | {"bulb": "runtime/settings.py (TIP_EMOJI's default)"}
    assert {"white_check_mark", "file_cabinet", "warning"} <= set(used), "the scan finds the app's emoji"
    missing = {name: where for name, where in used.items() if name not in _page_emoji()}
    assert missing == {}, "add these to EMOJI in sandbox/static/mrkdwn.js"


def test_message_times_follow_the_sandbox_clock(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "slack.db")
    seed_workspace(workspace)
    workspace.move_clock(3 * 86400)  # "Run scheduled jobs now" jumped three days ahead
    with workspace.session() as session:
        ts = float(workspace.add_message(session, "C0GENERAL", "U0ANA", "hello from the future").ts)
    assert abs(ts - (time.time() + 3 * 86400)) < 60
    assert Workspace(tmp_path / "slack.db").clock_offset == 3 * 86400  # kept across restarts
    workspace.move_clock(-86400)  # never back: ts values only grow
    assert workspace.clock_offset == 3 * 86400


def test_a_workspace_from_an_older_sandbox_starts_afresh(tmp_path: Path) -> None:
    old = Workspace(tmp_path / "slack.db")
    seed_workspace(old)
    with old.session() as session:
        old.set_setting(session, "schema", "1")
    old.close()
    again = Workspace(tmp_path / "slack.db")
    assert again.outdated and again.fresh
    with again.session() as session:
        assert again.members(session, "C0GENERAL") == set()  # its old tables were dropped


def test_a_file_the_app_shares_shows_on_the_page_as_a_link_that_downloads_it(tmp_path: Path) -> None:
    offline = offline_sandbox(tmp_path)
    web_api, token = offline.web_api, "xoxb-offline"
    web_api.files_url = offline.url
    content = "id,text\n1,Ünïcode tip\n".encode()
    try:
        ticket = web_api.handle("files.getUploadURLExternal", {"filename": "tips.csv", "length": len(content)}, token)
        with urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=content)) as sent:
            assert sent.status == 200
        dm = web_api.handle("conversations.open", {"users": "U0ANA"}, token)["channel"]["id"]
        files = json.dumps([{"id": ticket["file_id"], "title": "Tips"}])
        assert web_api.handle("files.completeUploadExternal", {"files": files, "channel_id": dm}, token)["ok"]

        manifest = Manifest.load(ROOT / "manifest.yml")
        shown = page_state(offline.workspace, manifest, user_id="U0ANA", channel_id="@app", thread_ts=None, clock={})
        [link] = shown["messages"][-1]["files"]
        assert (link["title"], link["url"]) == ("Tips", f"/files/{ticket['file_id']}/tips.csv")
        with urllib.request.urlopen(offline.url + link["url"].lstrip("/")) as download:
            assert download.read() == content
            assert download.headers["Content-Disposition"] == 'attachment; filename="tips.csv"'
        elsewhere = urllib.request.Request(offline.url + link["url"].lstrip("/"), headers={"Host": "evil.example:80"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(elsewhere)
        assert refused.value.code == 403
    finally:
        offline.close()
