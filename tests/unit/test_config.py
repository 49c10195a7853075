"""runtime/settings.py: the environment becomes validated Settings, or one ConfigError naming the variable;
and runtime/workspace.py: the bot token checked with Slack at startup."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.settings import DEFAULT_SLACK_API_URL, ConfigError, Settings
from runtime.workspace import Workspace, wait_for_slack
from tests.slack_double import BOT_TOKEN as DOUBLE_TOKEN
from tests.slack_double import TEAM_ID, SlackDouble

BOT_TOKEN = "xoxb-1234-5678-secretbottoken"
APP_TOKEN = "xapp-1-A0123-456-secretapptoken"
SIGNING_SECRET = "e3b9a1c4d27f50869b1d3a5c7e9f0b2d"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The smallest valid environment, with the database inside the test's own directory."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'peerlearn.db'}",
    }


def config_error(env: dict[str, str], **changes: str | None) -> ConfigError:
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    return raised.value


def test_defaults_for_everything_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    assert settings == Settings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    assert settings.database_url == "sqlite:///data/peerlearn.db"
    assert (tmp_path / "data").is_dir()  # created so SQLite can open the file
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL == "https://slack.com/api/"
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 3000, "INFO")
    assert settings.tip_emoji == "bulb"
    assert settings.admin_user_ids == frozenset()
    assert settings.listener_threads == 32
    assert settings.app_token is None
    assert settings.socket_mode is False


def test_blank_optional_values_count_as_unset(env: dict[str, str]) -> None:
    env.update({"PORT": "  ", "LOG_LEVEL": "", "TIP_EMOJI": " ", "SLACK_APP_TOKEN": "  "})
    settings = Settings.from_env(env)
    assert (settings.port, settings.log_level, settings.tip_emoji, settings.app_token) == (
        3000,
        "INFO",
        "bulb",
        None,
    )


@pytest.mark.parametrize("name", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_required_variable_is_named(env: dict[str, str], name: str, value: str | None) -> None:
    error = config_error(env, **{name: value})
    assert error.variable == name
    assert str(error).startswith(f"{name}: not set")


@pytest.mark.parametrize("token", ["xoxp-1234-user-token", "xapp-1-A1-2-abc", "1234-xoxb-abc", "XOXB-123"])
def test_a_bot_token_of_the_wrong_kind_is_refused(env: dict[str, str], token: str) -> None:
    error = config_error(env, SLACK_BOT_TOKEN=token)
    assert error.variable == "SLACK_BOT_TOKEN"
    assert "'xoxb-'" in str(error)
    assert token not in str(error)


def test_an_app_token_turns_on_socket_mode(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "SLACK_APP_TOKEN": APP_TOKEN})
    assert settings.app_token == APP_TOKEN
    assert settings.socket_mode is True


@pytest.mark.parametrize("token", ["xoxb-1234-bot-token", "xoxp-1234-user-token", "app-1-A1"])
def test_an_app_token_of_the_wrong_kind_is_refused(env: dict[str, str], token: str) -> None:
    error = config_error(env, SLACK_APP_TOKEN=token)
    assert error.variable == "SLACK_APP_TOKEN"
    assert "'xapp-'" in str(error)


@pytest.mark.parametrize(
    "secret",
    ["0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789abcdef", " 8f742231b10e8888abcd99eeefff85a5 "],
)
def test_a_signing_secret_of_32_hex_characters_is_accepted(env: dict[str, str], secret: str) -> None:
    assert Settings.from_env({**env, "SLACK_SIGNING_SECRET": secret}).signing_secret == secret.strip()


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        ("0123456789abcdef", "16 characters"),
        ("0123456789abcdef0123456789abcdef0", "33 characters"),
        ("8f742231b10e8888abcd99yyyzzz85a5", "32 characters"),  # Slack's docs' placeholder: not hex
        ("your-signing-secret", "19 characters"),  # .env.example, not filled in
        ("0123456789abcdef 0123456789abcde", "32 characters"),
        ("xoxb-1234-5678-abcdefgh", "a token"),
    ],
)
def test_a_signing_secret_that_is_not_32_hex_characters_is_refused(env: dict[str, str], secret: str, kind: str) -> None:
    error = config_error(env, SLACK_SIGNING_SECRET=secret)
    assert error.variable == "SLACK_SIGNING_SECRET"
    assert "must be 32 hexadecimal characters" in str(error) and str(error).endswith(f"this is {kind}")
    assert "Basic Information" in str(error)
    assert secret not in str(error)


@pytest.mark.parametrize(("value", "port"), [("1", 1), ("8080", 8080), (" 65535 ", 65535)])
def test_port_in_range_is_accepted(env: dict[str, str], value: str, port: int) -> None:
    assert Settings.from_env({**env, "PORT": value}).port == port


@pytest.mark.parametrize("value", ["0", "65536", "99999", "-1", "80.5", "http", "0x50", "8 080"])
def test_port_that_is_not_a_usable_number_is_refused(env: dict[str, str], value: str) -> None:
    error = config_error(env, PORT=value)
    assert error.variable == "PORT"
    assert "1 to 65535" in str(error)
    assert repr(value) in str(error)


@pytest.mark.parametrize("name", ["PORT", "PEERLEARN_LISTENER_THREADS"])
def test_a_superscript_digit_is_a_config_error(env: dict[str, str], name: str) -> None:
    assert config_error(env, **{name: "8²"}).variable == name


@pytest.mark.parametrize(("value", "threads"), [("1", 1), ("64", 64)])
def test_listener_threads_accepts_a_positive_number(env: dict[str, str], value: str, threads: int) -> None:
    assert Settings.from_env({**env, "PEERLEARN_LISTENER_THREADS": value}).listener_threads == threads


@pytest.mark.parametrize("value", ["0", "-4", "many", "2.5"])
def test_listener_threads_refuses_anything_else(env: dict[str, str], value: str) -> None:
    assert config_error(env, PEERLEARN_LISTENER_THREADS=value).variable == "PEERLEARN_LISTENER_THREADS"


@pytest.mark.parametrize(("value", "seconds"), [(None, 30.0), ("2", 2.0), ("90.5", 90.5)])
def test_the_job_lease_is_short_by_default(env: dict[str, str], value: str | None, seconds: float) -> None:
    env.update({} if value is None else {"PEERLEARN_JOB_LEASE_SECONDS": value})
    assert Settings.from_env(env).job_lease_seconds == seconds


@pytest.mark.parametrize("value", ["0", "0.5", "601", "nan", "inf", "soon"])
def test_a_job_lease_out_of_range_is_refused(env: dict[str, str], value: str) -> None:
    assert config_error(env, PEERLEARN_JOB_LEASE_SECONDS=value).variable == "PEERLEARN_JOB_LEASE_SECONDS"


@pytest.mark.parametrize(
    ("value", "level"),
    [("debug", "DEBUG"), ("Warning", "WARNING"), ("ERROR", "ERROR"), ("critical", "CRITICAL")],
)
def test_log_level_is_normalised_to_upper_case(env: dict[str, str], value: str, level: str) -> None:
    assert Settings.from_env({**env, "LOG_LEVEL": value}).log_level == level


@pytest.mark.parametrize("value", ["verbose", "warn", "10", "info,debug"])
def test_an_unknown_log_level_is_refused_with_the_choices(env: dict[str, str], value: str) -> None:
    error = config_error(env, LOG_LEVEL=value)
    assert error.variable == "LOG_LEVEL"
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in str(error)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (":bulb:", "bulb"),
        ("bulb", "bulb"),
        (":Light_Bulb:", "light_bulb"),
        (":+1:", "+1"),
        ("skin-tone-2", "skin-tone-2"),
    ],
)
def test_tip_emoji_is_a_bare_lower_case_name(env: dict[str, str], value: str, name: str) -> None:
    assert Settings.from_env({**env, "TIP_EMOJI": value}).tip_emoji == name


@pytest.mark.parametrize("value", ["::", ":light bulb:", "💡", "bulb!", ":bulb:tada:", "a" * 101])
def test_an_invalid_tip_emoji_is_refused(env: dict[str, str], value: str) -> None:
    error = config_error(env, TIP_EMOJI=value)
    assert error.variable == "TIP_EMOJI"
    assert "bulb or :bulb:" in str(error)


@pytest.mark.parametrize(
    ("value", "admins"),
    [
        ("U012ABCDEF", {"U012ABCDEF"}),
        ("U012ABCDEF, W0123456 ,,U99", {"U012ABCDEF", "W0123456", "U99"}),
        ("U012ABCDEF,U012ABCDEF", {"U012ABCDEF"}),
        (" , ", set()),
    ],
)
def test_admins_are_a_comma_separated_list_of_user_ids(env: dict[str, str], value: str, admins: set[str]) -> None:
    assert Settings.from_env({**env, "PEERLEARN_ADMINS": value}).admin_user_ids == frozenset(admins)


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        ("U012ABCDEF,alice", "alice"),
        ("u012abcdef", "u012abcdef"),
        ("C012ABCDEF", "C012ABCDEF"),
        ("U1", "U1"),
        ("U012ABCDEF;U0456", "U012ABCDEF;U0456"),
        ("<@U012ABCDEF>", "<@U012ABCDEF>"),
    ],
)
def test_a_bad_admin_id_is_named(env: dict[str, str], value: str, bad: str) -> None:
    error = config_error(env, PEERLEARN_ADMINS=value)
    assert error.variable == "PEERLEARN_ADMINS"
    assert str(error).endswith(f"bad: {bad}")


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("postgres://u:p@db:5432/peerlearn", "postgresql+psycopg://u:p@db:5432/peerlearn"),
        ("postgresql://u:p@db:5432/peerlearn", "postgresql+psycopg://u:p@db:5432/peerlearn"),
        ("postgresql+psycopg://u:p@db/peerlearn", "postgresql+psycopg://u:p@db/peerlearn"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_database_url_gets_an_explicit_driver(env: dict[str, str], value: str, normalised: str) -> None:
    assert Settings.from_env({**env, "DATABASE_URL": value}).database_url == normalised


def test_sqlite_database_directory_is_created(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'peerlearn.db'}"
    assert Settings.from_env({**env, "DATABASE_URL": url}).database_url == url
    assert (tmp_path / "nested" / "deeper").is_dir()
    assert not (tmp_path / "nested" / "deeper" / "peerlearn.db").exists()


@pytest.mark.parametrize(
    "value",
    ["mysql://u:p@db/peerlearn", "postgresql+asyncpg://u:p@db/x", "/var/lib/peerlearn.db", "peerlearn.db"],
)
def test_an_unknown_database_scheme_is_refused(env: dict[str, str], value: str) -> None:
    error = config_error(env, DATABASE_URL=value)
    assert error.variable == "DATABASE_URL"
    assert "sqlite:///" in str(error)
    assert "postgresql://" in str(error)


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/"),
        ("https://slack.com/api", "https://slack.com/api/"),
    ],
)
def test_slack_api_url_ends_with_a_slash(env: dict[str, str], value: str, url: str) -> None:
    assert Settings.from_env({**env, "SLACK_API_URL": value}).slack_api_url == url


@pytest.mark.parametrize("value", ["ftp://slack.com/api/", "slack.com/api", "http://", "file:///tmp/api/"])
def test_slack_api_url_must_be_http(env: dict[str, str], value: str) -> None:
    error = config_error(env, SLACK_API_URL=value)
    assert error.variable == "SLACK_API_URL"
    assert repr(value) in str(error)


def test_settings_repr_hides_tokens_and_secret(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "SLACK_APP_TOKEN": APP_TOKEN})
    shown = repr(settings)
    assert "Settings(" in shown
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "xoxb-", "xapp-"):
        assert secret not in shown
    assert str(settings) == shown


def test_settings_repr_hides_the_database_password(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "DATABASE_URL": "postgresql://peerlearn:s3cr3t-pw@db:5432/peerlearn"})
    assert "s3cr3t-pw" not in repr(settings)


# -- the token, checked with Slack at startup (runtime/workspace.py) ---------------------------------


class Sleeps:
    """Records the waits between tries; stops the loop after `limit` of them."""

    def __init__(self, limit: int = 100) -> None:
        self.waits: list[float] = []
        self.limit = limit

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) >= self.limit:
            raise KeyboardInterrupt


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    slack = SlackDouble().start()
    yield slack
    slack.stop()


def test_the_tokens_workspace_is_asked_of_slack(double: SlackDouble) -> None:
    sleeps = Sleeps()

    assert wait_for_slack(DOUBLE_TOKEN, double.api_url, sleep=sleeps) == Workspace(team_id=TEAM_ID)
    assert sleeps.waits == [] and len(double.calls_to("auth.test")) == 1


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        ("invalid_auth", "not valid"),
        ("token_revoked", "revoked; reinstall"),
        ("account_inactive", "deleted bot or a workspace"),
        ("token_expired", "expired"),
        ("team_added_to_org", "Slack refused the token"),
    ],
)
def test_a_token_slack_refuses_is_a_config_error_naming_what_slack_said(
    double: SlackDouble, code: str, meaning: str
) -> None:
    double.fail_next("auth.test", error=code)

    with pytest.raises(ConfigError) as raised:
        wait_for_slack(DOUBLE_TOKEN, double.api_url, sleep=Sleeps(limit=1))

    assert raised.value.variable == "SLACK_BOT_TOKEN"
    assert str(raised.value).startswith(f"SLACK_BOT_TOKEN: Slack answered {code}: ") and meaning in str(raised.value)
    assert DOUBLE_TOKEN not in str(raised.value)


def test_a_wrong_token_is_refused_by_slack_itself(double: SlackDouble) -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN: Slack answered invalid_auth"):
        wait_for_slack("xoxb-not-this-one", double.api_url, sleep=Sleeps(limit=1))


def test_slack_errors_and_limits_are_waited_out_with_backoff(
    double: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    double.fail_next("auth.test", status=503)
    double.fail_next("auth.test", status=429, retry_after=3)
    double.fail_next("auth.test", error="service_unavailable")
    double.fail_next("auth.test", error="ratelimited")
    sleeps = Sleeps()

    assert wait_for_slack(DOUBLE_TOKEN, double.api_url, sleep=sleeps) == Workspace(team_id=TEAM_ID)
    assert sleeps.waits == [1, 3, 4, 8]  # the 429's Retry-After: 3 s
    lines = [record.getMessage() for record in caplog.records if record.name == "runtime.workspace"]
    assert len(lines) == 4 and all(f"at {double.api_url} (try {n})" in line for n, line in enumerate(lines, 1))
    assert "Slack answered internal_error (HTTP 503)" in lines[0] and "ratelimited (HTTP 429)" in lines[1]


def test_slack_unreachable_is_tried_again_up_to_a_minute_apart(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
    sleeps = Sleeps(limit=9)

    with pytest.raises(KeyboardInterrupt):
        wait_for_slack(DOUBLE_TOKEN, url, sleep=sleeps)

    assert sleeps.waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    lines = [record.getMessage() for record in caplog.records if record.name == "runtime.workspace"]
    assert len(lines) == 9 and all("cannot reach Slack" in line and "\n" not in line for line in lines)
    assert "Connection refused" in lines[0]
    assert DOUBLE_TOKEN not in caplog.text


def test_an_enterprise_grid_token_knows_its_organisation() -> None:
    answer = {"ok": True, "team_id": "T1", "enterprise_id": "E1", "user_id": "UBOT"}
    workspace = Workspace.from_auth_test(answer)

    assert workspace == Workspace(team_id="T1", enterprise_id="E1")
    assert workspace.serves("T1", None) and workspace.serves("T2", "E1")
    assert not workspace.serves("T2", None) and not workspace.serves("T2", "E2") and not workspace.serves(None, None)
    assert not Workspace(team_id="T1").serves("T2", None)
