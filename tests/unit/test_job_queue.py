"""The job queue's wiring into Bolt, and which failures are worth a retry."""

from __future__ import annotations

import inspect
from urllib.error import URLError

import pytest
from slack_bolt import App
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.retry import Attempt, is_transient


def test_bolt_still_starts_lazy_listeners_through_the_method_the_queue_replaces() -> None:
    # bot/serving.py overrides it to skip Bolt's copy of each request; if Bolt stops calling it,
    # jobs are still queued (through QueueingLazyRunner.start), only slower: this test says so.
    assert "self._start_lazy_function(" in inspect.getsource(ThreadListenerRunner.run)


def test_bolt_still_has_what_the_job_worker_runs_a_listener_with() -> None:
    # runtime/serving.py ListenerJobs does what Bolt's dispatch does for a lazy-only request, less
    # the search for its listener, with these parts of Bolt's App and Listener; if one goes, this
    # test says so (jobs would fail with "could not be dispatched", retried, then reported).
    app = App(token="xoxb-0", signing_secret="0" * 32, token_verification_enabled=False, process_before_response=True)
    app.command("/x")(ack=lambda ack: ack(), lazy=[lambda body: None])
    (listener,) = app._listeners
    assert callable(app._init_context) and isinstance(app._middleware_list, list)
    assert callable(app.listener_runner.lazy_listener_runner.run)
    assert listener.lazy_functions and callable(listener.matches) and callable(listener.run_middleware)


def slack_error(status: int, error: str) -> SlackApiError:
    response = SlackResponse(
        client=None, http_verb="POST", api_url="x", req_args={}, data={"ok": False, "error": error},
        headers={}, status_code=status,
    )  # fmt: skip
    return SlackApiError(error, response)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
        (URLError("connection refused"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (slack_error(503, "service_unavailable"), True),
        (slack_error(429, "ratelimited"), True),
        (slack_error(200, "invalid_blocks"), False),
        (IntegrityError("INSERT", {}, Exception("unique")), False),
        (KeyError("user_id"), False),
    ],
)
def test_only_failures_a_later_try_may_not_meet_are_retried(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
    assert Attempt(number=1, final=False).will_retry(error) is transient
    assert Attempt(number=4, final=True).will_retry(error) is False
