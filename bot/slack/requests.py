"""The identity of a Slack request, for effects that must happen once however often the work runs.

A job may run twice (its worker died, a lease ran out, a retry fired) and a signed request may be
replayed within Slack's 5-minute window; both carry the same identity, so an effect stored with
this key in its own transaction is made once. Events are named by Slack's `event_id`; a slash
command, shortcut, button or form submission by its `trigger_id`, which Slack issues once per
person's action. A button declared `once_per_message` is named by the message it is on instead: a
double click (two trigger_ids) is then one request, queued once (runtime/jobs.py). Its key alone is
given back when its job fails for good (`given_back_on_failure`): the person's next click is trying
again, not a double click. A replay or Slack's redelivery of an event stays what it was, seen.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

MAX_KEY_LENGTH = 64

_ONCE_PER_MESSAGE: set[str] = set()


def once_per_message(action_id: str) -> str:
    """Declare a button that acts once per message it is on (e.g. "share it anyway": a second click
    before the message is replaced must not share twice); returns the action id."""
    _ONCE_PER_MESSAGE.add(action_id)
    return action_id


def request_key(body: dict[str, Any]) -> str:
    """A short, stable key for the request `body` came from (the same for every run of its job)."""
    if (once := _message_scoped(body)) is not None:
        return "m:" + _digest(once)
    for field in ("event_id", "trigger_id"):
        value = body.get(field)
        if isinstance(value, str) and 0 < len(value) <= 200:
            return f"{field[0]}:{_digest(value)}"
    # Nothing Slack names it by (never seen in practice): the whole payload is its identity.
    return "b:" + _digest(json.dumps(body, sort_keys=True, default=str))


def given_back_on_failure(body: dict[str, Any]) -> bool:
    """Whether the request's key is released when its job fails for good: a once-per-message click's
    (its message's next click would otherwise do nothing for the key's minutes), never an event's
    or a trigger's (those keys stand for one delivery of the same request)."""
    return _message_scoped(body) is not None


def _message_scoped(body: dict[str, Any]) -> str | None:
    """A once-per-message button's identity: who pressed which button with what value on which message."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    if body.get("type") != "block_actions" or action.get("action_id") not in _ONCE_PER_MESSAGE:
        return None
    container, user = body.get("container"), body.get("user")
    container = container if isinstance(container, dict) else {}
    user = user if isinstance(user, dict) else {}
    message_ts, user_id = container.get("message_ts"), user.get("id")
    if not (isinstance(message_ts, str) and message_ts and isinstance(user_id, str) and user_id):
        return None  # not on a message Slack names: each click is its own request
    parts = (
        user.get("team_id"),
        user_id,
        container.get("channel_id"),
        message_ts,
        action["action_id"],
        action.get("value"),
    )
    return json.dumps(parts, default=str)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[: MAX_KEY_LENGTH - 2]
