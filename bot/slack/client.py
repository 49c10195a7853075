"""The WebClient every Slack call goes through, with slack_sdk's retry handlers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.slack.pacing import PacedRateLimitRetryHandler, PostPacer

# Calls that create a message: after a dropped connection or a 5xx, Slack may have acted before its
# answer was lost, so a blind retry can post twice. They are left to the callers, which look for the
# message (by its metadata, or the file it shares) before posting again. (429s are still retried: Slack
# did not act.)
CREATING_METHODS = ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal")


class _NotCreating:
    """A retry handler's rule, less the calls that create a message (see CREATING_METHODS)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith(CREATING_METHODS):
            return False
        return bool(super()._can_retry(state=state, request=request, response=response, error=error))  # type: ignore[misc]


class ConnectionErrorsExceptCreating(_NotCreating, ConnectionErrorRetryHandler):
    pass


class ServerErrorsExceptCreating(_NotCreating, ServerErrorRetryHandler):
    pass


def build_client(
    token: str | None, base_url: str, *, max_retries: int = 3, pacer: PostPacer | None = None
) -> WebClient:
    """A WebClient that retries connection errors, 429s (after Retry-After) and 5xx (the first and
    last not for calls that create a message: see CREATING_METHODS).

    With a `pacer`, a retried 429 waits for a fresh pacing slot too (bulk posting). No token: the
    app's own calls in OAuth mode (oauth.v2.access), or a base for per-request clients.
    """
    client = WebClient(token=token, base_url=base_url, timeout=10)
    rate_limits = (
        RateLimitErrorRetryHandler(max_retry_count=max_retries)
        if pacer is None
        else PacedRateLimitRetryHandler(pacer, max_retry_count=max_retries)
    )
    client.retry_handlers = [
        ConnectionErrorsExceptCreating(max_retry_count=max_retries),
        rate_limits,
        ServerErrorsExceptCreating(max_retry_count=max_retries),
    ]
    return client
