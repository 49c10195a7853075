"""Asking the workspace: the use cases behind `/ask`, *Ask Peerlearn*, questions channels and the
buttons of a question. Store first, talk to Slack after; every change authorised where it is made
(the asker for their question's buttons, the person asked for their DM's), within the request's team.

Answers come first from tips (`/tip search`'s own search, bot/tips/service.search), then from
people (routing.py). A question asked in a private conversation is answered from tips only and
never stored: taking it to colleagues outside it would show them what was said there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.questions import blocks
from bot.questions import rules as questions
from bot.questions.answers import Answers
from bot.questions.deadlines import QuestionKeeper
from bot.questions.privacy import turn_off_private_channel
from bot.questions.results import Asked, Refused, Routed, Suggested, TipsOnly
from bot.questions.routing import ASKED_STATES, POST_EVENT, Router
from bot.services import Services
from bot.slack.conversations import why_not_post_for
from bot.slack.ratelimits import RateLimited
from bot.slack.results import Failed, Posted
from bot.text import slack_to_plain
from bot.tips import service as tip_service
from storage import questions as queries
from storage.models import Question, Tip

log = logging.getLogger(__name__)

MINE_LIMIT = 20
# Questions one person can take to colleagues in an hour. Each one posts in a channel and DMs up to
# three people (more on escalation); a real person rarely has more than a few questions an hour,
# while a loop of `/ask …` and `/ask close N` had no bound at all. Experts have their own daily cap
# (experts.MAX_ASKS_PER_DAY): this one keeps one person from filling channels and everyone's caps.
QUESTIONS_PER_HOUR = 5
QUOTA_WINDOW = timedelta(hours=1)


def open_questions(session: Session, team_id: str, user_id: str) -> list[Question]:
    """The person's questions still waiting for an answer, newest first: for the App Home, which
    gathers what it shows in one read (bot/home/summary.py), hence a Session."""
    return [q for q in queries.questions_of(session, team_id, user_id, MINE_LIMIT) if q.state in questions.OPEN_STATES]


class QuestionDesk:
    def __init__(
        self, services: Services, *, window_hours: float = 4.0, served: Callable[[str], bool] | None = None
    ) -> None:
        self.services = services
        self.router = Router(services, window_hours=window_hours)
        self.answers = Answers(services, self.router)
        self.keeper = QuestionKeeper(self.router, served=served)  # run by the scheduler's leader each tick

    def move_on_from(self, team_id: str, user_id: str) -> int:
        """Someone left (deactivated): their asks were released with the other leavers
        (bot/people/deactivation.py); each question waiting on them now asks the next person who
        knows, as *Not me* does. Safe to run again: a wave already full asks nobody more."""
        with self.services.db.snapshot() as session:
            waiting = queries.waiting_questions_declined_by(session, team_id, user_id)
        for question_id in waiting:
            try:
                self.router.top_up(question_id)
            except RateLimited:  # (in a job) the job again after the Retry-After: done ones are skipped
                raise
            except Exception:  # one question's trouble never stops the others; its deadline still moves it on
                log.exception("question=%s: moving on from a leaver failed", question_id)
        return len(waiting)

    # -- asking ----------------------------------------------------------------------------------

    def ask_command(
        self, *, team_id: str, user_id: str, text: str, channel_id: str, channel_name: str | None, request_key: str
    ) -> Asked:
        try:
            private = tip_service.conversation_is_private(self.services, channel_id, channel_name)
        except tip_service.CannotSave as unknown:
            return Refused(str(unknown))
        return self._ask(team_id, user_id, text, channel_id, "command", request_key, private=private)

    def ask_message(
        self,
        *,
        team_id: str,
        user_id: str,
        channel_id: str,
        channel_name: str | None,
        message: dict[str, object],
        request_key: str,
    ) -> Asked:
        """*Ask Peerlearn* on a message: its text is the question, its author the asker. Tips go to
        whoever asked for them; when that is someone else, in the message's thread, for the author."""
        author = message.get("user")
        if not isinstance(author, str) or message.get("bot_id") or message.get("subtype") == "bot_message":
            return Refused("That message was posted by an app. Questions come from people.")
        try:
            text = questions.check_question(slack_to_plain(str(message.get("text") or ""), self.services.users.name))
            private = tip_service.conversation_is_private(self.services, channel_id, channel_name)
        except questions.QuestionRejected as rejected:
            return Refused(str(rejected))
        except tip_service.CannotSave as unknown:
            return Refused(str(unknown))
        if private and user_id != author:
            return Refused("This message is in a private conversation; only its author can ask its question.")
        ts = str(message.get("ts") or "")
        thread_ts = str(message.get("thread_ts") or ts)
        return self._ask(
            team_id, author, text, channel_id, "shortcut", request_key,
            private=private, thread_ts=thread_ts, in_thread=user_id != author, requested_by=user_id,
        )  # fmt: skip

    def ask_in_channel(
        self, *, team_id: str, user_id: str, channel_id: str, ts: str, text: str, request_key: str
    ) -> Asked:
        """A new top-level message that reads as a question in a questions channel. Turned on when it
        was public, it may have become private since: that is asked of Slack now, for each question
        (one that can't be told counts as private), and a private one answers from tips only."""
        try:
            checked = questions.check_question(slack_to_plain(text, self.services.users.name))
        except questions.QuestionRejected as rejected:
            return Refused(str(rejected))
        try:
            private = tip_service.conversation_is_private(self.services, channel_id)
        except tip_service.CannotSave:
            log.warning("questions channel of unknown privacy team=%s channel=%s: tips only", team_id, channel_id)
            return TipsOnly(self._matching_tips(team_id, checked))  # fail closed: nobody outside is asked
        if private:
            turn_off_private_channel(self.services, team_id, channel_id)
            return TipsOnly(self._matching_tips(team_id, checked))
        return self._ask(
            team_id, user_id, checked, channel_id, "channel", request_key, private=False, thread_ts=ts, in_thread=True
        )

    def ask_from_form(self, *, team_id: str, user_id: str, text: str, channel_id: str, request_key: str) -> Asked:
        """The Home's *Ask a question*: the form's channel is the client's word. A private channel
        counts only when the person is in it (why_not_post_for); a public one only when the app is
        in it already, so a form never makes the app join a channel (an #announcements only some may
        post in) to post there in someone's name. Asking the person's own membership of a public
        channel would mean paging through every member of a #general of thousands, on each question;
        what a public channel shows, everyone can read anyway. Refused: the question is given back."""
        if (reason := why_not_post_for(self.services.slack, user_id, channel_id, joined_only=True)) is not None:
            return Refused(blocks.question_not_asked(reason, text))
        return self.ask_command(
            team_id=team_id, user_id=user_id, text=text, channel_id=channel_id, channel_name=None,
            request_key=request_key,
        )  # fmt: skip

    def _ask(
        self,
        team_id: str,
        asker_id: str,
        text: str,
        channel_id: str,
        source: str,
        request_key: str,
        *,
        private: bool,
        thread_ts: str | None = None,
        in_thread: bool = False,
        requested_by: str | None = None,
    ) -> Asked:
        """`requested_by`: who takes it to colleagues (*Ask Peerlearn* on someone else's message),
        the asker by default; their hourly quota counts it."""
        requester = requested_by or asker_id
        found = self._matching_tips(team_id, text)
        if private:
            return TipsOnly(found)
        with self.services.db.snapshot() as session:
            known = queries.known_topics(session, team_id, questions.topic_candidates(text))
        topics = questions.choose_topics(text, known)
        values = {
            "team_id": team_id,
            "asker_id": asker_id,
            "requested_by": requester,
            "text": text,
            "topics": " ".join(topics),
            "source": source,
            "channel_id": channel_id,
            "thread_ts": thread_ts,
            "state": "new",
            "wave": 0,
            "request_key": request_key,
            "asked_at": self.services.clock(),
        }
        stored = self._store_within_quota(values, topics, requester)
        if isinstance(stored, Refused):
            return stored
        question, created = stored
        if question.state == "new" and found:
            with self.services.db.transaction() as session:
                queries.move(session, question.id, ("new",), state="suggested")
            question = self._load(question.id)
        if question.state == "suggested":
            if in_thread and question.post_ts is None:
                self._post_suggestions(question, found, resuming=not created)
            return Suggested(question, found, in_thread)
        routed = self.router.route(question.id, ("new",), checked=True) or self._load(question.id)
        return Routed(routed, self.router.asked(question.id))

    def _store_within_quota(
        self, values: dict[str, Any], topics: tuple[str, ...], requester: str
    ) -> tuple[Question, bool] | Refused:
        """The question stored (True) or found from an earlier run of its request (False); Refused,
        nothing stored, when the person took QUESTIONS_PER_HOUR questions to colleagues in the last
        hour, saying when they can ask again. Counted and inserted in one transaction under the
        person's lock: their concurrent asks (two job threads, two workers) take turns, so the
        quota holds exactly (a count read before the insert let each of them through)."""
        team_id, request_key, text = str(values["team_id"]), str(values["request_key"]), str(values["text"])
        now = self.services.clock()
        with self.services.db.transaction() as session:
            queries.hold_requester(session, team_id, requester)
            found = queries.question_for_request(session, team_id, request_key)
            if found is not None:  # a rerun: never refused
                return found, False
            recent = queries.questions_asked_since(session, team_id, requester, now - QUOTA_WINDOW)
            if len(recent) < QUESTIONS_PER_HOUR:
                question, created = queries.insert_question_once(session, values)
                if created:
                    queries.set_topics(session, question, topics)
                    log.info("question asked team=%s user=%s question=%s source=%s",
                             team_id, question.asker_id, question.id, question.source)  # fmt: skip
                return question, created
        again = recent[-QUESTIONS_PER_HOUR] + QUOTA_WINDOW  # when one fewer is within the hour
        log.info("question quota reached team=%s user=%s", team_id, requester)
        return Refused(blocks.over_quota(QUESTIONS_PER_HOUR, again, text))

    def _matching_tips(self, team_id: str, text: str) -> list[Tip]:
        """The best of `/tip search`'s own results that share enough of the question's words."""
        found = tip_service.search(self.services, team_id=team_id, query=text)
        good = [tip for tip in found if questions.is_good_match(text, f"{tip.text} {tip.tags}")]
        return good[: questions.MAX_SUGGESTIONS]

    def _post_suggestions(self, question: Question, found: list[Tip], *, resuming: bool) -> None:
        slack, thread = self.services.slack, str(question.thread_ts)
        sent: Posted | Failed | None = None
        if resuming:
            sent = slack.find_reply_by_metadata(question.channel_id, thread, POST_EVENT, {"question_id": question.id})
        if not isinstance(sent, Posted):
            text, suggestion_blocks = blocks.suggestions(question, found, in_thread=True)
            metadata = {"event_type": POST_EVENT, "event_payload": {"question_id": question.id}}
            sent = slack.post(question.channel_id, text, suggestion_blocks, thread_ts=thread, metadata=metadata)
        if isinstance(sent, Failed):
            log.warning("question suggestions not posted question=%s error=%s", question.id, sent.error)
            return
        link = slack.permalink(question.channel_id, thread)
        with self.services.db.transaction() as session:
            row = session.get(Question, question.id)
            assert row is not None
            row.post_ts, row.permalink = sent.ts, None if isinstance(link, Failed) else link

    def _load(self, question_id: int) -> Question:
        with self.services.db.snapshot() as session:
            found = session.get(Question, question_id)
        assert found is not None
        return found

    # -- reads -------------------------------------------------------------------------------------

    def mine(self, team_id: str, user_id: str) -> tuple[list[Question], dict[int, int]]:
        """The person's latest questions, and how many people got each one's DM (by question id)."""
        with self.services.db.snapshot() as session:
            found = queries.questions_of(session, team_id, user_id, MINE_LIMIT)
            return found, queries.asked_counts(session, [q.id for q in found], ASKED_STATES)

    def is_questions_channel(self, team_id: str, channel_id: str) -> bool:
        with self.services.db.reading() as connection:  # asked in the ack of every question-like message
            return queries.is_questions_channel(connection, team_id, channel_id)

    def is_question_thread(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        with self.services.db.reading() as connection:  # asked in the ack of every reply in a thread
            return queries.is_question_thread(connection, team_id, channel_id, thread_ts)

    def is_question_message(self, team_id: str, channel_id: str, ts: str) -> bool:
        """The message a question was asked in, or our post of one."""
        with self.services.db.snapshot() as session:
            return queries.question_for_message(session, team_id, channel_id, ts) is not None
