"""The weekly figures counted by the database, on SQLite and PostgreSQL alike: each row in its week
(cut in a time zone), other workspaces never counted, one query per figure however many weeks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bot.figures.weekly import weekly_figures
from bot.figures.weeks import last_weeks
from storage.db import Database
from storage.models import (
    Circle,
    CircleRound,
    PairingGroup,
    PairingRound,
    ParticipantStatus,
    Question,
    RoundParticipant,
    RoundState,
    Tip,
    TipVote,
)

TEAM = "T0TEST"
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday
_ids = itertools.count(1)


def _tip(author: str, at: datetime, team: str = TEAM) -> Tip:
    return Tip(team_id=team, author_id=author, text="t", tags="", source="command", created_at=at, helpful_count=0)


def seed(db: Database) -> None:
    this_monday = datetime(2026, 11, 16, tzinfo=UTC)
    last_monday = this_monday - timedelta(weeks=1)
    with db.transaction() as session:
        old = _tip("U1", last_monday + timedelta(days=1))
        session.add_all([old, _tip("U2", last_monday + timedelta(days=2))])
        session.add(_tip("U1", this_monday + timedelta(hours=1)))
        session.add(_tip("U9", this_monday + timedelta(hours=2), team="TOTHER"))  # never counted
        session.add(_tip("U3", this_monday - timedelta(weeks=8)))  # before the 8 weeks
        session.flush()
        # U4 only votes (this week), U1 votes too: this week's active people are U1 and U4.
        session.add_all(
            [
                TipVote(tip_id=old.id, user_id="U4", team_id=TEAM, author_id="U1", created_at=this_monday),
                TipVote(tip_id=old.id, user_id="U2", team_id=TEAM, author_id="U1", created_at=last_monday),
            ]
        )
        circle = Circle(
            team_id=TEAM, name="c", name_key="c", channel_id="C1", cadence="weekly", weekday=0, at_time="09:00",
            zone="UTC", questions='["q"]', reminder_minutes=60, window_minutes=120, owner_id="U1",
        )  # fmt: skip
        session.add(circle)
        session.flush()
        for due, statuses in [
            (last_monday + timedelta(hours=9), ["answered", "answered", "invited", "paused"]),
            (this_monday + timedelta(hours=9), ["answered", "invited", "unreachable"]),
        ]:
            round_ = CircleRound(
                team_id=TEAM, circle_id=circle.id, period=str(next(_ids)), due_at=due, remind_at=due,
                closes_at=due, channel_id="C1", status=RoundState.CLOSED,
            )  # fmt: skip
            session.add(round_)
            session.flush()
            for n, status in enumerate(statuses):
                status_ = ParticipantStatus(status)
                session.add(RoundParticipant(round_id=round_.id, user_id=f"U{n}", team_id=TEAM, status=status_))
        pairing = PairingRound(
            team_id=TEAM, channel_id="C2", period="p", mode="coffee", configured_by="U1",
            follow_up_at=NOW, closes_at=NOW, created_at=this_monday + timedelta(hours=10),
        )  # fmt: skip
        session.add(pairing)
        session.flush()
        for members, outcome in [("U1 U2", "met"), ("U3 U4", "not_yet"), ("U5 U6", "met")]:
            session.add(PairingGroup(team_id=TEAM, round_id=pairing.id, members=members, outcome=outcome))
        # Questions count in the week they were answered: by a reply, by a tip; not when still open,
        # closed unanswered, answered before the weeks, or in another workspace.
        for state, answered, team in [
            ("answered", last_monday + timedelta(days=6, hours=23), TEAM),  # asked the week before
            ("answered_by_tip", this_monday + timedelta(hours=3), TEAM),
            ("answered", this_monday + timedelta(hours=4), TEAM),
            ("waiting", None, TEAM),
            ("closed", this_monday + timedelta(hours=5), TEAM),
            ("answered", this_monday - timedelta(weeks=9), TEAM),
            ("answered", this_monday + timedelta(hours=4), "TOTHER"),
        ]:
            session.add(
                Question(
                    team_id=team, asker_id="U1", text="q?", source="command", channel_id="C1", state=state,
                    request_key=f"k{next(_ids)}", asked_at=last_monday, answered_at=answered,
                )
            )  # fmt: skip


def test_each_figure_counts_its_week_and_only_this_workspace(db: Database) -> None:
    seed(db)
    weeks = last_weeks(NOW, "UTC", 8)
    with db.snapshot() as session:
        figures = {figure.key: figure.values for figure in weekly_figures(session, TEAM, weeks).figures}
    assert figures["tips_shared"] == (0, 0, 0, 0, 0, 0, 2, 1)
    assert figures["people_active"] == (0, 0, 0, 0, 0, 0, 2, 2)  # U1, U2 · U1, U4
    assert figures["checkins_answered"] == (0, 0, 0, 0, 0, 0, 2, 1)
    assert figures["checkins_asked"] == (0, 0, 0, 0, 0, 0, 3, 2)  # paused and unreachable are not asked
    assert figures["checkin_participation_pct"] == (None, None, None, None, None, None, 67, 50)
    assert figures["pairs_met"] == (0, 0, 0, 0, 0, 0, 0, 2)
    assert figures["questions_answered"] == (0, 0, 0, 0, 0, 0, 1, 2)


def test_weeks_are_cut_in_the_readers_zone(db: Database) -> None:
    seed(db)
    # In Auckland (UTC+13) this week's Monday 01:00 UTC tip is already Monday afternoon: same week.
    # In Los Angeles (UTC-8) it is still Sunday: it belongs to the week before.
    with db.snapshot() as session:
        la = weekly_figures(session, TEAM, last_weeks(NOW, "America/Los_Angeles", 2)).figures[0]
        nz = weekly_figures(session, TEAM, last_weeks(NOW, "Pacific/Auckland", 2)).figures[0]
    assert la.values == (3, 0)
    assert nz.values == (2, 1)


def test_one_query_per_figure_source_however_many_weeks(db: Database) -> None:
    seed(db)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with db.snapshot() as session:
            weekly_figures(session, TEAM, last_weeks(NOW, "UTC", 52))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5  # tips, people, check-ins, pairs, questions: nothing per week


def test_a_single_week_is_counted_too(db: Database) -> None:
    seed(db)  # one week makes each row's week a constant: the queries still name their tables
    with db.snapshot() as session:
        figures = {f.key: f.values for f in weekly_figures(session, TEAM, last_weeks(NOW, "UTC", 1)).figures}
    assert figures["tips_shared"] == (1,) and figures["pairs_met"] == (2,) and figures["checkins_asked"] == (2,)
    assert figures["questions_answered"] == (2,)
