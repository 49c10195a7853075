"""bot/redaction.py: Slack tokens never reach a log line, whichever library writes it."""

from __future__ import annotations

import io
import logging
import urllib.error
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from runtime.redaction import TokenRedactingFilter, redact
from runtime.settings import configure_logging

BOT_TOKEN = "xoxb-1234-5678-AbCdEfGhIjKl"
USER_TOKEN = "xoxp-1234-5678-9012-abcdef"
APP_TOKEN = "xapp-1-A0123-456-abcdef0123"
REFRESH_TOKEN = "xoxe-1-abcdefghijkl"
TOKENS = (BOT_TOKEN, USER_TOKEN, APP_TOKEN, REFRESH_TOKEN)


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A DEBUG logger whose only handler carries the filter, writing into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(TokenRedactingFilter())
    logger = logging.getLogger("tests.unit.redaction")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, buffer
    logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_logging replaces the root logger's handlers; put them back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (f"token={BOT_TOKEN}", "token=xoxb-[redacted]"),
        (f"user {USER_TOKEN}.", "user xoxp-[redacted]."),
        (f"socket {APP_TOKEN}", "socket xapp-[redacted]"),
        (f"refresh {REFRESH_TOKEN}", "refresh xoxe-[redacted]"),
        (f"Authorization: Bearer {BOT_TOKEN}", "Authorization: Bearer [redacted]"),
        ("{'Authorization': 'Bearer abc.def-123'}", "{'Authorization': 'Bearer [redacted]'}"),
        ('{"Authorization": "Bearer sk_live_1"}', '{"Authorization": "Bearer [redacted]"}'),
        (f"{BOT_TOKEN},{APP_TOKEN}", "xoxb-[redacted],xapp-[redacted]"),
    ],
)
def test_redact_replaces_the_secret_part(text: str, redacted: str) -> None:
    assert redact(text) == redacted


@pytest.mark.parametrize(
    "text", ["", "chat.postMessage ok", "xoxb- alone", "the xoxbox toolbox", "Bearer", "token=(redacted)"]
)
def test_redact_leaves_text_without_secrets_alone(text: str) -> None:
    assert redact(text) == text


def test_filter_redacts_tokens_passed_as_format_arguments(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = log
    logger.debug("calling %s with %s and %r", "auth.test", BOT_TOKEN, {"token": USER_TOKEN})
    logger.info("socket mode with %(token)s", {"token": APP_TOKEN})
    logger.warning("headers: %s", {"Authorization": f"Bearer {BOT_TOKEN}", "User-Agent": "x"})
    output = buffer.getvalue()
    for token in TOKENS:
        assert token not in output
    assert "calling auth.test with xoxb-[redacted] and {'token': 'xoxp-[redacted]'}" in output
    assert "socket mode with xapp-[redacted]" in output
    assert "headers: {'Authorization': 'Bearer [redacted]', 'User-Agent': 'x'}" in output


def test_filter_keeps_ordinary_records_untouched(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = log
    logger.info("posted tip %d in %s", 42, "C1")
    assert buffer.getvalue() == "posted tip 42 in C1\n"


def test_filter_redacts_tokens_in_logged_exceptions(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = log
    try:
        raise ValueError(f"invalid_auth for {BOT_TOKEN}")
    except ValueError:
        logger.exception("call failed")
    output = buffer.getvalue()
    assert "ValueError: invalid_auth for xoxb-[redacted]" in output
    assert BOT_TOKEN not in output


def test_a_badly_formatted_log_call_does_not_raise(
    log: tuple[logging.Logger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, _ = log
    monkeypatch.setattr(logging, "raiseExceptions", False)  # the logging module's own error report off
    logger.warning("%d tips for %s", "many", BOT_TOKEN)


def test_configure_logging_scrubs_every_logger(root_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG")
    logging.getLogger("some.library").debug("token %s", BOT_TOKEN)
    err = capsys.readouterr().err
    assert "DEBUG some.library token xoxb-[redacted]" in err
    assert BOT_TOKEN not in err


def test_slack_sdk_debug_logs_never_show_the_token(root_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "xoxb-secret-123"
    configure_logging("DEBUG")
    client = WebClient(token=secret, base_url="http://127.0.0.1:1/", retry_handlers=[])
    with pytest.raises(urllib.error.URLError):
        # The token also travels in the body here, as it does when a token is passed explicitly.
        client.api_call("auth.test", params={"token": secret, "text": f"Bearer {secret}"})
    err = capsys.readouterr().err
    assert "Sending a request" in err  # slack_sdk did log the request at DEBUG
    assert secret not in err
