"""Settings: the environment (and `.env`) turned into one typed, validated object.

A bad value raises `ConfigError` naming the variable and how to fix it; `app.py` prints that one
line and exits with status 2, so a misconfigured deployment never starts half-working.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from runtime.redaction import TokenRedactingFilter

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///data/peerlearn.db"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_EMOJI_NAME = re.compile(r"^[a-z0-9_+'-]{1,100}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SIGNING_SECRET = re.compile(r"[0-9a-fA-F]{32}")
_CLIENT_ID = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}")  # Slack's form: 1234567890.1234567890
_CLIENT_SECRET = re.compile(r"[0-9a-fA-F]{32}")
_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit, which accepts "²" that int() refuses


class ConfigError(Exception):
    """One misconfigured variable; the message is shown to the operator as-is."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class OAuthSettings:
    """Many workspaces from one deployment: the app's credentials for Slack's OAuth flow."""

    client_id: str
    client_secret: str = field(repr=False)
    # Signs the OAuth `state`, so a forged one is refused before any database read (optional).
    state_secret: str | None = field(default=None, repr=False)
    # Where people reach this server (https://peerlearn.example.com): the redirect URL Slack is told
    # to send installers back to. Unset, Slack uses the app's own Redirect URL setting.
    public_url: str | None = None

    @property
    def redirect_uri(self) -> str | None:
        return None if self.public_url is None else self.public_url + "/slack/oauth_redirect"


@dataclass(frozen=True)
class Settings:
    # Single workspace: its Bot User OAuth Token. None in OAuth mode (`oauth`), where each
    # workspace's token comes from its installation.
    bot_token: str | None = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    host: str = "127.0.0.1"
    port: int = 3000
    log_level: str = "INFO"
    tip_emoji: str = "bulb"
    admin_user_ids: frozenset[str] = frozenset()
    # Threads of a job worker, running listener work after the ack: mostly waiting on Slack, so
    # many. (A 429 does not hold one: its job goes back to the queue for the Retry-After.)
    listener_threads: int = 32
    role: str = "all"  # all | web | scheduler | worker
    grace_hours: float = 12.0  # a post missed while down is still made this long after its time
    # Workspace-wide pace of scheduled posts: under Slack's ~20/s with headroom, because pacing at
    # exactly the limit bounces off a strict one-second window on jitter alone (bench/posting.py).
    posts_per_second: float = 18.0
    # A job worker's lease on the jobs in hand, renewed by its heartbeat every third of it: a dead
    # worker's jobs run again this long after its last beat. Shorter only costs more renewals.
    job_lease_seconds: float = 30.0
    question_window_hours: float = 4.0  # working hours before an unanswered question goes to more people
    oauth: OAuthSettings | None = None

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def single_token(self) -> str:
        """The one bot token of a single-workspace deployment (never asked for in OAuth mode)."""
        assert self.bot_token is not None, "OAuth mode has a token per workspace, not one"
        return self.bot_token

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        oauth = _oauth(get)
        app_token = _optional_token(get("SLACK_APP_TOKEN"))
        if oauth is not None and app_token is not None:
            raise ConfigError(
                "SLACK_APP_TOKEN",
                "Socket Mode serves one workspace; installing in many (SLACK_CLIENT_ID) needs HTTP mode for "
                "its install pages: unset SLACK_APP_TOKEN",
            )
        return cls(
            bot_token=None
            if oauth is not None
            else _token(get("SLACK_BOT_TOKEN"), "SLACK_BOT_TOKEN", "xoxb-", "the Bot User OAuth Token"),
            signing_secret=_signing_secret(get("SLACK_SIGNING_SECRET")),
            app_token=app_token,
            oauth=oauth,
            slack_api_url=_api_url(get("SLACK_API_URL") or DEFAULT_SLACK_API_URL),
            database_url=_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            host=get("HOST") or "127.0.0.1",
            port=parse_port(get("PORT") or "3000"),
            log_level=parse_log_level(get("LOG_LEVEL") or "INFO"),
            tip_emoji=_emoji(get("TIP_EMOJI") or "bulb"),
            admin_user_ids=_admins(get("PEERLEARN_ADMINS") or ""),
            listener_threads=_positive_int(get("PEERLEARN_LISTENER_THREADS") or "32", "PEERLEARN_LISTENER_THREADS"),
            role=_role(get("PEERLEARN_ROLE") or "all"),
            grace_hours=_positive_number(get("PEERLEARN_GRACE_HOURS") or "12", "PEERLEARN_GRACE_HOURS"),
            posts_per_second=_positive_number(get("PEERLEARN_POSTS_PER_SECOND") or "18", "PEERLEARN_POSTS_PER_SECOND"),
            job_lease_seconds=_lease_seconds(get("PEERLEARN_JOB_LEASE_SECONDS") or "30"),
            question_window_hours=_positive_number(get("PEERLEARN_QUESTION_HOURS") or "4", "PEERLEARN_QUESTION_HOURS"),
        )


