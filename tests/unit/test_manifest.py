"""manifest.yml is Slack-valid and declares exactly what the code uses; the emulation covers every call.

Scopes come from Slack's method reference as the emulation reads it (sandbox/slack_reference.json):
the same file decides what the sandbox and the tests' double refuse with `missing_scope`.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
SCOPES = json.loads((ROOT / "sandbox" / "slack_reference.json").read_text())


def registered(kind: str) -> set[str]:
    """Arguments of @app.<kind>(...) decorators across handlers/, constants resolved."""
    found = set()
    for path in (ROOT / "handlers").glob("*.py"):
        module = importlib.import_module(f"handlers.{path.stem}")
        for node in ast.walk(ast.parse(path.read_text())):
            is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if is_call and node.func.attr == kind and getattr(node.func.value, "id", None) == "app" and node.args:
                arg = node.args[0]
                found.add(arg.value if isinstance(arg, ast.Constant) else getattr(module, arg.id))
    return found


def web_api_methods() -> set[str]:
    """Web API methods the code calls, from `client.chat_postMessage(`-style calls."""
    names = set()
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        names |= set(re.findall(r"client\.([a-z]+_[A-Za-z_]+)\(", path.read_text()))
    return {name.replace("_", ".", 1) for name in names} | {"auth.test"}  # Bolt calls auth.test


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads((FIXTURES / "manifest.schema.1.0.0.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(MANIFEST), key=str)
    assert [e.message for e in errors] == []


def test_every_command_shortcut_and_event_is_declared_and_nothing_more() -> None:
    features, settings = MANIFEST["features"], MANIFEST["settings"]
    assert {c["command"] for c in features["slash_commands"]} == registered("command")
    assert {s["callback_id"] for s in features["shortcuts"]} == registered("shortcut")
    # Slack names message events by conversation type (message.channels); Bolt listens to "message".
    declared_events = {event.split(".")[0] for event in settings["event_subscriptions"]["bot_events"]}
    assert declared_events == registered("event")


def test_bot_scopes_are_exactly_those_the_calls_and_events_need() -> None:
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needed: set[str] = {"commands"}  # slash commands and shortcuts
    for method in web_api_methods():
        options = set(SCOPES["methods"][method]["bot_scopes"])
        assert not options or options & declared, f"{method} needs one of {sorted(options)}"
        needed |= options & declared
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        options = set(SCOPES["events"][event])  # empty for app_home_opened: it needs no scope
        assert not options or options & declared, f"{event} needs one of {sorted(options)}"
        needed |= options & declared
    needed |= {"channels:join"} if "conversations.join" in web_api_methods() else set()
    assert declared == needed


def test_every_method_the_code_calls_is_in_the_reference_and_emulated() -> None:
    from sandbox.web_api import WebApi

    for method in web_api_methods():
        assert method in SCOPES["methods"], f"{method}: copy its reference into sandbox/slack_reference.json"
        assert hasattr(WebApi, "api_" + method.replace(".", "_")), f"{method}: the emulation does not answer it"


def test_channel_scoped_calls_are_granted_for_public_and_private_channels() -> None:
    """Where Slack decides the scope by conversation type, the app works in the channels it posts in.
    (DMs and group DMs are not granted: the app refuses them itself, or Slack says missing_scope.)"""
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    by_type = {"conversations.info": "read", "conversations.history": "history", "conversations.replies": "history"}
    for method, kind in by_type.items():
        if method in web_api_methods():
            assert {f"channels:{kind}", f"groups:{kind}"} <= declared, method
