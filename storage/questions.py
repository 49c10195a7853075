"""Queries over questions, the people asked, replies and questions channels. Plain values in, rows
out; no Slack here. Every step that must happen once is a compare-and-set or an insert under a key."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, literal, or_, select, union, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from storage.locks import hold_count_of
from storage.models import (
    MentorProfile,
    ProfileSkill,
    Question,
    QuestionAsk,
    QuestionReply,
    QuestionsChannel,
    QuestionTopic,
    TagAuthor,
)
from storage.pairing import TEACH
from storage.upsert import insert_if_absent
from storage.workspaces import of_teams

CHUNK = 500  # ids per IN (...): under every backend's bound-parameter limit


def insert_question_once(session: Session, values: dict[str, Any]) -> tuple[Question, bool]:
    """The question made by `values["request_key"]`: inserted now (True), or found from an earlier run."""
    # Looked for first: an insert that conflicts would still have taken the workspace's next number.
    if (found := question_for_request(session, values["team_id"], values["request_key"])) is not None:
        return found, False
    question_id = insert_if_absent(session, Question, values, ["team_id", "request_key"])
    if question_id is None:
        found = question_for_request(session, values["team_id"], values["request_key"])
        assert found is not None, "the insert conflicted on this key"
        return found, False
    created = session.get(Question, question_id)
    assert created is not None
    return created, True


def question_for_request(session: Session, team_id: str, request_key: str) -> Question | None:
    query = select(Question).where(Question.team_id == team_id, Question.request_key == request_key)
    return session.scalars(query).first()


def question(session: Session, team_id: str, question_id: int) -> Question | None:
    """The question of this team with this id (None for another team's: ids come from buttons)."""
    found = session.get(Question, question_id)
    return found if found is not None and found.team_id == team_id else None


def question_by_number(session: Session, team_id: str, number: int) -> Question | None:
    """The team's question with this number, as people see and type it (`/ask close 7`)."""
    return session.scalars(select(Question).where(Question.team_id == team_id, Question.number == number)).first()


def question_in_thread(session: Session, team_id: str, channel_id: str, thread_ts: str) -> Question | None:
    query = select(Question).where(
        Question.team_id == team_id, Question.channel_id == channel_id, Question.thread_ts == thread_ts
    )
    return session.scalars(query.order_by(Question.id.desc())).first()


def question_for_message(session: Session, team_id: str, channel_id: str, ts: str) -> Question | None:
    """The question whose thread starts at this message, or whose post it is."""
    return (
        question_in_thread(session, team_id, channel_id, ts)
        or session.scalars(
            select(Question).where(
                Question.team_id == team_id, Question.channel_id == channel_id, Question.post_ts == ts
            )
        ).first()
    )


def questions_of(session: Session, team_id: str, asker_id: str, limit: int) -> list[Question]:
    query = (
        select(Question)
        .where(Question.team_id == team_id, Question.asker_id == asker_id)
        .order_by(Question.asked_at.desc(), Question.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def asked_counts(session: Session, question_ids: Collection[int], states: Collection[str]) -> dict[int, int]:
    """{question id: its people asked in `states`} (those with none left out)."""
    ids = list(dict.fromkeys(question_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        query = (
            select(QuestionAsk.question_id, func.count())
            .where(QuestionAsk.question_id.in_(ids[start : start + CHUNK]), QuestionAsk.state.in_(states))
            .group_by(QuestionAsk.question_id)
        )
        found.update((int(question_id), int(count)) for question_id, count in session.execute(query))
    return found


def hold_requester(session: Session, team_id: str, requester_id: str) -> None:
    """Lock the person's questions to the end of the transaction: concurrent asks of theirs count
    `questions_asked_since` and insert one at a time (their hourly quota holds exactly)."""
    hold_count_of(session, "questions_requested", team_id, requester_id)


def questions_asked_since(session: Session, team_id: str, requester_id: str, since: datetime) -> list[datetime]:
    """When the person took each question stored since `since` to colleagues, oldest first (their
    quota): their own, and others' messages they used *Ask Peerlearn* on. Counted for a new one:
    under `hold_requester`, in the transaction that inserts it."""
    query = select(Question.asked_at).where(
        Question.team_id == team_id, Question.requested_by == requester_id, Question.asked_at >= since
    )
    return list(session.scalars(query.order_by(Question.asked_at)))


def move(
    session: Session, question_id: int, from_states: Collection[str], *where: ColumnElement[bool], **values: Any
) -> bool:
    """Compare-and-set: change the question only if it is in one of `from_states` (and `where` holds)."""
    result = session.execute(
        update(Question).where(Question.id == question_id, Question.state.in_(from_states), *where).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def resume_stalled(session: Session, question_id: int, state: str, now: datetime, lease_until: datetime) -> bool:
    """Take over a question left in `state` by a holder whose lease ran out (it died mid-way)."""
    return move(session, question_id, (state,), Question.lease_until < now, lease_until=lease_until)


def set_topics(session: Session, question: Question, topics: Iterable[str]) -> None:
    for topic in topics:
        insert_if_absent(
            session,
            QuestionTopic,
            {"question_id": question.id, "topic": topic, "team_id": question.team_id},
            ["question_id", "topic"],
        )


# -- the people asked ----------------------------------------------------------------------------


def asks_of(session: Session, question_id: int) -> list[QuestionAsk]:
    query = select(QuestionAsk).where(QuestionAsk.question_id == question_id)
    return list(session.scalars(query.order_by(QuestionAsk.created_at, QuestionAsk.user_id)))


def ask_of(session: Session, question_id: int, user_id: str) -> QuestionAsk | None:
    return session.get(QuestionAsk, (question_id, user_id))


def hold_asked(session: Session, team_id: str, user_id: str) -> None:
    """Lock the asks of one person to the end of the transaction: concurrent routings count
    `open_load` and `asks_since` for them and `add_ask` one at a time (their caps hold exactly)."""
    hold_count_of(session, "questions_asked", team_id, user_id)


def add_ask(session: Session, values: dict[str, Any]) -> bool:
    """Record that someone is asked; False when they were asked about this question before."""
    return insert_if_absent(session, QuestionAsk, values, ["question_id", "user_id"]) is not None


def open_load(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, int]:
    """How many open questions each person is asked about (and did not decline)."""
    return _asks_per_person(
        session, team_id, user_ids, QuestionAsk.open.is_(True), QuestionAsk.state.in_(("pending", "asked", "helping"))
    )


def asks_since(
    session: Session, team_id: str, user_ids: Iterable[str], since: datetime, states: Collection[str]
) -> dict[str, int]:
    """How many questions each person was asked about since `since` (in `states`), open or closed:
    their daily cap counts every DM they got, not only the questions still open."""
    return _asks_per_person(session, team_id, user_ids, QuestionAsk.created_at >= since, QuestionAsk.state.in_(states))


def _asks_per_person(
    session: Session, team_id: str, user_ids: Iterable[str], *where: ColumnElement[bool]
) -> dict[str, int]:
    """The asks of each of `user_ids` that meet `where`, counted per person, CHUNK people a query."""
    ids = list(dict.fromkeys(user_ids))
    found: dict[str, int] = {}
    for start in range(0, len(ids), CHUNK):
        query = (
            select(QuestionAsk.user_id, func.count())
            .where(QuestionAsk.team_id == team_id, QuestionAsk.user_id.in_(ids[start : start + CHUNK]), *where)
            .group_by(QuestionAsk.user_id)
        )
        found.update((user_id, int(count)) for user_id, count in session.execute(query))
    return found


def close_asks(session: Session, question_id: int) -> None:
    session.execute(update(QuestionAsk).where(QuestionAsk.question_id == question_id).values(open=False))


def move_ask(session: Session, question_id: int, user_id: str, from_states: Collection[str], **values: Any) -> bool:
    result = session.execute(
        update(QuestionAsk)
        .where(
            QuestionAsk.question_id == question_id,
            QuestionAsk.user_id == user_id,
            QuestionAsk.state.in_(from_states),
        )
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_asks_of(session: Session, team_id: str, user_id: str, now: datetime) -> int:
    """Someone who left (deactivated in Slack) is out of every open question they were asked about,
    as if they had said *Not me*; how many asks."""
    result = session.execute(
        update(QuestionAsk)
        .where(
            QuestionAsk.team_id == team_id,
            QuestionAsk.user_id == user_id,
            QuestionAsk.open.is_(True),
            QuestionAsk.state.in_(("pending", "asked", "helping")),
        )
        .values(state="declined", answered_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def waiting_questions_declined_by(session: Session, team_id: str, user_id: str) -> list[int]:
    """The questions waiting for people that `user_id` is out of (declined or released)."""
    query = (
        select(Question.id)
        .join(QuestionAsk, QuestionAsk.question_id == Question.id)
        .where(
            Question.team_id == team_id,
            Question.state == "waiting",
            QuestionAsk.user_id == user_id,
            QuestionAsk.state == "declined",
            QuestionAsk.open.is_(True),
        )
        .order_by(Question.id)
    )
    return list(session.scalars(query))


def undelivered_asks(
    session: Session, created_before: datetime, limit: int = 100, team_ids: Collection[str] | None = None
) -> list[QuestionAsk]:
    """Asks whose DM a crash left unsent (their question still open), oldest first."""
    query = (
        select(QuestionAsk)
        .where(
            QuestionAsk.state == "pending",
            QuestionAsk.open.is_(True),
            QuestionAsk.created_at < created_before,
            of_teams(QuestionAsk.team_id, team_ids),
        )
        .order_by(QuestionAsk.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


# -- replies -------------------------------------------------------------------------------------


def add_reply(session: Session, values: dict[str, Any]) -> bool:
    return insert_if_absent(session, QuestionReply, values, ["question_id", "ts"]) is not None


def replies_of(session: Session, question_id: int) -> list[QuestionReply]:
    query = select(QuestionReply).where(QuestionReply.question_id == question_id)
    return list(session.scalars(query.order_by(QuestionReply.ts)))


def reply_of(session: Session, question_id: int, ts: str) -> QuestionReply | None:
    return session.get(QuestionReply, (question_id, ts))


# -- expertise -----------------------------------------------------------------------------------


def known_topics(session: Session, team_id: str, words: Collection[str]) -> set[str]:
    """Which of `words` are tags of this team's tips or skills its people teach: one index probe per
    word (a DISTINCT over the tags' rows would read every author of a common tag)."""
    if not words:
        return set()
    probes = [
        select(literal(word)).where(
            or_(
                exists().where(TagAuthor.team_id == team_id, TagAuthor.tag == word),
                exists().where(ProfileSkill.team_id == team_id, ProfileSkill.kind == TEACH, ProfileSkill.skill == word),
            )
        )
        for word in dict.fromkeys(words)
    ]
    return set(session.scalars(union_all(*probes)))


def accepted_answers(
    session: Session, team_id: str, topics: Collection[str], now: datetime
) -> dict[tuple[str, str], int]:
    """{(person, topic): answers of theirs accepted on questions about that topic}, leaving out people
    taking a break from their mentoring profile (paused, opted out, deactivated) at `now`."""
    if not topics:
        return {}
    profile = and_(MentorProfile.team_id == Question.team_id, MentorProfile.user_id == Question.answered_by)
    active = and_(
        MentorProfile.opted_out.is_(False),
        MentorProfile.deactivated_at.is_(None),
        or_(MentorProfile.paused_until.is_(None), MentorProfile.paused_until <= now),
    )
    query = (
        select(Question.answered_by, QuestionTopic.topic, func.count())
        .join(Question, Question.id == QuestionTopic.question_id)
        .outerjoin(MentorProfile, profile)
        .where(
            QuestionTopic.team_id == team_id,
            QuestionTopic.topic.in_(topics),
            Question.state == "answered",
            Question.answered_by.is_not(None),
            or_(MentorProfile.user_id.is_(None), active),  # no profile: never paused
        )
        .group_by(Question.answered_by, QuestionTopic.topic)
    )
    return {(str(user), topic): int(count) for user, topic, count in session.execute(query)}


# -- the keeper's work ---------------------------------------------------------------------------


def due_questions(
    session: Session, now: datetime, limit: int = 200, team_ids: Collection[str] | None = None
) -> list[Question]:
    query = (
        select(Question)
        .where(Question.state == "waiting", Question.due_at <= now, of_teams(Question.team_id, team_ids))
        .order_by(Question.due_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def stalled_questions(
    session: Session, now: datetime, limit: int = 100, team_ids: Collection[str] | None = None
) -> list[Question]:
    """Routing, or an unanswered notice, whose holder's lease ran out (it died mid-way)."""
    query = (
        select(Question)
        .where(
            Question.state.in_(("routing", "unanswered")),
            Question.lease_until < now,
            of_teams(Question.team_id, team_ids),
        )
        .order_by(Question.lease_until)
        .limit(limit)
    )
    return list(session.scalars(query))


def teams_with_keeper_work(session: Session, now: datetime, created_before: datetime) -> set[str]:
    """The workspaces with keeper's work: what `due_questions`, `stalled_questions` and
    `undelivered_asks` would find."""
    due = select(Question.team_id).where(Question.state == "waiting", Question.due_at <= now)
    stalled = select(Question.team_id).where(Question.state.in_(("routing", "unanswered")), Question.lease_until < now)
    unsent = select(QuestionAsk.team_id).where(
        QuestionAsk.state == "pending", QuestionAsk.open.is_(True), QuestionAsk.created_at < created_before
    )
    return set(session.scalars(union(due, stalled, unsent)))


# -- questions channels --------------------------------------------------------------------------


# Asked of every question-like message in a channel (the ack's matcher), so built once.
_QUESTIONS_CHANNEL = (
    select(literal(1))
    .where(QuestionsChannel.team_id == bindparam("team_id"), QuestionsChannel.channel_id == bindparam("channel_id"))
    .limit(1)
)
_QUESTION_THREAD = (
    select(literal(1))
    .where(
        Question.team_id == bindparam("team_id"),
        Question.channel_id == bindparam("channel_id"),
        Question.thread_ts == bindparam("thread_ts"),
    )
    .limit(1)
)


def is_questions_channel(reader: Session | Connection, team_id: str, channel_id: str) -> bool:
    return reader.execute(_QUESTIONS_CHANNEL, {"team_id": team_id, "channel_id": channel_id}).first() is not None


def is_question_thread(reader: Session | Connection, team_id: str, channel_id: str, thread_ts: str) -> bool:
    found = reader.execute(_QUESTION_THREAD, {"team_id": team_id, "channel_id": channel_id, "thread_ts": thread_ts})
    return found.first() is not None


def enable_channel(session: Session, team_id: str, channel_id: str, user_id: str, now: datetime) -> bool:
    values = {"team_id": team_id, "channel_id": channel_id, "enabled_by": user_id, "enabled_at": now}
    return insert_if_absent(session, QuestionsChannel, values, ["team_id", "channel_id"]) is not None


def disable_channel(session: Session, team_id: str, channel_id: str) -> bool:
    result = session.execute(
        delete(QuestionsChannel).where(QuestionsChannel.team_id == team_id, QuestionsChannel.channel_id == channel_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def questions_channel_enabled_by(session: Session, team_id: str, channel_id: str) -> str | None:
    """Who turned the channel on as a questions channel (None: it isn't one)."""
    query = select(QuestionsChannel.enabled_by).where(
        QuestionsChannel.team_id == team_id, QuestionsChannel.channel_id == channel_id
    )
    return session.scalars(query).first()


def questions_channels(session: Session, team_id: str) -> list[str]:
    query = select(QuestionsChannel.channel_id).where(QuestionsChannel.team_id == team_id)
    return list(session.scalars(query.order_by(QuestionsChannel.enabled_at)))


# -- measures ------------------------------------------------------------------------------------


def asked_between(
    session: Session, team_id: str, start: datetime | None, end: datetime, channel_id: str | None = None
) -> list[Question]:
    query = select(Question).where(Question.team_id == team_id, Question.asked_at < end)
    if start is not None:
        query = query.where(Question.asked_at >= start)
    if channel_id is not None:
        query = query.where(Question.channel_id == channel_id)
    return list(session.scalars(query))


def unanswered(
    session: Session, team_id: str, channel_id: str | None, limit: int, in_channels: Collection[str] | None = None
) -> list[Question]:
    """The oldest questions left unanswered (asked in `channel_id`, or in any of `in_channels`)."""
    query = select(Question).where(Question.team_id == team_id, Question.state == "unanswered")
    if channel_id is not None:
        query = query.where(Question.channel_id == channel_id)
    if in_channels is not None:
        query = query.where(Question.channel_id.in_(sorted(in_channels)))
    return list(session.scalars(query.order_by(Question.asked_at).limit(limit)))


def unanswered_channels(session: Session, team_id: str, limit: int = 100) -> set[str]:
    """The channels the workspace's unanswered questions were asked in (up to `limit` of them)."""
    query = select(Question.channel_id).where(Question.team_id == team_id, Question.state == "unanswered")
    return set(session.scalars(query.distinct().limit(limit)))


# -- people's data (/peerlearn my-data and forget-me: bot/people's sections and erasers) ---------


def questions_data_of(session: Session, team_id: str, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Everything questions keep about one person: what they asked, what they were asked to help with,
    their replies kept for *Answered*, and the answers of theirs that askers accepted."""
    asked = session.scalars(
        select(Question).where(Question.team_id == team_id, Question.asker_id == user_id).order_by(Question.id)
    )
    # Questions are named by their numbers, as people see them ("#7"), not by their database ids.
    asks = session.execute(
        select(Question.number, QuestionAsk.state, QuestionAsk.reasons, QuestionAsk.created_at)
        .join(Question, Question.id == QuestionAsk.question_id)
        .where(QuestionAsk.team_id == team_id, QuestionAsk.user_id == user_id)
        .order_by(QuestionAsk.created_at)
    )
    replies = session.execute(
        select(Question.number, QuestionReply.ts, QuestionReply.text, QuestionReply.created_at)
        .join(Question, Question.id == QuestionReply.question_id)
        .where(QuestionReply.team_id == team_id, QuestionReply.user_id == user_id)
        .order_by(QuestionReply.created_at)
    )
    accepted = session.execute(
        select(Question.number, Question.answer_ts, Question.answered_at)
        .where(Question.team_id == team_id, Question.answered_by == user_id)
        .order_by(Question.id)
    )
    taken = session.execute(
        select(Question.number, Question.channel_id, Question.asked_at)
        .where(Question.team_id == team_id, Question.requested_by == user_id, Question.asker_id != user_id)
        .order_by(Question.id)
    )
    return {
        "asked": [
            {"number": q.number, "text": q.text, "topics": q.topics.split(), "state": q.state, "channel": q.channel_id,
             "asked_at": q.asked_at.isoformat(), "thread": q.permalink}
            for q in asked
        ],
        "asked_to_help": [
            {"question": qid, "state": state, "why": reasons, "at": at.isoformat()} for qid, state, reasons, at in asks
        ],
        "replies": [{"question": qid, "ts": ts, "text": text, "at": at.isoformat()} for qid, ts, text, at in replies],
        "answers_accepted": [
            {"question": qid, "ts": ts, "at": at.isoformat() if at else None} for qid, ts, at in accepted
        ],
        "others_messages_asked": [  # *Ask Peerlearn* on someone else's message
            {"question": qid, "channel": channel, "at": at.isoformat()} for qid, channel, at in taken
        ],
    }  # fmt: skip


def question_posts_of(session: Session, team_id: str, user_id: str) -> list[tuple[str, str]]:
    """(channel, ts) of the app's own messages carrying the person's questions (read before erasing)."""
    query = select(Question.channel_id, Question.post_ts).where(
        Question.team_id == team_id, Question.asker_id == user_id, Question.post_ts.is_not(None)
    )
    return [(str(channel), str(ts)) for channel, ts in session.execute(query.order_by(Question.id))]


def question_dms_of(session: Session, team_id: str, user_id: str) -> list[tuple[str, str]]:
    """(channel, ts) of the app's DMs that took the person's questions to colleagues ("<@them> asked a
    question…", its words quoted); read before erasing, which deletes the asks that kept them. A DM
    still being sent (ts "sending") has no ts to go by yet."""
    mine = select(Question.id).where(Question.team_id == team_id, Question.asker_id == user_id)
    query = select(QuestionAsk.dm_channel_id, QuestionAsk.dm_ts).where(
        QuestionAsk.team_id == team_id,
        QuestionAsk.question_id.in_(mine),
        QuestionAsk.dm_channel_id.is_not(None),
        QuestionAsk.dm_ts.is_not(None),
        QuestionAsk.dm_ts != "sending",
    )
    rows = session.execute(query.order_by(QuestionAsk.question_id, QuestionAsk.user_id))
    return [(str(channel), str(ts)) for channel, ts in rows]


def erase_questions_of(session: Session, team_id: str, user_id: str) -> int:
    """Forget one person in questions: the questions they asked (with everyone's asks and replies on
    them), their being asked and their replies on others' questions; answers of theirs that were
    accepted stay answered, without their name. Rows removed or changed. (Questions channels they
    turned on belong to the workspace, like schedules.)"""
    mine = select(Question.id).where(Question.team_id == team_id, Question.asker_id == user_id)
    changed = 0
    for model in (QuestionAsk, QuestionReply, QuestionTopic):  # explicit: SQLite cascades only with foreign_keys=ON
        result = session.execute(delete(model).where(model.question_id.in_(mine)))
        changed += int(result.rowcount)  # type: ignore[attr-defined]
    for model in (QuestionAsk, QuestionReply):
        result = session.execute(delete(model).where(model.team_id == team_id, model.user_id == user_id))
        changed += int(result.rowcount)  # type: ignore[attr-defined]
    result = session.execute(delete(Question).where(Question.team_id == team_id, Question.asker_id == user_id))
    changed += int(result.rowcount)  # type: ignore[attr-defined]
    result = session.execute(
        update(Question).where(Question.team_id == team_id, Question.answered_by == user_id).values(answered_by=None)
    )
    changed += int(result.rowcount)  # type: ignore[attr-defined]
    result = session.execute(  # others' messages they took to colleagues: the questions stay, unnamed
        update(Question).where(Question.team_id == team_id, Question.requested_by == user_id).values(requested_by=None)
    )
    return changed + int(result.rowcount)  # type: ignore[attr-defined]
