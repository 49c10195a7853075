"""What the admins' part of the Home shows: every schedule and circle with its next run, and the
workspace's last weeks at a glance. Read only; the buttons' changes are in bot/home/control.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.circles import rules as circle_rules
from bot.figures.weekly import HOME_WEEKS, WeeklyFigures, weekly_figures
from bot.figures.weeks import last_weeks
from bot.schedules.kinds import PostKind
from bot.schedules.rules import BrokenSchedule, cadence_of
from storage import circles as circle_queries
from storage import questions as question_queries
from storage import schedules as schedule_queries
from storage.db import Database

SCHEDULES_SHOWN = 10
CIRCLES_SHOWN = 6
QUESTIONS_CHANNELS_SHOWN = 4


@dataclass(frozen=True)
class Scheduled:
    """One schedule or circle as an admin runs it."""

    target: str  # the buttons' value: "schedule:12" or "circle:3"
    what: str  # "learning prompts", "digest", "pairing rounds", or the circle's name (user text)
    is_circle: bool
    channel_id: str
    cadence: str | None  # "every Monday at 09:00 Europe/Berlin"; None: its stored settings can't be read
    next_at: datetime | None  # None: paused, or broken
    paused_reason: str | None

    @property
    def needs_attention(self) -> bool:
        return self.paused_reason is not None or self.cadence is None


@dataclass(frozen=True)
class AdminSummary:
    schedules: list[Scheduled]  # the first SCHEDULES_SHOWN, those needing attention first
    schedules_total: int
    circles: list[Scheduled]
    circles_total: int
    figures: WeeklyFigures
    questions_channels: list[str] = field(default_factory=list)  # the first QUESTIONS_CHANNELS_SHOWN
    questions_channels_total: int = 0


def _kind_words(kind: str) -> str:
    try:
        return {
            PostKind.PROMPT: "Learning prompts",
            PostKind.DIGEST: "Digest",
            PostKind.PAIRING: "Pairing rounds",
        }[PostKind(kind)]
    except ValueError:
        return "Unknown kind of schedule"


def _order(items: list[Scheduled], now: datetime) -> list[Scheduled]:
    # Paused and broken ones first (they need someone), then by when they run next.
    return sorted(items, key=lambda item: (not item.needs_attention, item.next_at or now))


def admin_summary(
    db: Database, team_id: str, now: datetime, zone: str | None, shown: Callable[[str], bool] = lambda _: True
) -> AdminSummary:
    """What the admin part of the Home lists; `shown(channel)`: whether a circle of that channel is
    this admin's to see (a private channel's circles are its members' business, admins' too)."""
    schedules: list[Scheduled] = []
    circles: list[Scheduled] = []
    with db.snapshot() as session:
        for schedule in schedule_queries.team_schedules(session, team_id):
            try:
                cadence = cadence_of(schedule)
            except BrokenSchedule:
                cadence = None
            running = cadence is not None and schedule.paused_reason is None
            schedules.append(
                Scheduled(
                    target=f"schedule:{schedule.id}",
                    what=_kind_words(schedule.kind),
                    is_circle=False,
                    channel_id=schedule.channel_id,
                    cadence=cadence.describe() if cadence else None,
                    next_at=cadence.next_after(now) if cadence and running else None,
                    paused_reason=schedule.paused_reason,
                )
            )
        for circle in circle_queries.live_circles(session, team_id):
            readable = circle_rules.schedule_of(circle)
            circles.append(
                Scheduled(
                    target=f"circle:{circle.id}",
                    what=circle.name,
                    is_circle=True,
                    channel_id=circle.channel_id,
                    cadence=readable.describe() if readable else None,
                    next_at=circle_rules.next_check_in(circle, now),
                    paused_reason=circle.paused_reason,
                )
            )
        figures = weekly_figures(session, team_id, last_weeks(now, zone, HOME_WEEKS))
        questions_channels = question_queries.questions_channels(session, team_id)
    circles = [circle for circle in circles if shown(circle.channel_id)]  # asked of Slack out of the snapshot
    return AdminSummary(
        schedules=_order(schedules, now)[:SCHEDULES_SHOWN],
        schedules_total=len(schedules),
        circles=_order(circles, now)[:CIRCLES_SHOWN],
        circles_total=len(circles),
        figures=figures,
        questions_channels=questions_channels[:QUESTIONS_CHANNELS_SHOWN],
        questions_channels_total=len(questions_channels),
    )
