"""When a schedule or a post can't go ahead: it is set aside, logged with its ids, and the admin who
set it is told, while every other schedule and post goes on."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.schedules.blocks import broken_notice, gave_up_notice
from bot.slack.acting import acting_for
from bot.slack.gateway import SlackGateway
from storage import schedules as queries
from storage.db import Database
from storage.models import Schedule

log = logging.getLogger(__name__)


def pause_broken_schedule(db: Database, slack: SlackGateway, schedule: Schedule, problem: str) -> None:
    """A row no cadence can be read from (written by hand, or by an older version): paused, its
    admin told once (a paused schedule is no longer read by the tick)."""
    with db.transaction() as session:
        paused = queries.pause_schedule(session, schedule.id, f"invalid: {problem}"[:200])
        admin = paused.configured_by if paused is not None else None
    log.error("schedule %s team=%s channel=%s paused: %s", schedule.id, schedule.team_id, schedule.channel_id, problem)
    if admin:
        slack.tell(admin, broken_notice(schedule.kind, schedule.channel_id, problem))


def give_up_expired_posts(db: Database, slack: SlackGateway, due_before: datetime) -> int:
    """Pending posts due before `due_before` (their grace window closed while they kept failing):
    marked failed, and the admin who set the schedule told; the schedule stays on. How many."""
    with db.snapshot() as session:
        expired = queries.expired_pending_ids(session, due_before)
    given_up = 0
    for post_id in expired:
        try:
            with db.transaction() as session:
                post = queries.give_up(session, post_id)
                if post is None:
                    continue  # another scheduler did it
                schedule = session.get(Schedule, post.schedule_id) if post.schedule_id else None
                admin = schedule.configured_by if schedule is not None else None
                manual = post.period.startswith("now:")  # its requester was answered at the time
                notice = gave_up_notice(post.kind, post.channel_id, post.error or "unknown error")
                ids = f"post {post_id} team={post.team_id} channel={post.channel_id} error={post.error}"
                team_id = post.team_id
            log.warning("%s: given up after the grace window", ids)
            given_up += 1
            if admin is not None and not manual:
                with acting_for(team_id):
                    slack.tell(admin, notice)
        except Exception:
            log.exception("expired post %s could not be given up; the next tick tries again", post_id)
    return given_up
