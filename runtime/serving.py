"""Serving the app: HTTP mode (Bolt behind gunicorn, plus a health check) or Socket Mode, and the
job queue between the app's acks and the job workers that do the rest."""

from __future__ import annotations

import ctypes
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.listener import Listener
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.logger import get_bolt_app_logger
from slack_bolt.util.utils import get_arg_names_of_callable, get_name_for_callable
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.retry import JOB_ATTEMPT, Attempt
from bot.slack.requests import given_back_on_failure, request_key
from handlers.errors import ACK_FAILED
from runtime.edge import SlackEdge
from runtime.jobs import JobQueue
from storage.db import Database
from storage.jobs import ClaimedJob, NewJob

if TYPE_CHECKING:
    from types import FrameType
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
# Bolt reads these request headers to run one lazy listener alone, without the ack (its AWS Lambda
# adapter re-invokes itself that way). Only our job worker may ask for that, never the network.
_LAZY_HEADERS = ("HTTP_X_SLACK_BOLT_LAZY_ONLY", "HTTP_X_SLACK_BOLT_LAZY_FUNCTION_NAME")


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas, as MALLOC_ARENA_MAX=2 would.

    glibc gives threads their own arenas (up to 8 per core); with ~50 request, listener and poster
    threads that fragments memory: measured 134-141 MB RSS after 3 minutes at 200 req/s, against
    89 MB with two arenas. Elsewhere than glibc this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_arena_max = -8  # from glibc's malloc.h
    libc.mallopt(m_arena_max, arenas)


def wsgi_app(bolt_app: App, db: Database, signing_secret: str) -> WSGIApplication:
    """`POST /slack/events` to Bolt through the edge's checks (runtime/edge.py), `GET /healthz` a
    database round-trip; in OAuth mode `GET /slack/install` and `GET /slack/oauth_redirect` to Bolt's
    OAuth flow (runtime/oauth.py); anything else 404."""
    slack = SlackEdge(bolt_app, signing_secret)
    oauth = SlackRequestHandler(bolt_app) if bolt_app.oauth_flow is not None else None
    oauth_paths = (
        (bolt_app.oauth_flow.install_path, bolt_app.oauth_flow.redirect_uri_path) if bolt_app.oauth_flow else ()
    )

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _health(db, start_response)
        if path == SLACK_PATH and environ.get("REQUEST_METHOD") == "POST":
            for header in _LAZY_HEADERS:
                environ.pop(header, None)
            return slack(environ, start_response)
        if oauth is not None and path in oauth_paths and environ.get("REQUEST_METHOD") == "GET":
            return oauth(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return application


def _health(db: Database, start_response: StartResponse) -> Iterable[bytes]:
    try:
        db.ping()
    except SQLAlchemyError as error:
        log.error("health check failed: %s", error.__class__.__name__)
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"database unavailable\n"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]


class QueueingLazyRunner(LazyListenerRunner):
    """Bolt's lazy listeners, run later by a job worker: each becomes a row in the job queue.

    Bolt starts them after the ack function returned and before the response goes out, so every
    acknowledged request has its work stored first; if storing fails, there is no ack: the person
    is told to try again, an event gets a 500 (handlers/errors.py).
    A request seen before (same request key and listener) stores nothing and is acknowledged; a
    request whose ack failed stores nothing either (handlers/errors.py told the person).
    """

    def __init__(self, queue: JobQueue, logger: logging.Logger) -> None:
        self.queue = queue
        self.logger = logger

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        self.store(request, str(request.lazy_function_name))

    def store(self, request: BoltRequest, listener: str) -> None:
        if request.context.get(ACK_FAILED):  # the person was told it failed; doing it anyway would surprise
            return
        socket_mode = request.mode == "socket_mode"
        self.queue.enqueue(
            NewJob(
                team_id=str(request.context.team_id or request.context.enterprise_id or ""),
                listener=listener,
                mode=request.mode,
                content_type=request.content_type,
                body=json.dumps(request.body) if socket_mode else request.raw_body,
                # The same on a replay of the signed request (within Slack's 5 minutes) and on an
                # event Slack delivers again: queued once, each later copy acknowledged, not queued.
                key=job_key(request.body, listener),
            )
        )


def job_key(body: dict[str, Any], listener: str) -> str:
    """The key a request's job for `listener` is queued under (once per key: storage/jobs.py)."""
    return f"{request_key(body)}:{listener}"


