"""Starting a pairing round: who is in the pool, and the plan, recorded before anyone is messaged.

A round is a row unique per (team, channel, period), inserted in the transaction that records its
whole plan (groups, members, who was left out): a rerun or a second scheduler finds the plan and
never plans again; telling people is bot/pairing/delivery.py's, closing the loop outcomes.py's.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.pairing.delivery import Delivery
from bot.pairing.groups import Plan, plan_round
from bot.pairing.people import History, Mode, Person, Rules
from bot.pairing.profiles import as_person
from bot.pairing.service import profile_from_row
from bot.schedules.commands import PairingOptions
from bot.schedules.kinds import PostKind
from bot.schedules.rules import BrokenSchedule, cadence_of
from bot.slack.conversations import channel_members
from bot.slack.gateway import SlackGateway
from bot.slack.results import Failed
from bot.slack.users import UserDirectory
from storage import pairing as profile_queries
from storage import pairing_rounds as queries
from storage import schedules as schedule_queries
from storage.db import Database

log = logging.getLogger(__name__)


DEFAULT_LENGTH = timedelta(days=7)  # a round asked for "now", or one whose schedule can't say


def seed_of(team_id: str, channel_id: str, period: str) -> int:
    digest = hashlib.sha256(f"{team_id}:{channel_id}:{period}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF  # fits a 32-bit signed column on every backend


class PairingRunner:
    def __init__(
        self, db: Database, slack: SlackGateway, users: UserDirectory, *, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.slack = slack
        self.users = users
        self.clock = clock
        self.delivery = Delivery(db, slack, clock=clock)

    # -- a round -------------------------------------------------------------------------------

    def preview(self, team_id: str, channel_id: str, settings: PairingOptions, period: str) -> Plan | str:
        """The plan the next round would make, nothing recorded or sent (admins only, by the caller)."""
        pool = self.pool(team_id, channel_id, settings.mode, self.clock())
        if isinstance(pool, str):
            return pool
        with self.db.snapshot() as session:
            history = self._history(session, team_id, channel_id, settings.window, pool)
        seed = seed_of(team_id, channel_id, period)
        return plan_round(pool, history, Rules(mode=settings.mode), size=settings.size, seed=seed)

    def start(
        self, team_id: str, channel_id: str, period: str, settings: PairingOptions, configured_by: str
    ) -> str | None:
        """Run (or continue) the round of (team, channel, period); why there is none, or None."""
        now = self.clock()
        with self.db.snapshot() as session:
            existing = queries.round_for(session, team_id, channel_id, period)
        if existing is None:
            pool = self.pool(team_id, channel_id, settings.mode, now)
            if isinstance(pool, str):
                return pool
            if len(pool) < 2:
                return "fewer than two people in the channel can be paired this round"
            length = self._length(team_id, channel_id, period, now)
            existing = self._record(team_id, channel_id, period, settings, configured_by, pool, now, length)
        self.delivery.deliver(existing)
        return None

    def _length(self, team_id: str, channel_id: str, period: str, now: datetime) -> timedelta:
        """Until an hour before the schedule's next round (1 to 28 days); a week for a round asked now."""
        if period.startswith("now:"):
            return DEFAULT_LENGTH
        with self.db.snapshot() as session:
            schedule = schedule_queries.get_schedule(session, team_id, channel_id, PostKind.PAIRING)
            try:
                following = cadence_of(schedule).next_after(now + timedelta(minutes=1)) if schedule else None
            except BrokenSchedule:
                following = None
        if following is None:
            return DEFAULT_LENGTH
        return min(max(following - now - timedelta(hours=1), timedelta(days=1)), timedelta(days=28))

    def pool(self, team_id: str, channel_id: str, mode: Mode, now: datetime) -> list[Person] | str:
        """The channel's current members who can be paired now (a problem to report otherwise)."""
        members = channel_members(self.slack, channel_id)
        if isinstance(members, Failed):
            return f"I couldn't read the channel's members ({members.error})"
        people = self.users.lookup(members)
        with self.db.snapshot() as session:
            rows = profile_queries.profiles_of(session, team_id, people)
            skills = profile_queries.skills_of_many(session, team_id, list(people))
        pool = []
        for user_id in members:
            person = people.get(user_id)
            if person is None or person.deleted or person.is_bot:
                continue
            row = rows.get(user_id)
            profile = profile_from_row(row, skills.get(user_id, {})) if row is not None else None
            if row is not None and (row.deactivated_at is not None or profile is None or profile.pausing(now)):
                continue
            if profile is not None and mode is not Mode.MENTORSHIP and not profile.open_to_coffee:
                continue
            if (
                profile is not None
                and mode is Mode.MENTORSHIP
                and not (profile.open_to_mentoring or profile.open_to_mentee)
            ):
                continue
            pool.append(as_person(profile, user_id, _offset_minutes(person.timezone, now)))
        return pool

    def _history(self, session: Session, team_id: str, channel_id: str, window: int, pool: list[Person]) -> History:
        recent = queries.met_pairs(session, team_id, channel_id, window)
        ever = queries.ever_met_pairs(session, team_id, [p.user_id for p in pool])
        return History(recent=frozenset(recent), ever=frozenset(ever))

    def _record(
        self,
        team_id: str,
        channel_id: str,
        period: str,
        settings: PairingOptions,
        configured_by: str,
        pool: list[Person],
        now: datetime,
        length: timedelta,
    ) -> int:
        seed = seed_of(team_id, channel_id, period)
        with self.db.transaction() as session:
            round_ = queries.claim_round(
                session,
                {
                    "team_id": team_id,
                    "channel_id": channel_id,
                    "period": period,
                    "mode": settings.mode.value,
                    "size": settings.size,
                    "seed": seed,
                    "status": "open",
                    "configured_by": configured_by,
                    "pool_size": len(pool),
                    "learners": 0,
                    "learners_taught": 0,
                    "follow_up_at": now + length / 2,
                    "closes_at": now + length,
                    "created_at": now,
                },
            )
            if round_ is None:  # another process recorded it first: its plan stands
                found = queries.round_for(session, team_id, channel_id, period)
                assert found is not None
                return found
            history = self._history(session, team_id, channel_id, settings.window, pool)
            plan = plan_round(pool, history, Rules(mode=settings.mode), size=settings.size, seed=seed)
            by_id = {p.user_id: p for p in pool}
            learners = {p.user_id for p in pool if p.learns}
            taught = {m for g in plan.groups if g.mentor for m in g.members if m != g.mentor and m in learners}
            round_.learners, round_.learners_taught = len(learners), len(taught)
            groups = [
                {
                    "members": " ".join(g.members),
                    "mentor_id": g.mentor,
                    "skills": " ".join(g.skills),
                    "cross_team": len({by_id[m].team for m in g.members if by_id[m].team}) > 1,
                    "outcome": queries.PENDING,
                }
                for g in plan.groups
            ]
            queries.record_groups(session, round_, groups, [(u, r.value) for u, r in plan.left_out])
            log.info(
                "pairing round team=%s channel=%s period=%s pool=%s groups=%s left_out=%s",
                team_id, channel_id, period, len(pool), len(plan.groups), len(plan.left_out),
            )  # fmt: skip
            return round_.id


def _offset_minutes(zone: str | None, now: datetime) -> int | None:
    if not zone:
        return None
    try:
        offset = now.astimezone(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return None if offset is None else int(offset.total_seconds() // 60)
