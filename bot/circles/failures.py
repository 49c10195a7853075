"""One bad circle never stops the others: each circle's and round's step runs in its own try.

A failure is logged with its ids. One that a retry would meet again (a bug, a row no code can
use) pauses that circle and tells its owner how to resume; a transient one (the database or Slack
unreachable) is left for the next tick. A circle whose stored settings can't run (written before
the bounds, or by hand) is paused before anything is tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec

from bot.retry import is_transient
from bot.slack.gateway import SlackGateway
from bot.text import escape_mrkdwn
from storage import circles as queries
from storage.db import Database
from storage.models import Circle, CircleRound, RoundState

log = logging.getLogger(__name__)

PAUSED_BY_SETTINGS = "settings need fixing"
PAUSED_BY_ERROR = "check-in failed"
_P = ParamSpec("_P")


class CircleFailures:
    def __init__(self, db: Database, slack: SlackGateway, clock: Callable[[], datetime]) -> None:
        self.db, self.slack, self.clock = db, slack, clock

    def guarded(
        self,
        circle_id: int | None,
        round_id: int | None,
        stage: str,
        work: Callable[_P, int],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> int:
        """Run one circle's or round's step; on failure 0, the circle paused unless it was transient."""
        try:
            return work(*args, **kwargs)
        except Exception as error:
            self._failed(circle_id, round_id, stage, error)
            return 0

    def _failed(self, circle_id: int | None, round_id: int | None, stage: str, error: Exception) -> None:
        try:
            if circle_id is None and round_id is not None:
                with self.db.snapshot() as session:
                    round_ = session.get(CircleRound, round_id)
                    circle_id = round_.circle_id if round_ is not None else None
            log.error(
                "circle round step failed stage=%s circle=%s round=%s: %r",
                stage, circle_id, round_id, error, exc_info=error,
            )  # fmt: skip
            if is_transient(error) or circle_id is None:
                return  # the next tick tries again
            with self.db.transaction() as session:  # no tick takes up again a round that fails each time
                if round_id is None:
                    opening = queries.running_round_of(session, circle_id)
                    round_id = opening.id if opening is not None and opening.status == RoundState.OPENING else None
                if round_id is not None:
                    queries.abandon_round(session, round_id, self.clock())
            self.pause(circle_id, PAUSED_BY_ERROR, f"its check-in could not {stage} (`{type(error).__name__}`)")
        except Exception:
            log.exception("could not pause after a failure circle=%s round=%s", circle_id, round_id)

    def pause(self, circle_id: int, reason: str, why: str) -> None:
        """Pause the circle (once) and tell its owner what happened and how to resume."""
        with self.db.transaction() as session:
            paused = queries.pause_circle(session, circle_id, reason)
            circle = session.get(Circle, circle_id)
        if not paused or circle is None:
            return
        log.warning("circle paused team=%s circle=%s reason=%s", circle.team_id, circle.id, reason)
        name = escape_mrkdwn(circle.name)
        self.slack.tell(
            circle.owner_id,
            f":pause_button: I paused the circle “{name}”: {why}. Check its settings with "
            f"`/circle edit {name}`; saving them resumes the circle.",
        )
