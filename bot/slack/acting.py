"""The workspace the work in hand is for: set by whoever starts work for a workspace (a request, a
scheduled item), read by the clients and pacers that must act for that workspace alone
(bot/slack/workspaces.py, bot/slack/pacing.py). A context variable: each thread, and each request
within it, has its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")
_acting_for: ContextVar[str | None] = ContextVar("peerlearn_slack_team", default=None)


@contextmanager
def acting_for(team_id: str | None) -> Iterator[None]:
    """Slack calls made inside are made for this workspace (None: for none; calls then raise)."""
    reset = _acting_for.set(team_id)
    try:
        yield
    finally:
        _acting_for.reset(reset)


def current_team() -> str | None:
    return _acting_for.get()


def carrying_team(work: Callable[_P, _R]) -> Callable[_P, _R]:
    """`work`, to run in another thread (a pool) for the workspace acted for here: threads do not
    inherit it."""
    team_id = current_team()

    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with acting_for(team_id):
            return work(*args, **kwargs)

    return run