class _QueueingListenerRunner(ThreadListenerRunner):
    """Bolt's listener runner, minus the deep copy of the whole request it makes for each lazy
    listener (for another thread to use): a job keeps only the body, and the copy cost ~130 µs, a
    third of the web side of a request. Should Bolt rename the method, its own path still calls
    `QueueingLazyRunner.start`, with the copy (tests/unit/test_job_queue.py watches for that)."""

    lazy_listener_runner: QueueingLazyRunner

    def _start_lazy_function(self, lazy_func: Callable[..., None], request: BoltRequest) -> None:
        self.lazy_listener_runner.store(request, get_name_for_callable(lazy_func))


def queue_lazy_listeners(app: App, queue: JobQueue) -> None:
    """Make `app` store its lazy listeners' work in `queue`. Call it before registering listeners
    and the error handler (they attach to the runner it installs)."""
    base = app.listener_runner
    app._listener_runner = _QueueingListenerRunner(  # Bolt 1.x takes no runner of ours in App(...)
        logger=base.logger,
        process_before_response=base.process_before_response,
        listener_error_handler=base.listener_error_handler,
        listener_start_handler=base.listener_start_handler,
        listener_completion_handler=base.listener_completion_handler,
        listener_executor=base.listener_executor,
        lazy_listener_runner=QueueingLazyRunner(queue, base.logger),
    )


# Around all a request's work: acts for the request's workspace (runtime/factory.py
# `acting_for_request`), so every Slack call made inside goes out with that workspace's token.
ActingFor = Callable[[BoltRequest], AbstractContextManager[object]]


def _acting_for_nobody(request: BoltRequest) -> AbstractContextManager[object]:
    return nullcontext()


class ListenerJobs:
    """Runs a queued job: the request it was queued for, to the lazy listener it names, in the worker's app.

    As Bolt's own dispatch of a `lazy_only` request does (the request's context, the app's global
    middleware, the listener's middleware, Bolt's lazy runner with its injected arguments), less
    the search for the listener: Bolt would test every listener's matchers against the request (a
    database read, for prompt replies), while the job already names the lazy function the ack's
    listener queued. Any listener registered with `lazy=[...]` is found by that name; a name two
    listeners share is settled by their matchers, and a name no listener has goes through Bolt's
    whole dispatch, which reports it.
    """

    def __init__(self, app: App, acting_for: ActingFor = _acting_for_nobody) -> None:
        self.app = app
        self.acting_for = acting_for
        self._lazy: dict[str, list[tuple[Listener, Callable[..., None], list[str]]]] | None = None
        self._logger = get_bolt_app_logger(app_name=app.name, base_logger=app._base_logger)
        self._clients: dict[tuple[str | None, str | None], WebClient] = {}  # by (enterprise, team)
        self._clients_lock = threading.Lock()

    def __call__(self, job: ClaimedJob, attempt: Attempt) -> str | None:
        request = self._request(job, {JOB_ATTEMPT: attempt})
        with self.acting_for(request):  # as the app's dispatch does for a request from Slack
            status, refused = self._run(request, job.listener)
        if refused:  # its workspace was uninstalled (or its installation deleted) while it waited
            return f"not run: workspace {job.team_id} is no longer served here (status {status})"
        if not attempt.started:  # e.g. a deploy renamed the listener while its jobs were queued
            return f"no listener named {job.listener} took it (status {status})"
        return None

    def key_given_back(self, job: ClaimedJob) -> str | None:
        """The key `job` was queued under, when it is one to release once the job failed for good
        (a once-per-message click: bot/slack/requests.py `given_back_on_failure`); else None."""
        body = self._request(job, {}).body
        return job_key(body, job.listener) if given_back_on_failure(body) else None

    def _request(self, job: ClaimedJob, context: dict[str, Any]) -> BoltRequest:
        """The Slack request `job` was queued for, as Bolt reads it (for the listener it names alone)."""
        headers: dict[str, str | Sequence[str]] = {
            "x-slack-bolt-lazy-only": "1",
            "x-slack-bolt-lazy-function-name": job.listener,
        }
        if job.content_type:
            headers["content-type"] = job.content_type
        return BoltRequest(
            body=json.loads(job.body) if job.mode == "socket_mode" else job.body,
            headers=headers,
            context=context,
            mode=job.mode,
        )

    def _run(self, request: BoltRequest, name: str) -> tuple[int, bool]:
        """The status, and whether a middleware answered instead of letting any listener run."""
        candidates = self._lazy_listeners().get(name)
        if not candidates:
            return self.app.dispatch(request).status, False
        app = self.app
        self._init_context(request)
        response: BoltResponse | None = BoltResponse(status=200, body="")
        went_on: list[bool] = []

        def next_middleware() -> None:
            went_on.append(True)

        for middleware in app._middleware_list:  # the workspace check, authorization, …
            went_on.clear()
            response = middleware.process(req=request, resp=response, next=next_middleware)  # type: ignore[arg-type]
            if not went_on:  # it answered instead (a workspace not served): no listener runs
                return (response.status if response is not None else 404), True
        for listener, function, arg_names in candidates:
            if len(candidates) > 1 and not listener.matches(req=request, resp=response):  # type: ignore[arg-type]
                continue
            _, declined = listener.run_middleware(req=request, resp=response)  # type: ignore[arg-type]
            if not declined:
                self._call(function, arg_names, request)
            return 200, False
        return 404, False

    def _init_context(self, request: BoltRequest) -> None:
        """The context's logger, token and client, as Bolt's dispatch makes them (App._init_context),
        less a new WebClient and logger for every job (~2% of a vote's CPU): the client is kept per
        workspace, so the token Bolt's authorization puts on it is always that workspace's own (the
        same value from every thread, or a refreshed one of the same workspace)."""
        context, app = request.context, self.app
        team = context.team_id
        # By enterprise too: an org-wide request may carry no team, and two organisations' requests
        # must never share the client Bolt's authorization writes a token on.
        key = (context.enterprise_id, team)
        client = self._clients.get(key)
        if client is None:
            base = app._client
            with self._clients_lock:
                client = self._clients.setdefault(
                    key,
                    WebClient(
                        token=app._token,
                        base_url=base.base_url,
                        timeout=base.timeout,
                        ssl=base.ssl,
                        proxy=base.proxy,
                        headers=base.headers,
                        team_id=team,
                        logger=base.logger,
                        retry_handlers=base.retry_handlers.copy() if base.retry_handlers is not None else None,
                    ),
                )
        context["logger"] = self._logger
        context["token"] = app._token
        context["client"] = client
        context["listener_runner"] = app.listener_runner

    def _call(self, function: Callable[..., None], arg_names: list[str], request: BoltRequest) -> None:
        """As Bolt's lazy runner calls it (its arguments injected by name, an exception logged), less
        reading the function's signature and wrapping it anew for every job."""
        logger = self.app.logger
        try:
            function(
                **build_required_kwargs(
                    logger=logger, required_arg_names=arg_names, request=request, response=None, this_func=function
                )
            )
        except Exception as error:
            logger.error(f"Failed to run an internal function ({error})")

    def _lazy_listeners(self) -> dict[str, list[tuple[Listener, Callable[..., None], list[str]]]]:
        # Built at the first job: the app's listeners are all registered by then.
        if self._lazy is None:
            found: dict[str, list[tuple[Listener, Callable[..., None], list[str]]]] = {}
            for listener in self.app._listeners:
                for function in listener.lazy_functions:
                    entry = (listener, function, get_arg_names_of_callable(function))
                    found.setdefault(get_name_for_callable(function), []).append(entry)
            self._lazy = found
        return self._lazy


