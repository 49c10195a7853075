"""The WebClient every Slack call goes through, with slack_sdk's retry handlers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack.pacing import PacedRateLimitRetryHandler, PostPacer


def build_client(token: str, base_url: str, *, max_retries: int = 3, pacer: PostPacer | None = None) -> WebClient:
    """A WebClient that retries connection errors, 429s (after Retry-After) and 5xx.

    With a `pacer`, a retried 429 waits for a fresh pacing slot too (bulk posting).
    """
    client = WebClient(token=token, base_url=base_url, timeout=10)
    rate_limits = (
        RateLimitErrorRetryHandler(max_retry_count=max_retries)
        if pacer is None
        else PacedRateLimitRetryHandler(pacer, max_retry_count=max_retries)
    )
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        rate_limits,
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]
    return client
