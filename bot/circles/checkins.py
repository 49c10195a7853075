"""Check-in answers: who may answer a round, and their answers stored and shown once.

Only a participant of an open round of the request's team may answer it. The answers are stored
first; their reply in the round's thread is posted once and edited afterwards (its ts is kept with
the answers; a post carries metadata naming the round and the person, so a job that runs again
after posting finds its reply instead of posting a second one); the invitation DM becomes
"✓ Checked in — edit your answers".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.circles.inputs import parse_id
from bot.circles.messages import ANSWERED_EVENT, answer_reply, checked_in_dm
from bot.circles.rules import questions_of, stored_answers
from bot.notices import post_failure
from bot.services import Services
from bot.slack.conversations import ChannelReaders
from bot.slack.results import Failed, Posted
from storage import circles as queries
from storage.models import Circle, CircleRound, ParticipantStatus, RoundParticipant, RoundState

log = logging.getLogger(__name__)
NOT_YOURS = "You're not part of that check-in."
CLOSED = "That check-in has closed. See you next round!"


@dataclass(frozen=True)
class AnswerForm:
    circle: Circle
    round_: CircleRound
    previous: list[str] | None


@dataclass(frozen=True)
class Recorded:
    warning: str | None = None  # saved, but not shown in the channel


@dataclass(frozen=True)
class Refused:
    message: str


def _answerable(
    session: Session, team_id: str, user_id: str, round_id: int | None
) -> tuple[Circle, CircleRound, RoundParticipant] | Refused:
    round_ = queries.round_in_team(session, team_id, round_id) if round_id is not None else None
    participant = queries.participant(session, round_.id, user_id) if round_ is not None else None
    if round_ is None or participant is None:
        return Refused(NOT_YOURS)
    if participant.status not in (ParticipantStatus.INVITED, ParticipantStatus.ANSWERED):
        return Refused(
            "You're sitting this check-in out." if participant.status == ParticipantStatus.PAUSED else NOT_YOURS
        )
    if round_.status != RoundState.OPEN:
        return Refused(CLOSED)
    circle = session.get(Circle, round_.circle_id)
    if circle is None or circle.archived_at is not None:
        return Refused(CLOSED)
    return circle, round_, participant


def answer_form(services: Services, team_id: str, user_id: str, value: object) -> AnswerForm | Refused:
    """What the *Check in* button opens: the round's questions with the person's earlier answers."""
    with services.db.snapshot() as session:
        found = _answerable(session, team_id, user_id, parse_id(value))
        if isinstance(found, Refused):
            return found
        circle, round_, participant = found
        previous = stored_answers(participant.answers)
    return AnswerForm(circle, round_, previous)


def record_answers(
    services: Services, *, team_id: str, user_id: str, round_id: int, answers: list[str]
) -> Recorded | Refused:
    with services.db.transaction() as session:
        found = _answerable(session, team_id, user_id, round_id)
        if isinstance(found, Refused):
            return found
        circle, round_, participant = found
        answers = answers[: len(questions_of(circle))]
        if not any(answers):
            return Refused("Answer at least one of the round's questions.")
        # Answered before and no reply known: an earlier run may have posted it and died before
        # keeping its ts (or its post failed). Only then is the thread searched.
        maybe_posted = participant.answers is not None and participant.reply_ts is None
        participant.answers = json.dumps(answers)
        participant.status = ParticipantStatus.ANSWERED
        participant.answered_at = services.clock()
        reply_ts, dm_channel, dm_ts = participant.reply_ts, participant.dm_channel_id, participant.dm_ts
    warning = _show_in_thread(services, circle, round_, user_id, answers, reply_ts, maybe_posted)
    if dm_channel and dm_ts:
        text, blocks = checked_in_dm(circle, round_)
        if failed := services.slack.update(dm_channel, dm_ts, text, blocks):
            log.info("check-in DM not updated round=%s user=%s error=%s", round_.id, user_id, failed.error)
    return Recorded(warning)


def _show_in_thread(
    services: Services,
    circle: Circle,
    round_: CircleRound,
    user_id: str,
    answers: list[str],
    reply_ts: str | None,
    maybe_posted: bool,
) -> str | None:
    if round_.thread_ts is None:
        return None
    # A private channel's thread takes only its members' answers: one who is not (or no longer) in
    # it would have the app post for them where they can't post themselves. Their answers stay
    # recorded; an earlier reply of theirs is left as it was.
    readable = ChannelReaders(services.slack).may_read(user_id, round_.channel_id)
    channel = f"<#{round_.channel_id}>"
    if isinstance(readable, Failed):
        log.info("check-in reply withheld round=%s user=%s: members not listed", round_.id, user_id)
        return f"Your answers are saved, but not yet shown in {channel} ({readable.error}); send them again later."
    if not readable:
        log.warning("check-in reply withheld round=%s user=%s: not in private channel", round_.id, user_id)
        return f"Your answers are saved, but not shown in {channel}: it's a private channel you're not in."
    slack, payload = services.slack, {"round_id": round_.id, "user_id": user_id}
    if reply_ts is None and maybe_posted:
        found = slack.find_reply_by_metadata(round_.channel_id, round_.thread_ts, ANSWERED_EVENT, payload)
        if isinstance(found, Posted):  # else none found, or Slack couldn't say: posted (as before)
            reply_ts = found.ts
            _keep_reply(services, round_.id, user_id, reply_ts)
    text, blocks = answer_reply(circle, user_id, answers)
    if reply_ts is not None:
        failed = slack.update(round_.channel_id, reply_ts, text, blocks)
        if failed is None:
            return None
        if failed.error != "message_not_found":  # a post anew could show the answers twice
            return f"Your answers are saved, but I couldn't update them in <#{round_.channel_id}> ({failed.error})."
        log.info("check-in reply gone round=%s user=%s; posting anew", round_.id, user_id)
    metadata = {"event_type": ANSWERED_EVENT, "event_payload": payload}
    posted = slack.post(round_.channel_id, text, blocks, thread_ts=round_.thread_ts, metadata=metadata)
    if isinstance(posted, Failed):
        return (
            f"Your answers are saved, but I couldn't show them in <#{round_.channel_id}>: {post_failure(posted.error)}"
        )
    _keep_reply(services, round_.id, user_id, posted.ts)
    return None


def _keep_reply(services: Services, round_id: int, user_id: str, ts: str) -> None:
    with services.db.transaction() as session:
        participant = queries.participant(session, round_id, user_id)
        if participant is not None:
            participant.reply_ts = ts