SLACK_CREDENTIALS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_STATE_SECRET",
)
_SANDBOX_HINT = " (or unset every SLACK_* variable to try Peerlearn in the local sandbox)"


def wants_sandbox(env: Mapping[str, str]) -> bool:
    """True when no Slack credential is set at all: `app.py` then runs the local sandbox instead of
    connecting to Slack. Some credentials but not all is a configuration error, never a sandbox."""
    switch = env.get("PEERLEARN_SANDBOX", "").strip().lower()
    if switch not in ("", "auto", "off"):
        raise ConfigError("PEERLEARN_SANDBOX", f"must be off (never start the sandbox) or unset, not {switch!r}")
    if any(env.get(name, "").strip() for name in SLACK_CREDENTIALS):
        return False
    if switch == "off":
        raise ConfigError(
            "SLACK_BOT_TOKEN",
            "not set, and PEERLEARN_SANDBOX=off forbids the local sandbox; put your Slack app's tokens in .env "
            "(see .env.example), or unset PEERLEARN_SANDBOX to try the sandbox",
        )
    return True


def _oauth(get: Callable[[str], str | None]) -> OAuthSettings | None:
    """OAuth mode: a client id (and its secret) and no bot token. Both is a mistake, not a choice."""
    client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
    where = "Basic Information → App Credentials"
    if client_id is None:
        if client_secret is not None:
            raise ConfigError(
                "SLACK_CLIENT_ID", f"not set, but SLACK_CLIENT_SECRET is; copy the Client ID from {where}"
            )
        return None
    if get("SLACK_BOT_TOKEN") is not None:
        raise ConfigError(
            "SLACK_BOT_TOKEN",
            "set together with SLACK_CLIENT_ID: unset SLACK_BOT_TOKEN to install in many workspaces (OAuth), "
            "or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to serve the one workspace of the token",
        )
    if not _CLIENT_ID.fullmatch(client_id):
        raise ConfigError("SLACK_CLIENT_ID", f"must look like 1234567890.1234567890 (from {where}), not {client_id!r}")
    if client_secret is None:
        raise ConfigError("SLACK_CLIENT_SECRET", f"not set; copy the Client Secret from {where} into .env")
    if not _CLIENT_SECRET.fullmatch(client_secret):
        raise ConfigError("SLACK_CLIENT_SECRET", f"must be 32 hexadecimal characters, from {where}")
    state_secret = get("SLACK_STATE_SECRET")
    if state_secret is not None and len(state_secret) < 16:
        raise ConfigError("SLACK_STATE_SECRET", "must be at least 16 characters (any random string)")
    public_url = get("PEERLEARN_PUBLIC_URL")
    if public_url is not None:
        parsed = urlparse(public_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
            raise ConfigError(
                "PEERLEARN_PUBLIC_URL",
                f"must be this server's URL, such as https://peerlearn.example.com, not {public_url!r}",
            )
        public_url = public_url.rstrip("/")
    return OAuthSettings(client_id, client_secret, state_secret, public_url)


def _token(value: str | None, name: str, prefix: str, what: str) -> str:
    if value is None:
        raise ConfigError(
            name, f"not set; copy {what} ({prefix}…) from your Slack app's settings into .env" + _SANDBOX_HINT
        )
    if not value.startswith(prefix):
        raise ConfigError(name, f"must start with {prefix!r}; it should be {what}")
    return value


def _optional_token(value: str | None) -> str | None:
    if value is None:
        return None
    return _token(value, "SLACK_APP_TOKEN", "xapp-", "an app-level token with connections:write (Socket Mode)")


def _signing_secret(value: str | None) -> str:
    where = "Basic Information → App Credentials → Signing Secret"
    if value is None:
        raise ConfigError("SLACK_SIGNING_SECRET", f"not set; copy it from {where} into .env" + _SANDBOX_HINT)
    # Slack's signing secrets are 32 hexadecimal characters (its docs' sample, 8f74…zzz85a5, is
    # a placeholder, not one). The value itself is never shown: it is a secret.
    if not _SIGNING_SECRET.fullmatch(value):
        kind = "a token" if value.startswith(("xox", "xapp-")) else f"{len(value)} characters"
        raise ConfigError(
            "SLACK_SIGNING_SECRET", f"must be 32 hexadecimal characters (0-9, a-f), from {where}; this is {kind}"
        )
    return value


def _api_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("SLACK_API_URL", f"must be an http(s) URL such as {DEFAULT_SLACK_API_URL}, not {value!r}")
    return value if value.endswith("/") else value + "/"


def _database_url(value: str) -> str:
    # Hosting providers hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    if value.startswith("sqlite:///"):
        path = value[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return value
    if value.startswith(("postgresql+psycopg://", "sqlite:")):
        return value
    raise ConfigError("DATABASE_URL", "use sqlite:///path/to/file.db or postgresql://user:password@host:5432/dbname")


def parse_port(value: str) -> int:
    if not _DIGITS.fullmatch(value) or not 0 < int(value) < 65536:
        raise ConfigError("PORT", f"must be a number from 1 to 65535, not {value!r}")
    return int(value)


def _positive_int(value: str, name: str) -> int:
    if not _DIGITS.fullmatch(value) or int(value) < 1:
        raise ConfigError(name, f"must be a whole number of at least 1, not {value!r}")
    return int(value)


def _positive_number(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0 < number < 1e6:
        raise ConfigError(name, f"must be a positive number, not {value!r}")
    return number


def _lease_seconds(value: str) -> float:
    seconds = _positive_number(value, "PEERLEARN_JOB_LEASE_SECONDS")
    if not 1 <= seconds <= 600:
        raise ConfigError("PEERLEARN_JOB_LEASE_SECONDS", f"must be from 1 to 600 seconds, not {value!r}")
    return seconds


ROLES = ("all", "web", "scheduler", "worker")


def _role(value: str) -> str:
    if value not in ROLES:
        raise ConfigError("PEERLEARN_ROLE", f"must be one of {', '.join(ROLES)}, not {value!r}")
    return value


def parse_log_level(value: str) -> str:
    level = value.upper()
    if level not in _LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"must be one of {', '.join(_LOG_LEVELS)}, not {value!r}")
    return level


def _emoji(value: str) -> str:
    name = value.strip(":").lower()
    if not _EMOJI_NAME.fullmatch(name):
        raise ConfigError("TIP_EMOJI", f"must be an emoji name such as bulb or :bulb:, not {value!r}")
    return name


def _admins(value: str) -> frozenset[str]:
    ids = [part.strip() for part in value.split(",") if part.strip()]
    bad = [user_id for user_id in ids if not _USER_ID.fullmatch(user_id)]
    if bad:
        raise ConfigError("PEERLEARN_ADMINS", f"takes Slack user ids like U012ABCDEF, comma-separated; bad: {bad[0]}")
    return frozenset(ids)


def configure_logging(level: str) -> None:
    """One line per event; tokens are scrubbed from every record whatever logger wrote it."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(TokenRedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
