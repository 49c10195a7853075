"""manifest.oauth.yml (OAuth mode) is Slack-valid and is manifest.yml plus exactly what installing in
many workspaces needs, so the two cannot drift apart."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import yaml

from runtime.oauth import REDIRECT_PATH
from tests.unit.test_manifest import FIXTURES, MANIFEST, ROOT

OAUTH_MANIFEST = yaml.safe_load((ROOT / "manifest.oauth.yml").read_text())
LIFECYCLE_EVENTS = {"app_uninstalled", "tokens_revoked"}


def test_the_oauth_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads((FIXTURES / "manifest.schema.1.0.0.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(OAUTH_MANIFEST), key=str)
    assert [e.message for e in errors] == []


def test_it_turns_on_rotation_org_installs_and_the_redirect_to_our_oauth_page() -> None:
    settings = OAUTH_MANIFEST["settings"]
    assert settings["token_rotation_enabled"] is True
    assert settings["org_deploy_enabled"] is True
    assert settings["socket_mode_enabled"] is False  # the install pages need HTTP
    assert OAUTH_MANIFEST["oauth_config"]["redirect_urls"] == [f"https://peerlearn.example.com{REDIRECT_PATH}"]
    assert set(settings["event_subscriptions"]["bot_events"]) >= LIFECYCLE_EVENTS


def test_it_is_the_single_workspace_manifest_and_nothing_else() -> None:
    def without_oauth_differences(manifest: dict[str, Any]) -> dict[str, Any]:
        manifest = copy.deepcopy(manifest)
        manifest["oauth_config"].pop("redirect_urls", None)
        for key in ("token_rotation_enabled", "org_deploy_enabled"):
            manifest["settings"].pop(key, None)
        events = manifest["settings"]["event_subscriptions"]["bot_events"]
        manifest["settings"]["event_subscriptions"]["bot_events"] = [e for e in events if e not in LIFECYCLE_EVENTS]
        return manifest

    assert without_oauth_differences(OAUTH_MANIFEST) == without_oauth_differences(MANIFEST)
