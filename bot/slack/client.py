"""The WebClient every Slack call goes through, with slack_sdk's retry handlers.

429s: work on threads shared between workspaces (the scheduler's poster threads, the job worker's)
runs `deferring_rate_limits()` and gets `RateLimited` instead of a sleep (bot/slack/ratelimits.py).
Everywhere else slack_sdk still sleeps out `Retry-After` and retries: the web app's acks (the person
waits for that very answer, no queue could take the work back within Slack's 3 s, and each request
has a thread of its own, not a pool other workspaces' work waits on) and the scheduler's rounds
and keepers (run one item after another in the tick's own thread, which holds no other workspace's
post; their items are not built to be put back mid-way).
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from bot.slack.pacing import PacedRateLimitRetryHandler, PostPacer
from bot.slack.ratelimits import as_rate_limited, deferring

# Calls that create a message: after a dropped connection or a 5xx, Slack may have acted before its
# answer was lost, so a blind retry can post twice. They are left to the callers, which look for the
# message (by its metadata, or the file it shares) before posting again. (429s are still retried: Slack
# did not act; unless deferring, see bot/slack/ratelimits.py.)
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


class _NotDeferring:
    """A 429 retry handler's rule, less the work that gives its thread back instead (deferring)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if deferring():
            return False
        return bool(super()._can_retry(state=state, request=request, response=response, error=error))  # type: ignore[misc]


class RateLimitsUnlessDeferring(_NotDeferring, RateLimitErrorRetryHandler):
    pass


class PacedRateLimitsUnlessDeferring(_NotDeferring, PacedRateLimitRetryHandler):
    pass


class PeerlearnClient(WebClient):
    """slack_sdk's WebClient; a 429 met while deferring raises RateLimited (not SlackApiError)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            if (limited := as_rate_limited(error, api_method)) is not None:
                raise limited from error
            raise


class ConnectionErrorsExceptCreating(_NotCreating, ConnectionErrorRetryHandler):
    pass


class ServerErrorsExceptCreating(_NotCreating, ServerErrorRetryHandler):
    pass


def build_client(
    token: str | None, base_url: str, *, max_retries: int = 3, pacer: PostPacer | None = None
) -> WebClient:
    """A WebClient that retries connection errors, 429s (after Retry-After, unless deferring: see
    bot/slack/ratelimits.py) and 5xx (the first and last not for calls that create a message: see
    CREATING_METHODS).

    With a `pacer`, a retried 429 waits for a fresh pacing slot too (bulk posting). No token: the
    app's own calls in OAuth mode (oauth.v2.access), or a base for per-request clients.
    """
    client = PeerlearnClient(token=token, base_url=base_url, timeout=10)
    rate_limits = (
        RateLimitsUnlessDeferring(max_retry_count=max_retries)
        if pacer is None
        else PacedRateLimitsUnlessDeferring(pacer, max_retry_count=max_retries)
    )
    client.retry_handlers = [
        ConnectionErrorsExceptCreating(max_retry_count=max_retries),
        rate_limits,
        ServerErrorsExceptCreating(max_retry_count=max_retries),
    ]
    return client
