"""Questions asked of the workspace, the people asked to answer them, the replies they got, the
channels where questions are answered on their own, and the index of tip tags that finds experts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SlackId, utcnow
from storage.models.numbers import QUESTION, next_number


class Question(Base):
    """One question, from its asking to its answer (or its close).

    `state`: new → suggested (tips shown to the asker) → routing (being posted and sent to people,
    under `lease_until`) → waiting (people asked; `due_at` is the next deadline) → unanswered (after
    the second window: the asker was told, the digest asks for help); or answered_by_tip, answered,
    closed at any time.
    """

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    # What people see and type ("#7", `/ask close 7`): 1, 2, 3 … within the workspace (migration 0021).
    number: Mapped[int] = mapped_column(default=next_number(QUESTION), server_default="0")
    asker_id: Mapped[str] = mapped_column(SlackId)
    # Who took it to colleagues: the asker, or whoever used *Ask Peerlearn* on the asker's message
    # (their hourly quota counts it). None on questions asked before migration 0020.
    requested_by: Mapped[str | None] = mapped_column(SlackId)
    text: Mapped[str] = mapped_column(Text)  # plain text, as the person asked it
    topics: Mapped[str] = mapped_column(Text, default="")  # space-separated tags/skills it is about
    source: Mapped[str] = mapped_column(String(16))  # command | shortcut | channel
    channel_id: Mapped[str] = mapped_column(SlackId)  # where it was asked
    # The thread answers go to: our post of the question (/ask), or the message asked in (channel, shortcut).
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    post_ts: Mapped[str | None] = mapped_column(String(32))  # our message carrying the asker's buttons
    permalink: Mapped[str | None] = mapped_column(Text)  # the thread's link, for the people asked
    state: Mapped[str] = mapped_column(String(16), default="new")
    wave: Mapped[int] = mapped_column(default=0)  # 1: the first people asked; 2: escalated to the next
    lease_until: Mapped[datetime | None]  # routing in hand until then; afterwards anyone may resume it
    due_at: Mapped[datetime | None]  # when waiting: escalate (wave 1) or give up (wave 2)
    request_key: Mapped[str] = mapped_column(String(64))  # the request that asked it (bot/slack/requests.py)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    routed_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(SlackId)  # whose reply the asker accepted
    answer_ts: Mapped[str | None] = mapped_column(String(32))
    answered_tip_id: Mapped[int | None]  # the tip that answered it ("This answered it")
    saved_tip_id: Mapped[int | None]  # the tip the accepted answer became
    notice_ts: Mapped[str | None] = mapped_column(String(32))  # the asker's "still unanswered" DM
    closed_reason: Mapped[str | None] = mapped_column(String(16))  # asker | deleted | unpostable | private

    __table_args__ = (
        UniqueConstraint("team_id", "request_key", name="uq_questions_request"),
        Index("uq_questions_number", "team_id", "number", unique=True),
        Index("ix_questions_thread", "team_id", "channel_id", "thread_ts"),
        Index("ix_questions_post", "team_id", "channel_id", "post_ts"),
        Index("ix_questions_asker", "team_id", "asker_id", "asked_at"),
        Index("ix_questions_requester", "team_id", "requested_by", "asked_at"),
        Index("ix_questions_team_asked", "team_id", "asked_at"),
        Index("ix_questions_due", "state", "due_at"),
    )


class QuestionAsk(Base):
    """Someone asked to help with a question: recorded before their DM goes out, once per person.

    `state`: pending (DM not sent yet) → asked | unreachable (the DM could not be opened); then
    helping (*I can help*) or declined (*Not me*). `dm_ts` is "sending" while the DM is being posted.
    """

    __tablename__ = "question_asks"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    wave: Mapped[int] = mapped_column(default=1)
    reasons: Mapped[str] = mapped_column(Text, default="")  # why they were picked, as the DM says it
    state: Mapped[str] = mapped_column(String(16), default="pending")
    open: Mapped[bool] = mapped_column(default=True)  # the question is still open: counts for their load
    dm_channel_id: Mapped[str | None] = mapped_column(SlackId)
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_question_asks_load", "team_id", "user_id", "open"),
        Index("ix_question_asks_pending", "state", "created_at"),
    )


class QuestionReply(Base):
    """A reply in a question's thread by someone other than the asker: what *Answered* can accept."""

    __tablename__ = "question_replies"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)
    user_id: Mapped[str] = mapped_column(SlackId)
    text: Mapped[str] = mapped_column(Text)  # as Slack sent it (its markup kept, for Save as tip)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionTopic(Base):
    """A topic of a question, in a row of its own: accepted answers on a topic are expertise."""

    __tablename__ = "question_topics"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId)

    __table_args__ = (Index("ix_question_topics_topic", "team_id", "topic"),)


class QuestionsChannel(Base):
    """A channel where every new top-level message that reads as a question is answered in its thread."""

    __tablename__ = "questions_channels"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    enabled_by: Mapped[str] = mapped_column(SlackId)
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)


class TagAuthor(Base):
    """How many tips an author shared with a tag, and the helpful votes they got: "who wrote tips on X,
    and how helpful were they" is then the first rows of one index, however many tips X has. Kept
    in step with `tips` (shares, tag changes, votes, deletions) by triggers (migration 0014),
    whatever code writes tips; an author with no tip left on a tag has no row."""

    __tablename__ = "tag_authors"

    team_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    author_id: Mapped[str] = mapped_column(SlackId, primary_key=True)
    tips: Mapped[int]
    helpful: Mapped[int]

    __table_args__ = (Index("ix_tag_authors_helpful", "team_id", "tag", "helpful", "tips", "author_id"),)
