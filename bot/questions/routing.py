"""Taking a question to the people who know, exactly once, under restarts and several processes.

- *Route* (wave 1, when the asker still needs help; wave 2, the escalation): the question is taken
  into `routing` by a compare-and-set with a short lease. Its post goes to the channel (the thread's
  parent for `/ask`, a reply in the message's thread otherwise) with metadata naming the question;
  each person is recorded (unique per question) before their DM, the DM is marked as being sent,
  and carries metadata naming the question: a run that takes over a stalled routing (its holder died;
  the lease ran out) looks for the post and for each DM marked as being sent before sending again.
  A Slack 429 in a job (RateLimited) ends the run's lease as it passes: the job's rerun, after the
  Retry-After, takes the routing over at once (route, top_up) rather than skipping it.
  A DM that can't be opened skips that person and asks the next.
- Before each wave but the ask's own (checked just then), and each *Not me*'s next person, its
  channel is asked about again (privacy.py): one that turned private closes the question, the asker
  told once; one Slack can't describe now asks nobody until it can.
- Its deadlines (escalating, telling the asker) are deadlines.py's, on the scheduler's tick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from bot.notices import post_failure
from bot.questions import blocks
from bot.questions.experts import add_ask_within_caps, choose
from bot.questions.privacy import Reach, reach_of, turn_off_private_channel
from bot.questions.rules import CLOSED, OPEN_STATES, add_working_hours
from bot.services import Services
from bot.slack.conversations import open_group
from bot.slack.ratelimits import RateLimited
from bot.slack.results import Failed, Posted
from storage import questions as queries
from storage import tips as tip_queries
from storage.models import Question, QuestionAsk

log = logging.getLogger(__name__)

PER_WAVE = 3
LEASE = timedelta(minutes=2)
SENDING = "sending"
POST_EVENT = "peerlearn_question"
ASK_EVENT = "peerlearn_question_ask"
ASKED_STATES = ("asked", "helping", "declined")  # DMs that went out


class Router:
    def __init__(self, services: Services, *, window_hours: float = 4.0) -> None:
        self.services = services
        self.window_hours = window_hours

    # -- routing ---------------------------------------------------------------------------------

    def route(
        self, question_id: int, from_states: tuple[str, ...] = ("new", "suggested"), *, checked: bool = False
    ) -> Question | None:
        """Wave 1: post the question and ask the first people. None when another run has it in hand
        (or it was never in `from_states`). `checked`: its channel was found public just now (the
        ask's own check); otherwise Slack is asked again (*Still need help* comes any time later)."""
        now = self.services.clock()
        lease = now + LEASE
        with self.services.db.transaction() as session:
            taken = queries.move(session, question_id, from_states, state="routing", wave=1, lease_until=lease)
        if not taken:
            return self._take_over(question_id, now, lease, checked=checked)
        with self._given_back_on_429(question_id, lease):
            return self.continue_routing(question_id, resuming=False, checked=checked)

    def _take_over(self, question_id: int, now: datetime, lease: datetime, *, checked: bool = False) -> Question | None:
        """A routing whose lease ran out: its holder died, or (in a job) a 429 gave it back for the
        job's rerun (`_given_back_on_429`). Resumed here as the keeper would (the post and the DMs
        sent are found by their metadata); None when another run holds it."""
        with self.services.db.transaction() as session:
            taken = queries.resume_stalled(session, question_id, "routing", now, lease)
        if not taken:
            return None
        log.info("question=%s: resuming a routing given back or stalled", question_id)
        with self._given_back_on_429(question_id, lease):
            return self.continue_routing(question_id, resuming=True, checked=checked)

    @contextmanager
    def _given_back_on_429(self, question_id: int, lease: datetime) -> Iterator[None]:
        """Slack's 429 in a job (RateLimited) puts the job back in the queue for the Retry-After: the
        routing's lease (still this run's) ends now, so the rerun takes it over at once, rather
        than finding it in hand and doing nothing until the lease runs out."""
        try:
            yield
        except RateLimited:
            with self.services.db.transaction() as session:
                queries.move(
                    session, question_id, ("routing",), Question.lease_until == lease, lease_until=self.services.clock()
                )
            raise

    def continue_routing(self, question_id: int, *, resuming: bool, checked: bool = False) -> Question | None:
        """The rest of a routing held by this run: the post, the wave's DMs, then waiting. Its
        channel asked about first (unless `checked`): private now, the question is closed; Slack
        couldn't say, the routing waits for its lease to run out and the keeper to resume it."""
        question = self.load(question_id)
        if question is None or question.state != "routing":
            return question
        if not checked and not self.may_reach_more(question):
            return self.load(question_id)
        question = self._ensure_post(question, resuming=resuming)
        if question.state != "routing":  # the channel refused the post: closed, the asker told
            return question
        self._fill_wave(question, question.wave)
        now = self.services.clock()
        asker = self.services.users.get(question.asker_id)
        due = add_working_hours(now, self.window_hours, asker.timezone if asker else None)
        with self.services.db.transaction() as session:
            queries.move(
                session,
                question.id,
                ("routing",),
                state="waiting",
                lease_until=None,
                due_at=due,
                routed_at=question.routed_at or now,
            )
        log.info("question routed team=%s question=%s wave=%s", question.team_id, question.id, question.wave)
        return self.refresh_post(question.id)

    def _ensure_post(self, question: Question, *, resuming: bool) -> Question:
        if question.post_ts is not None and question.permalink is not None:
            return question
        slack = self.services.slack
        metadata = {"event_type": POST_EVENT, "event_payload": {"question_id": question.id}}
        thread = question.thread_ts if question.source != "command" else None
        found: Posted | Failed | None = None
        if question.post_ts is not None:
            found = Posted(question.channel_id, question.post_ts)
        elif resuming and thread is not None:
            found = slack.find_reply_by_metadata(question.channel_id, thread, POST_EVENT, {"question_id": question.id})
        elif resuming:  # among the channel's latest 100 messages: a stalled routing resumes within minutes
            found = slack.find_by_metadata(question.channel_id, POST_EVENT, "question_id", question.id)
        if not isinstance(found, Posted):
            text, post_blocks = blocks.question_post(question, blocks.PostFacts(0, False), parent=thread is None)
            found = slack.post(question.channel_id, text, post_blocks, thread_ts=thread, metadata=metadata)
        if isinstance(found, Failed):
            return self._unpostable(question, found.error)
        thread_ts = thread or found.ts
        link = slack.permalink(question.channel_id, thread_ts)
        with self.services.db.transaction() as session:
            row = session.get(Question, question.id)
            assert row is not None
            row.post_ts, row.thread_ts = found.ts, thread_ts
            row.permalink = None if isinstance(link, Failed) else link
        return self.load(question.id) or question

    def _unpostable(self, question: Question, error: str) -> Question:
        with self.services.db.transaction() as session:
            queries.move(
                session, question.id, ("routing",), state="closed", closed_reason="unpostable", lease_until=None
            )
            queries.close_asks(session, question.id)
        log.warning("question not posted team=%s question=%s error=%s", question.team_id, question.id, error)
        self.services.slack.tell(
            question.asker_id,
            f"I couldn't post your question in <#{question.channel_id}> to ask colleagues: "
            f"{post_failure(error, question.channel_id)} Ask it in a public channel and I'll take it from there.",
        )
        return self.load(question.id) or question

    def _fill_wave(self, question: Question, wave: int) -> None:
        """Ask people until PER_WAVE of this wave got the DM (or nobody is left to ask)."""
        with self.services.db.snapshot() as session:
            asks = queries.asks_of(session, question.id)
        for ask in asks:
            if ask.state == "pending":
                self.deliver(question, ask)
        with self.services.db.snapshot() as session:
            asks = queries.asks_of(session, question.id)
        reached = sum(1 for a in asks if a.wave == wave and a.state in ("asked", "helping"))
        if reached >= PER_WAVE:
            return
        experts = choose(
            self.services.db,
            question.team_id,
            tuple(question.topics.split()),
            now=self.services.clock(),
            exclude={question.asker_id, *(a.user_id for a in asks)},
            lookup=self.services.users.lookup,
        )
        for expert in experts:
            if reached >= PER_WAVE:
                break
            values = {
                "question_id": question.id,
                "user_id": expert.user_id,
                "team_id": question.team_id,
                "wave": wave,
                "reasons": expert.reasons,
                "state": "pending",
                "open": True,
                "created_at": self.services.clock(),
            }
            with self.services.db.transaction() as session:
                added = add_ask_within_caps(session, values)  # their load counted again, under their lock
                recorded = queries.ask_of(session, question.id, expert.user_id)
            if added and recorded is not None and self.deliver(question, recorded) == "asked":
                reached += 1

    def deliver(self, question: Question, ask: QuestionAsk) -> str:
        """Send one person their DM, once; returns their state after it (asked or unreachable)."""
        with self.services.db.transaction() as session:
            row = queries.ask_of(session, ask.question_id, ask.user_id)
            if row is None or row.state != "pending":
                return row.state if row is not None else "gone"
            resuming, row.dm_ts = row.dm_ts == SENDING, SENDING
            reasons = row.reasons
        sent: Posted | Failed | None = self.already_sent(ask.user_id, ASK_EVENT, question.id) if resuming else None
        if sent is None:
            text, dm_blocks = blocks.expert_dm(question, reasons)
            metadata = {"event_type": ASK_EVENT, "event_payload": {"question_id": question.id}}
            sent = self.services.slack.post(ask.user_id, text, dm_blocks, metadata=metadata)
        with self.services.db.transaction() as session:
            row = queries.ask_of(session, ask.question_id, ask.user_id)
            assert row is not None
            if isinstance(sent, Failed):
                # DMs closed, a deactivated account, cannot_dm_bot: skip them, ask the next.
                log.info("question DM failed team=%s question=%s user=%s error=%s",
                         question.team_id, question.id, ask.user_id, sent.error)  # fmt: skip
                row.state, row.dm_ts = "unreachable", None
            else:
                row.state, row.dm_channel_id, row.dm_ts = "asked", sent.channel, sent.ts
            return row.state

    def already_sent(self, user_id: str, event_type: str, question_id: int) -> Posted | None:
        """A DM an earlier run sent before it died, found by its metadata in the app's DM with them."""
        channel = open_group(self.services.slack, [user_id])
        if isinstance(channel, Failed):
            return None
        found = self.services.slack.find_by_metadata(channel, event_type, "question_id", question_id)
        return found if isinstance(found, Posted) else None

    def top_up(self, question_id: int) -> None:
        """Someone said *Not me*: ask the next person in the question's current wave (its deadline stays)."""
        now = self.services.clock()
        lease = now + LEASE
        with self.services.db.transaction() as session:
            taken = queries.move(session, question_id, ("waiting",), state="routing", lease_until=lease)
        if not taken:  # the rerun of a job a 429 stopped takes its routing over; else in hand elsewhere,
            self._take_over(question_id, now, lease)  # or the question is past asking
            return
        question = self.load(question_id)
        with self._given_back_on_429(question_id, lease):
            if question is not None and self.may_reach_more(question):
                self._fill_wave(question, question.wave)
        with self.services.db.transaction() as session:  # (closed meanwhile if its channel is private now)
            queries.move(session, question_id, ("routing",), state="waiting", lease_until=None)
        self.refresh_post(question_id)

    def may_reach_more(self, question: Question) -> bool:
        """Whether the question may go to more people now: its channel is still public, asked of Slack
        now (privacy.py). Private now: the question is closed and the asker told (once: the close is
        a compare-and-set), a questions channel turned off. Slack couldn't say: not now."""
        reach = reach_of(self.services, question.team_id, question.channel_id)
        if reach is Reach.PRIVATE:
            self._close_private(question)
        return reach is Reach.PUBLIC

    def _close_private(self, question: Question) -> None:
        with self.services.db.transaction() as session:
            closed = queries.move(
                session, question.id, OPEN_STATES, state=CLOSED, closed_reason="private", due_at=None, lease_until=None
            )
            if closed:
                queries.close_asks(session, question.id)
        if not closed:
            return
        log.warning("question closed: its channel is private now team=%s question=%s channel=%s",
                    question.team_id, question.id, question.channel_id)  # fmt: skip
        self.services.slack.tell(question.asker_id, blocks.went_private(question))
        turn_off_private_channel(self.services, question.team_id, question.channel_id)
        self.refresh_post(question.id)

    def asked(self, question_id: int) -> int:
        """How many people got the question's DM."""
        with self.services.db.snapshot() as session:
            return sum(ask.state in ASKED_STATES for ask in queries.asks_of(session, question_id))

    # -- the post --------------------------------------------------------------------------------

    def refresh_post(self, question_id: int) -> Question | None:
        """Redraw the question's own recorded post from what the database says now."""
        with self.services.db.snapshot() as session:
            question = session.get(Question, question_id)
            if question is None or question.post_ts is None:
                return question
            asks = queries.asks_of(session, question_id)
            tip_id = question.answered_tip_id
            tip = None if tip_id is None else tip_queries.get_tip(session, question.team_id, tip_id)
        asked, replied = sum(a.state in ASKED_STATES for a in asks), question.first_reply_at is not None
        facts = blocks.PostFacts(asked, replied, None if tip is None else tip.number)
        text, post_blocks = blocks.question_post(question, facts, parent=question.source == "command")
        if failed := self.services.slack.update(question.channel_id, question.post_ts, text, post_blocks):
            log.info("question post not updated question=%s error=%s", question_id, failed.error)
        return question

    def load(self, question_id: int) -> Question | None:
        with self.services.db.snapshot() as session:
            return session.get(Question, question_id)
