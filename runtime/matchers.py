"""Bolt's listener matchers, given only what they read.

For each request Bolt tries the app's listeners in order, and for every matcher it tries it builds
each argument a listener could be given (the payload seen eight ways, the context's `say`,
`respond` and the rest): about 20 µs a matcher, whatever the matcher reads. A reaction tries five
listeners before its own, a channel message most of them (bench/profile_requests.py: Bolt's
argument building was a quarter of a reaction's ack). Matchers that read only `body` and `context`
(Bolt's own type checks, and ours) are called with just those; any other keeps Bolt's way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener_matcher import CustomListenerMatcher, ListenerMatcher
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher

_CHEAP_ARGUMENTS = frozenset({"body", "context"})


class _BodyAndContextMatcher(ListenerMatcher):
    def __init__(self, func: Callable[..., Any], names: list[str]) -> None:
        self.func = func
        self.names = names

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        if self.names == ["body"]:  # Bolt's own type checks: most listeners, tried on every request
            return bool(self.func(body=req.body))
        given: dict[str, Any] = {"body": req.body, "context": req.context}
        return bool(self.func(**{name: given[name] for name in self.names}))


def cheapen_matchers(app: App) -> int:
    """Replace the matchers of `app`'s listeners that read only `body` and `context` by ones given just
    those (call it after registering the listeners); the number replaced."""
    replaced = 0
    for listener in app._listeners:
        matchers = list(listener.matchers)
        for index, matcher in enumerate(matchers):
            if not isinstance(matcher, BuiltinListenerMatcher | CustomListenerMatcher):
                continue
            names = list(matcher.arg_names)
            if names and set(names) <= _CHEAP_ARGUMENTS:
                matchers[index] = _BodyAndContextMatcher(matcher.func, names)
                replaced += 1
        listener.matchers = matchers
    return replaced
