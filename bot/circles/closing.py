"""A round's later steps, each taken once by whoever wins its compare-and-set: the reminders
(`reminded_at` set), then the summary that closes it (`open` moved to `closing`)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bot.circles import rules as circles
from bot.circles.messages import CLOSED_EVENT, CLOSED_TEXT, reminder_dm, round_summary, summary_without
from bot.slack.acting import carrying_team
from bot.slack.conversations import ChannelReaders
from bot.slack.gateway import SlackGateway
from bot.slack.pacing import PostPacer
from bot.slack.results import Failed, Message
from storage import circles as queries
from storage.db import Database
from storage.models import Circle, CircleRound, ParticipantStatus, RoundState

log = logging.getLogger(__name__)


def remind(db: Database, slack: SlackGateway, pacer: PostPacer, round_id: int, now: datetime, *, workers: int) -> int:
    """Send the reminders of a round, once: whoever sets its `reminded_at` sends them."""
    with db.transaction() as session:
        if not queries.claim_reminders(session, round_id, now):
            return 0
        round_ = session.get(CircleRound, round_id)
        assert round_ is not None
        circle = session.get(Circle, round_.circle_id)
        assert circle is not None
        waiting = [
            p.user_id
            for p in queries.participants(session, round_id)
            if p.status == ParticipantStatus.INVITED and p.dm_ts
        ]
    text, blocks = reminder_dm(circle, round_)

    def remind(user_id: str) -> None:
        try:
            pacer.wait(user_id)
            slack.post(user_id, text, blocks)
        except Exception:  # this member misses the reminder; the others still get theirs
            log.exception("check-in reminder failed circle=%s round=%s user=%s", circle.id, round_id, user_id)

    with ThreadPoolExecutor(workers, thread_name_prefix="circle-dm") as pool:
        list(pool.map(carrying_team(remind), waiting))
    return 1


def close(db: Database, slack: SlackGateway, round_id: int, now: datetime) -> int:
    """Close a round, once: whoever moves it from open to closing posts the summary and counts the streaks."""
    with db.transaction() as session:
        if not queries.advance_round(session, round_id, RoundState.OPEN, RoundState.CLOSING):
            return 0
        round_ = session.get(CircleRound, round_id)
        assert round_ is not None
        circle = session.get(Circle, round_.circle_id)
        assert circle is not None
        taking_part = queries.participants(session, round_id)
        streaks: dict[str, int] = {}
        for participant in taking_part:
            membership = queries.member(session, circle.id, participant.user_id)
            if membership is None:
                continue
            membership.streak = circles.next_streak(membership.streak, participant.status)
            if participant.status == ParticipantStatus.ANSWERED:
                membership.last_answered_at = participant.answered_at
            streaks[participant.user_id] = membership.streak
        answers = {p.user_id: given for p in taking_part if (given := circles.stored_answers(p.answers))}
        invited = [
            p.user_id for p in taking_part if p.status in (ParticipantStatus.INVITED, ParticipantStatus.ANSWERED)
        ]
    # Answers are quoted in the channel only for those who can read it (not, or no longer, in a
    # private channel: counted, not quoted; Slack couldn't say: not quoted).
    readers = ChannelReaders(slack)
    quotable = {user for user in answers if round_.thread_ts and readers.may_read(user, round_.channel_id) is True}
    text, blocks = round_summary(circle, invited, answers, streaks, quotable)
    if round_.thread_ts:
        metadata = {"event_type": CLOSED_EVENT, "event_payload": {"round_id": round_id}}  # found by forget-me
        slack.post(round_.channel_id, text, blocks, thread_ts=round_.thread_ts, metadata=metadata)
    with db.transaction() as session:
        queries.advance_round(session, round_id, RoundState.CLOSING, RoundState.CLOSED, closed_at=now)
    log.info(
        "circle round closed team=%s circle=%s round=%s answered=%s/%s",
        circle.team_id,
        circle.id,
        round_id,
        len(answers),
        len(invited),
    )
    return 1


def forget_in_summary(
    slack: SlackGateway, channel_id: str, thread_ts: str, round_id: int, user_id: str, *, oldest: str | None = None
) -> Failed | None:
    """Take `user_id` out of a closed round's summary (forget-me): the summary quotes several people,
    so it is edited (messages.summary_without), not deleted. Found in the round's thread by its
    metadata, or, posted before it carried any, as the app's reply that reads "Check-in closed";
    `oldest`: a ts the summary came after (their own answer's reply). Done when it is gone or no
    longer names them; a rerun finds nothing left to change."""

    def is_summary(message: Message) -> bool:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == CLOSED_EVENT:
            return (metadata.get("event_payload") or {}).get("round_id") == round_id
        return bool(message.get("bot_id")) and str(message.get("text") or "").startswith(CLOSED_TEXT)

    summary = slack.find_in_thread(channel_id, thread_ts, is_summary, oldest=oldest)
    if summary is None or isinstance(summary, Failed):
        return summary
    blocks = summary_without(list(summary.get("blocks") or []), user_id)
    if blocks is None:
        return None
    return slack.update(channel_id, str(summary["ts"]), str(summary.get("text") or CLOSED_TEXT), blocks)
