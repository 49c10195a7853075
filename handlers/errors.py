"""The one place unexpected errors land: log with ids, tell the person, never stay silent.

Bolt sends errors raised while acknowledging to `@app.error`, but only logs those raised in lazy
listeners (the work done after the ack, run by a job worker). `after_ack` routes the latter to the
same `report`, unless the worker will try the job again (a transient failure, tries left).

Who hears it: Bolt always passes `respond`, but it only works with a response_url (slash commands,
message buttons and shortcuts); forms, events and Home tab buttons have none, so the person gets an
ephemeral message where they acted or a DM instead. An error while acknowledging is answered in the
acknowledgement itself (a form's field error, a command's ephemeral reply) rather than Slack's
generic failure, and the work that ack would have queued is not queued.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond

from bot.notices import could_not_do_it, form_not_saved, something_went_wrong
from bot.retry import JOB_ATTEMPT, Attempt
from handlers.deps import Deps

log = logging.getLogger("peerlearn.errors")

# Set in a request's context when its ack failed: the runtime then queues none of its work.
ACK_FAILED = "peerlearn_ack_failed"

Work = Callable[[dict[str, Any], BoltContext, Respond | None], None]
LazyListener = Callable[[dict[str, Any], BoltContext, Respond | None], None]


def report(deps: Deps, error: Exception, body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
    """A failure after the ack: logged, and the person told."""
    _log(error, body, context)
    tell(deps, something_went_wrong(), context, respond)


def tell(deps: Deps, text: str, context: BoltContext, respond: Respond | None) -> None:
    """Reach the person who acted: through response_url when the request has one, else ephemeral
    where they acted or by DM (the gateway's `tell`), else (no person: a system event) only the log."""
    if respond is not None and respond.response_url:
        try:
            answer = respond(text=text, response_type="ephemeral", replace_original=False)
            if answer.status_code == 200:
                return
            log.warning("response_url answered %s; telling user=%s directly", answer.status_code, context.user_id)
        except OSError as unreachable:  # URLError, timeouts: the message goes another way
            log.warning("response_url unreachable (%r); telling user=%s directly", unreachable, context.user_id)
    if context.user_id:
        deps.slack.tell(context.user_id, text, channel=context.channel_id)
    else:
        log.warning("nobody to tell about the error team=%s", context.team_id)


def answer_failed_ack(
    deps: Deps, error: Exception, body: dict[str, Any], context: BoltContext, respond: Respond | None
) -> BoltResponse | None:
    """A failure before or during the ack. The response Slack gets, or None to leave Bolt's 500."""
    context[ACK_FAILED] = True
    _log(error, body, context)
    if body.get("type") == "event_callback":
        return None  # a 500: Slack delivers the event again, and a passing failure heals itself
    if body.get("type") == "view_submission" and (field := _first_input(body.get("view") or {})):
        return _json({"response_action": "errors", "errors": {field: form_not_saved()}})
    if body.get("command"):
        return _json({"response_type": "ephemeral", "text": could_not_do_it()})
    tell(deps, could_not_do_it(), context, respond)  # buttons, shortcuts, forms without a field
    return BoltResponse(status=200, body="")


def _first_input(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and isinstance(block.get("block_id"), str):
            return str(block["block_id"])
    return None


def _json(answer: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})


def _log(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    kind = body.get("type") or body.get("command") or "request"
    log.error(
        "unhandled error kind=%s team=%s user=%s channel=%s: %r",
        kind, context.team_id, context.user_id, context.channel_id, error,
        exc_info=error,
    )  # fmt: skip


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
    def on_error(
        error: Exception, body: dict[str, Any], context: BoltContext, respond: Respond | None
    ) -> BoltResponse | None:
        return answer_failed_ack(deps, error, body, context, respond)


def acknowledge(ack: Callable[..., Any]) -> None:
    """The ack of listeners whose whole work happens after it."""
    ack()
