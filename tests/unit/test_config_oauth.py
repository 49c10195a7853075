"""runtime/settings.py in OAuth mode: a client id and secret and no bot token install Peerlearn in
many workspaces; half of it, or both modes at once, is one ConfigError naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.oauth import authorization_url
from runtime.settings import OAuthSettings, Settings, wants_sandbox
from tests.unit.test_config import config_error

CLIENT_ID = "1234567890.9876543210"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
SIGNING_SECRET = "e3b9a1c4d27f50869b1d3a5c7e9f0b2d"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'peerlearn.db'}",
    }


def test_client_credentials_without_a_bot_token_mean_oauth_mode(env: dict[str, str]) -> None:
    settings = Settings.from_env(env | {"PEERLEARN_PUBLIC_URL": "https://peerlearn.example.com/"})

    assert settings.bot_token is None
    assert settings.oauth == OAuthSettings(CLIENT_ID, CLIENT_SECRET, None, "https://peerlearn.example.com")
    assert settings.oauth.redirect_uri == "https://peerlearn.example.com/slack/oauth_redirect"
    assert CLIENT_SECRET not in repr(settings)


def test_without_a_public_url_slack_uses_the_apps_own_redirect_url(env: dict[str, str]) -> None:
    oauth = Settings.from_env(env).oauth
    assert oauth is not None and oauth.redirect_uri is None


def test_a_bot_token_alone_is_the_single_workspace_mode_as_before(env: dict[str, str]) -> None:
    del env["SLACK_CLIENT_ID"], env["SLACK_CLIENT_SECRET"]
    settings = Settings.from_env(env | {"SLACK_BOT_TOKEN": "xoxb-1-2-abc"})
    assert (settings.bot_token, settings.oauth) == ("xoxb-1-2-abc", None)


@pytest.mark.parametrize(
    ("changes", "variable", "said"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-abc"}, "SLACK_BOT_TOKEN", "set together with SLACK_CLIENT_ID"),
        ({"SLACK_CLIENT_SECRET": None}, "SLACK_CLIENT_SECRET", "not set"),
        ({"SLACK_CLIENT_ID": None}, "SLACK_CLIENT_ID", "not set, but SLACK_CLIENT_SECRET is"),
        ({"SLACK_CLIENT_ID": "A0123ABC"}, "SLACK_CLIENT_ID", "must look like 1234567890.1234567890"),
        ({"SLACK_CLIENT_SECRET": "xoxb-not-a-secret"}, "SLACK_CLIENT_SECRET", "32 hexadecimal"),
        ({"SLACK_SIGNING_SECRET": None}, "SLACK_SIGNING_SECRET", "not set"),
        ({"SLACK_STATE_SECRET": "short"}, "SLACK_STATE_SECRET", "at least 16"),
        ({"PEERLEARN_PUBLIC_URL": "peerlearn.example.com"}, "PEERLEARN_PUBLIC_URL", "this server's URL"),
        ({"SLACK_APP_TOKEN": "xapp-1-A1-2-abc"}, "SLACK_APP_TOKEN", "needs HTTP mode"),
    ],
)
def test_half_or_both_modes_is_one_error_naming_the_variable(
    env: dict[str, str], changes: dict[str, str | None], variable: str, said: str
) -> None:
    error = config_error(env, **changes)
    assert error.variable == variable
    assert said in str(error)
    assert CLIENT_SECRET not in str(error)


def test_oauth_credentials_never_start_the_sandbox(env: dict[str, str]) -> None:
    assert wants_sandbox({"SLACK_CLIENT_ID": CLIENT_ID}) is False
    assert wants_sandbox({"SLACK_CLIENT_SECRET": CLIENT_SECRET}) is False
    assert wants_sandbox({}) is True


def test_the_consent_page_is_slacks_or_the_stand_ins() -> None:
    assert authorization_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"
    assert authorization_url("http://127.0.0.1:9/api/") == "http://127.0.0.1:9/oauth/v2/authorize"
