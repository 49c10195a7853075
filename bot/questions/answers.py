"""What happens to a question after it is asked: the asker's buttons (*This answered it*, *Still
need help*, *Answered*, *Close*), the DM buttons of the people asked (*I can help*, *Not me*),
replies in its thread, *Save as tip*, and a deleted question post.

Each button's value names a question; it is looked up within the request's team and the clicker's
right checked here, at the change (the asker for their question, the person asked for their DM,
the asker or the answerer for saving the answer). Changes are compare-and-sets, so a click that runs
twice, or two clicks, change it once.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from bot.questions import blocks
from bot.questions.results import Reply
from bot.questions.routing import SENDING, Router
from bot.questions.rules import ANSWERED, ANSWERED_BY_TIP, CLOSED, OPEN_STATES
from bot.services import Services
from bot.text import without_control_characters
from bot.tips import rules as tips
from bot.tips import service as tip_service
from storage import questions as queries
from storage.models import Question, QuestionAsk

log = logging.getLogger(__name__)

MAX_REPLY_TEXT = 12_000  # kept of a reply (what Save as tip reads); a tip itself holds 3,000
ANSWER_EVENT = "peerlearn_question_answer"
UNKNOWN = "That question is not one I know."
_DONE = blocks.DONE


class Answers:
    def __init__(self, services: Services, router: Router) -> None:
        self.services = services
        self.router = router

    def _asker_question(self, session: Session, team_id: str, user_id: str, question_id: int) -> Question | str:
        """The asker's open question, or why this person can't act on it."""
        question = queries.question(session, team_id, question_id)
        if question is None:
            return UNKNOWN
        if question.asker_id != user_id:
            log.info("refused: not the asker team=%s user=%s question=%s", team_id, user_id, question_id)
            return f"Only <@{question.asker_id}> can do that for their question."
        if question.state not in OPEN_STATES:
            return _DONE.get(question.state, _DONE[CLOSED])
        return question

    # -- the asker ---------------------------------------------------------------------------------

    def answered_by_tip(self, team_id: str, user_id: str, question_id: int, tip_id: int) -> Reply:
        """*This answered it*: the asker's helpful vote on the tip (the vote rules: never their own)."""
        now = self.services.clock()
        with self.services.db.transaction() as session:
            question = self._asker_question(session, team_id, user_id, question_id)
            if isinstance(question, str):
                return Reply(question)
            tip = tips.tip_for_id(session, team_id, tip_id)
            if tip is None:
                return Reply("That tip is gone; it may have been deleted.")
            voted = tips.vote_helpful(session, tip, user_id)
            queries.move(
                session, question.id, OPEN_STATES,
                state=ANSWERED_BY_TIP, answered_tip_id=tip.id, answered_at=now, due_at=None, lease_until=None,
            )  # fmt: skip
            queries.close_asks(session, question.id)
        log.info("question answered by tip team=%s question=%s tip=%s", team_id, question_id, tip_id)
        self.router.refresh_post(question_id)
        counted = " It counts as your helpful vote on it." if voted else ""
        return Reply(f":bulb: Glad tip #{tip.number} answered it!{counted}", replace=True)

    def still_need_help(self, team_id: str, user_id: str, question_id: int) -> Reply | None:
        """*Still need help*: to the people who know. None: the asker was told another way (its channel
        refused the post, or turned private since: routing.py DMs them)."""
        with self.services.db.snapshot() as session:
            question = self._asker_question(session, team_id, user_id, question_id)
        if isinstance(question, str):
            return Reply(question)
        routed = self.router.route(question.id, ("suggested",)) or question
        text = blocks.routed_text(routed, self.router.asked(question_id))
        return None if text is None else Reply(text, replace=True)

    def mark_answered(self, team_id: str, user_id: str, question_id: int) -> Reply:
        """*Answered*: the one reply is accepted; with several, the asker picks which."""
        with self.services.db.snapshot() as session:
            question = self._asker_question(session, team_id, user_id, question_id)
            replies = [] if isinstance(question, str) else queries.replies_of(session, question_id)
        if isinstance(question, str):
            return Reply(question)
        if not replies:
            return Reply("Nobody has replied in the question's thread yet. Mark it answered once someone has.")
        if len(replies) == 1:
            return self.accept(team_id, user_id, question_id, replies[0].ts)
        names = {r.user_id: self.services.users.name(r.user_id) or r.user_id for r in replies}
        return Reply("Which reply answered your question?", blocks.pick_reply(question, replies, names))

    def accept(self, team_id: str, user_id: str, question_id: int, ts: str) -> Reply:
        now = self.services.clock()
        with self.services.db.transaction() as session:
            found = queries.question(session, team_id, question_id)
            rerun = found is not None and found.state == ANSWERED and found.answer_ts == ts
            question = found if rerun else self._asker_question(session, team_id, user_id, question_id)
            if not isinstance(question, Question):
                return Reply(question or UNKNOWN)
            reply = queries.reply_of(session, question_id, ts)
            if reply is None or question.asker_id != user_id:
                return Reply("That reply is not one in your question's thread.")
            queries.move(
                session, question_id, OPEN_STATES,
                state=ANSWERED, answered_by=reply.user_id, answer_ts=ts, answered_at=now, due_at=None, lease_until=None,
            )  # fmt: skip
            queries.close_asks(session, question_id)
        log.info("question answered team=%s question=%s by=%s", team_id, question_id, reply.user_id)
        answered = self.router.refresh_post(question_id)
        assert answered is not None
        self._offer_to_answerer(answered, rerun=rerun)
        text, offer = blocks.save_offer(answered, to_answerer=False)
        return Reply(text, offer, replace=True)

    def _offer_to_answerer(self, question: Question, *, rerun: bool) -> None:
        """The answerer's DM with *Save as tip*, once (a rerun looks for it first)."""
        answerer = str(question.answered_by)
        if rerun and self.router.already_sent(answerer, ANSWER_EVENT, question.id) is not None:
            return
        text, offer = blocks.save_offer(question, to_answerer=True)
        metadata = {"event_type": ANSWER_EVENT, "event_payload": {"question_id": question.id}}
        self.services.slack.post(answerer, text, offer, metadata=metadata)

    def close_numbered(self, team_id: str, user_id: str, number: int) -> Reply:
        """`/ask close N`: N is the question's number in the workspace, as people see it ("#7")."""
        with self.services.db.snapshot() as session:
            question = queries.question_by_number(session, team_id, number)
        return Reply(UNKNOWN) if question is None else self.close(team_id, user_id, question.id)

    def close(self, team_id: str, user_id: str, question_id: int) -> Reply:
        with self.services.db.transaction() as session:
            question = self._asker_question(session, team_id, user_id, question_id)
            if isinstance(question, str):
                return Reply(question)
            number = question.number
            queries.move(
                session, question_id, OPEN_STATES, state=CLOSED, closed_reason="asker", due_at=None, lease_until=None
            )
            queries.close_asks(session, question_id)
        log.info("question closed team=%s user=%s question=%s", team_id, user_id, question_id)
        self.router.refresh_post(question_id)
        return Reply(f":lock: Question #{number} is closed; nobody will be asked about it any more.")

    def save_as_tip(self, team_id: str, user_id: str, question_id: int) -> Reply:
        """The accepted answer as a tip: authored by the answerer, tagged with the question's topics;
        the asker or the answerer may save it, once (the same tip whoever clicks, however often)."""
        with self.services.db.snapshot() as session:
            question = queries.question(session, team_id, question_id)
            if question is None:
                return Reply(UNKNOWN)
            if user_id not in (question.asker_id, question.answered_by):
                return Reply("Only the asker or the person who answered can save this answer as a tip.")
            reply = queries.reply_of(session, question_id, question.answer_ts or "")
        if question.state != ANSWERED or reply is None:
            return Reply("That question has no accepted answer to save.")
        try:
            saved = tip_service.save_message(
                self.services,
                team_id=team_id,
                channel_id=question.channel_id,
                message={"user": reply.user_id, "text": reply.text, "ts": reply.ts},
                saved_by_id=user_id,
                source="question",
                request_key=f"question:{question_id}",
                extra_tags=tuple(question.topics.split()),
            )
        except tip_service.CannotSave as refused:
            return Reply(str(refused))
        assert saved is not None  # no event id: never a repeated delivery
        with self.services.db.transaction() as session:
            queries.move(session, question_id, (ANSWERED,), Question.saved_tip_id.is_(None), saved_tip_id=saved.tip.id)
        self.services.slack.add_reaction(question.channel_id, reply.ts, self.services.tip_emoji)
        log.info("answer saved as tip team=%s question=%s tip=%s", team_id, question_id, saved.tip.id)
        return Reply(
            f":{self.services.tip_emoji}: <@{reply.user_id}>'s answer is tip #{saved.tip.number}: "
            "`/tip search` finds it from now on.",
            replace=True,
        )

    # -- the people asked --------------------------------------------------------------------------

    def can_help(self, team_id: str, user_id: str, question_id: int) -> Reply | None:
        return self._answer_dm(team_id, user_id, question_id, "helping")

    def not_me(self, team_id: str, user_id: str, question_id: int) -> Reply | None:
        """*Not me*: they are out, and the next person who knows is asked in their place."""
        refused = self._answer_dm(team_id, user_id, question_id, "declined")
        if refused is None:
            self.router.top_up(question_id)
        return refused

    def _answer_dm(self, team_id: str, user_id: str, question_id: int, outcome: str) -> Reply | None:
        now = self.services.clock()
        with self.services.db.transaction() as session:
            question = queries.question(session, team_id, question_id)
            ask = queries.ask_of(session, question_id, user_id) if question is not None else None
            if question is None or ask is None:
                log.info("refused: not asked team=%s user=%s question=%s", team_id, user_id, question_id)
                return Reply("That question wasn't sent to you.")
            if question.state not in OPEN_STATES:
                outcome = "closed"
            else:
                queries.move_ask(
                    session, question_id, user_id, ("pending", "asked", "helping", "declined"),
                    state=outcome, answered_at=now,
                )  # fmt: skip
        self._redraw_dm(question, ask, outcome)
        return None

    def _redraw_dm(self, question: Question, ask: QuestionAsk, outcome: str) -> None:
        """The person's own recorded DM shows what they chose (never a ts the request names)."""
        if not ask.dm_channel_id or not ask.dm_ts or ask.dm_ts == SENDING:
            return
        text, dm = blocks.expert_dm_answered(question, ask.reasons, outcome)
        self.services.slack.update(ask.dm_channel_id, ask.dm_ts, text, dm)

    # -- the thread --------------------------------------------------------------------------------

    def record_reply(self, team_id: str, channel_id: str, thread_ts: str, ts: str, user_id: str, text: str) -> None:
        """A reply in a question's thread; the first one gives the asker *Answered*."""
        now = self.services.clock()
        with self.services.db.transaction() as session:
            question = queries.question_in_thread(session, team_id, channel_id, thread_ts)
            if question is None or question.state not in OPEN_STATES or user_id == question.asker_id:
                return
            kept = without_control_characters(text)[:MAX_REPLY_TEXT]
            values = {"question_id": question.id, "ts": ts, "team_id": team_id, "user_id": user_id,
                      "text": kept, "created_at": now}  # fmt: skip
            if not queries.add_reply(session, values):
                return  # this reply was seen before
            first = queries.move(
                session, question.id, OPEN_STATES, Question.first_reply_at.is_(None), first_reply_at=now
            )
            queries.move_ask(session, question.id, user_id, ("pending", "asked", "declined"), state="helping")
        if first and question.state in ("routing", "waiting", "unanswered"):
            self.router.refresh_post(question.id)

    def message_deleted(self, team_id: str, channel_id: str, ts: str) -> None:
        """The question's message, or our post of it, was deleted: the question is closed."""
        with self.services.db.transaction() as session:
            question = queries.question_for_message(session, team_id, channel_id, ts)
            if question is None or not queries.move(
                session, question.id, OPEN_STATES, state=CLOSED, closed_reason="deleted", due_at=None, lease_until=None
            ):
                return
            queries.close_asks(session, question.id)
        log.info("question closed: its message was deleted team=%s question=%s", team_id, question.id)
        if question.post_ts != ts:
            self.router.refresh_post(question.id)