def job_runner(worker_app: App, acting_for: ActingFor = _acting_for_nobody) -> ListenerJobs:
    """Run a queued job: its Slack request again, to the lazy listener it names (ListenerJobs)."""
    return ListenerJobs(worker_app, acting_for)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn run from app.py. The app is built in the worker (after fork), never in the master."""

    def __init__(self, load: Callable[[], WSGIApplication], options: dict[str, Any]) -> None:
        self._load = load
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApplication:
        return self._load()


HTTP_THREADS = 32  # gunicorn gthread threads of the one web worker (and its database pool's size)


def serve_http(load: Callable[[], WSGIApplication], host: str, port: int, *, threads: int = HTTP_THREADS) -> None:
    """Serve until SIGTERM/SIGINT; gunicorn then stops accepting and lets requests in flight finish."""
    GunicornServer(
        load,
        {
            "bind": f"{host}:{port}",
            # One process: SQLite and the in-process scheduler want a single writer process; scale
            # out with more app instances on PostgreSQL instead.
            "workers": 1,
            "worker_class": "gthread",
            # Each ack waits for its job's commit (I/O, the GIL released); with 16 threads the process
            # sat 32% idle at full load, all of them waiting there (bench/http_load.py: 0.49x -> 0.67x).
            "threads": threads,
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": None,
            "loglevel": "warning",
        },
    ).run()


def serve_socket_mode(bolt_app: App, app_token: str) -> None:
    """Hold a Socket Mode connection until SIGTERM/SIGINT."""
    handler = SocketModeHandler(bolt_app, app_token)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: closing the Socket Mode connection", signum)
        handler.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    log.info("Socket Mode: connecting to Slack")
    handler.start()
