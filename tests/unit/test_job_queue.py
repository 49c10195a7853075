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
from bot.slack.ratelimits import RateLimited


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


@pytest.mark.parametrize(
    ("error", "is_429"),
    [
        (RateLimited("chat.postMessage", 3, "T0TEST"), True),
        (slack_error(429, "ratelimited"), True),
        (slack_error(503, "service_unavailable"), False),
    ],
)
def test_a_429_while_the_job_is_young_is_put_back_even_on_its_final_attempt(error: Exception, is_429: bool) -> None:
    """A 429 is not a failure: the job goes back for its Retry-After (runtime/jobs.py), attempt
    not counted, so even the final attempt will run again; past DEFER_RATE_LIMITED_FOR it counts."""
    assert Attempt(number=4, final=True, may_defer=True).will_retry(error) is is_429
    assert Attempt(number=4, final=True, may_defer=False).will_retry(error) is False
    assert Attempt(number=1, final=False, may_defer=False).will_retry(error) is True  # a passing failure


def test_a_job_acts_with_its_own_workspace_client_kept_for_that_workspace() -> None:
    # ListenerJobs keeps one context client per workspace instead of Bolt's one per request: each
    # workspace's jobs still see that workspace's token on it, never another's.
    from datetime import UTC, datetime
    from urllib.parse import urlencode

    from slack_bolt.authorization import AuthorizeResult

    from runtime.serving import ListenerJobs
    from storage.jobs import ClaimedJob

    def authorize(enterprise_id: str | None, team_id: str, user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=None, team_id=team_id, bot_token=f"xoxb-{team_id}", bot_user_id="UBOT", bot_id="B1"
        )

    app = App(
        signing_secret="0" * 32, authorize=authorize, request_verification_enabled=False, process_before_response=True
    )
    seen: list[tuple[str, object, str | None]] = []

    def work(context: dict[str, object], client: object) -> None:
        seen.append((str(context["team_id"]), client, getattr(client, "token", None)))

    app.command("/x")(ack=lambda ack: ack(), lazy=[work])
    jobs = ListenerJobs(app)

    def job(team: str, number: int) -> ClaimedJob:
        body = urlencode({"command": "/x", "team_id": team, "user_id": "U1", "text": "hi", "trigger_id": "t"})
        return ClaimedJob(
            id=number, team_id=team, listener="work", mode="http",
            content_type="application/x-www-form-urlencoded", body=body, attempts=1, created_at=datetime.now(UTC),
        )  # fmt: skip

    for number, team in enumerate(("T1", "T2", "T1")):
        jobs(job(team, number), Attempt(number=1, final=False))  # ran (`seen`); no handlers/errors.py mark
    (team_a, client_a, token_a), (team_b, client_b, token_b), (team_c, client_c, token_c) = seen
    assert (team_a, token_a, team_b, token_b, team_c, token_c) == ("T1", "xoxb-T1", "T2", "xoxb-T2", "T1", "xoxb-T1")
    assert client_a is client_c and client_a is not client_b


def test_org_wide_jobs_without_a_team_never_share_a_client_across_organisations() -> None:
    # An org-wide install's request may carry an enterprise and no team: the client kept for it is
    # that organisation's, or one organisation's token could go out on another's call.
    from datetime import UTC, datetime
    from urllib.parse import urlencode

    from slack_bolt.authorization import AuthorizeResult

    from runtime.serving import ListenerJobs
    from storage.jobs import ClaimedJob

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token=f"xoxb-{enterprise_id}", bot_user_id="UBOT",
            bot_id="B1",
        )  # fmt: skip

    app = App(
        signing_secret="0" * 32, authorize=authorize, request_verification_enabled=False, process_before_response=True
    )
    seen: list[tuple[object, object, str | None]] = []

    def work(context: dict[str, object], client: object) -> None:
        seen.append((context["enterprise_id"], client, getattr(client, "token", None)))

    app.command("/x")(ack=lambda ack: ack(), lazy=[work])
    jobs = ListenerJobs(app)
    for number, enterprise in enumerate(("E1", "E2")):
        body = urlencode(
            {"command": "/x", "enterprise_id": enterprise, "user_id": "U1", "text": "hi", "trigger_id": "t"}
        )
        job = ClaimedJob(
            id=number, team_id="", listener="work", mode="http", content_type="application/x-www-form-urlencoded",
            body=body, attempts=1, created_at=datetime.now(UTC),
        )  # fmt: skip
        jobs(job, Attempt(number=1, final=False))
    (org_a, client_a, token_a), (org_b, client_b, token_b) = seen
    assert (org_a, token_a, org_b, token_b) == ("E1", "xoxb-E1", "E2", "xoxb-E2")
    assert client_a is not client_b
