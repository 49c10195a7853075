"""The identity of a Slack request, for effects that must happen once however often the work runs.

A job may run twice (its worker died, a lease ran out, a retry fired) and a signed request may be
replayed within Slack's 5-minute window; both carry the same identity, so an effect stored with
this key in its own transaction is made once. Events are named by Slack's `event_id`; a slash
command, shortcut, button or form submission by its `trigger_id`, which Slack issues once per
person's action.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

MAX_KEY_LENGTH = 64


def request_key(body: dict[str, Any]) -> str:
    """A short, stable key for the request `body` came from (the same for every run of its job)."""
    for field in ("event_id", "trigger_id"):
        value = body.get(field)
        if isinstance(value, str) and 0 < len(value) <= 200:
            return f"{field[0]}:{_digest(value)}"
    # Nothing Slack names it by (never seen in practice): the whole payload is its identity.
    return "b:" + _digest(json.dumps(body, sort_keys=True, default=str))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[: MAX_KEY_LENGTH - 2]
