"""The one place unexpected errors land: log with ids, tell the person, never stay silent.

Bolt sends errors raised while acknowledging to `@app.error`, but only logs those raised in lazy
listeners (the work done after the ack, run by a job worker). `after_ack` routes the latter to the
same `report`, unless the worker will try the job again (a transient failure, tries left).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.notices import something_went_wrong
from bot.retry import JOB_ATTEMPT, Attempt
from handlers.deps import Deps

log = logging.getLogger("peerlearn.errors")

Work = Callable[[dict[str, Any], BoltContext, Respond | None], None]
LazyListener = Callable[[dict[str, Any], BoltContext, Respond | None], None]


def report(deps: Deps, error: Exception, body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
    kind = body.get("type") or body.get("command") or "request"
    log.error(
        "unhandled error kind=%s team=%s user=%s channel=%s: %r",
        kind, context.team_id, context.user_id, context.channel_id, error,
        exc_info=error,
    )  # fmt: skip
    if respond is not None:
        respond(text=something_went_wrong(), response_type="ephemeral", replace_original=False)
    elif context.user_id and body.get("type") in ("view_submission", "block_actions", "event_callback"):
        deps.slack.tell(context.user_id, something_went_wrong())


def after_ack(deps: Deps, work: Work) -> LazyListener:
    """A Bolt lazy listener running `work(body, context, respond)` after the ack, failures reported
    (or left to the job worker's retry)."""

    def lazy(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        attempt: Attempt | None = context.get(JOB_ATTEMPT)
        if attempt is not None:
            attempt.started = True
        try:
            work(body, context, respond)
        except Exception as error:
            if attempt is None or not attempt.will_retry(error):
                report(deps, error, body, context, respond)

    lazy.__name__ = lazy.__qualname__ = work.__name__  # Bolt tells lazy listeners apart by name
    return lazy


def register(app: App, deps: Deps) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        report(deps, error, body, context, respond)


def acknowledge(ack: Callable[..., Any]) -> None:
    """The ack of listeners whose whole work happens after it."""
    ack()
