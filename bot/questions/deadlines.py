"""What the scheduler's tick does for questions, exactly once from any number of processes.

`due_at` is a number of working hours after a question went to people (`PEERLEARN_QUESTION_HOURS`,
the asker's time zone). With no reply from anyone but the asker by then, wave 1 escalates once to
the next people; after wave 2's window the question is `unanswered`: the asker is told (once: the
DM is marked as being sent and carries metadata, and a run that takes over looks for it first) and
the digest lists it under *Can you help?*. A reply clears the deadline. Each step is a
compare-and-set on the question; routings and notices whose holder died are resumed once their
lease runs out, and DMs a crash left unsent are sent. The scheduler's leader runs `run_due` every
tick beside the pairing rounds' keeper (runtime/factory.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from bot.kit import mrkdwn_section
from bot.questions import blocks
from bot.questions.routing import LEASE, SENDING, Router
from bot.slack.acting import acting_for
from bot.slack.results import Failed, Posted
from storage import questions as queries
from storage.models import Question, QuestionAsk

log = logging.getLogger(__name__)

STRAGGLER_AGE = timedelta(minutes=10)  # a DM left unsent this long by a run that died
NOTICE_EVENT = "peerlearn_question_notice"
_T = TypeVar("_T")


class QuestionKeeper:
    def __init__(self, router: Router, *, served: Callable[[str], bool] | None = None) -> None:
        self.router = router
        self.services = router.services
        self.served = served  # whether a workspace is (still) installed; None: every stored one

    def run_due(self) -> None:
        """Stalled routings and notices, deadlines, and DMs a crash left unsent; each in its own try."""
        now = self.services.clock()
        teams = self._served_teams(now)
        with self.services.db.snapshot() as session:
            stalled = queries.stalled_questions(session, now, team_ids=teams)
            due = queries.due_questions(session, now, team_ids=teams)
            stragglers = queries.undelivered_asks(session, now - STRAGGLER_AGE, team_ids=teams)
        for question in stalled:
            self._each(question.id, question.team_id, "resume", self._resume, question)
        for question in due:
            self._each(question.id, question.team_id, "deadline", self._deadline, question)
        for ask in stragglers:
            self._each(ask.question_id, ask.team_id, "straggler", self._straggler, ask)

    def _served_teams(self, now: datetime) -> list[str] | None:
        """The workspaces whose questions to take this tick (None: every one). An uninstalled one's
        questions stay due; taken into the batches, they would crowd out everyone else's."""
        if self.served is None:
            return None
        with self.services.db.snapshot() as session:
            teams = queries.teams_with_keeper_work(session, now, now - STRAGGLER_AGE)
        return sorted(team_id for team_id in teams if self.served(team_id))

    def _each(self, question_id: int, team_id: str, step: str, action: Callable[[_T], None], item: _T) -> None:
        if self.served is not None and not self.served(team_id):
            return  # its workspace uninstalled: the question waits for a reinstall
        try:
            with acting_for(team_id):  # every Slack call with this workspace's own token
                action(item)
        except Exception:  # one question's trouble never stops the others; the next tick tries again
            log.exception("question=%s: %s failed", question_id, step)

    def _resume(self, question: Question) -> None:
        now = self.services.clock()
        with self.services.db.transaction() as session:
            taken = queries.resume_stalled(session, question.id, question.state, now, now + LEASE)
        if not taken:
            return
        if question.state == "routing":
            log.info("question=%s: resuming a routing whose holder stopped", question.id)
            self.router.continue_routing(question.id, resuming=True)
        else:
            self._notify_unanswered(question.id, resuming=True)

    def _deadline(self, question: Question) -> None:
        now = self.services.clock()
        due = (Question.due_at <= now, Question.wave == question.wave)
        with self.services.db.transaction() as session:
            if question.first_reply_at is not None:  # someone replied: no escalation, no notice
                queries.move(session, question.id, ("waiting",), *due, due_at=None)
                return
            if question.wave < 2:
                taken = queries.move(
                    session, question.id, ("waiting",), *due, state="routing", wave=2, lease_until=now + LEASE
                )
            else:
                taken = queries.move(
                    session, question.id, ("waiting",), *due,
                    state="unanswered", due_at=None, lease_until=now + LEASE, notice_ts=SENDING,
                )  # fmt: skip
        if not taken:
            return
        if question.wave < 2:
            log.info("question escalated team=%s question=%s", question.team_id, question.id)
            self.router.continue_routing(question.id, resuming=False)
        else:
            self._notify_unanswered(question.id, resuming=False)

    def _notify_unanswered(self, question_id: int, *, resuming: bool) -> None:
        question = self.router.load(question_id)
        if question is None or question.state != "unanswered" or question.notice_ts != SENDING:
            return
        sent: Posted | Failed | None = None
        if resuming:
            sent = self.router.already_sent(question.asker_id, NOTICE_EVENT, question.id)
        if sent is None:
            text = blocks.unanswered_notice(question)
            metadata = {"event_type": NOTICE_EVENT, "event_payload": {"question_id": question.id}}
            sent = self.services.slack.post(question.asker_id, text, [mrkdwn_section(text)], metadata=metadata)
        with self.services.db.transaction() as session:
            row = session.get(Question, question_id)
            assert row is not None
            row.notice_ts = sent.ts if isinstance(sent, Posted) else None
            row.lease_until = None
        log.info("question unanswered team=%s question=%s", question.team_id, question.id)
        self.router.refresh_post(question_id)

    def _straggler(self, ask: QuestionAsk) -> None:
        question = self.router.load(ask.question_id)
        if question is not None and question.state == "waiting" and self.router.may_reach_more(question):
            self.router.deliver(question, ask)
