"""Someone deactivated in Slack (`user_change` with `deleted: true`) leaves every circle and pairing
pool at once, through the signed event; their tips stay, attributed to them."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import CircleMember, MentorProfile, Tip
from tests.conftest import FakeClock
from tests.scenario.people_seed import count, seed
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


def deactivate(sender: SlackSender, user: str) -> None:
    sender.event({"type": "user_change", "user": {"id": user, "team_id": TEAM_ID, "deleted": True}})


def test_a_deactivated_person_leaves_circles_and_pools_and_keeps_their_tips(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    seeded = seed(sender, slack, db, clock.now)

    deactivate(sender, "U1")

    assert count(db, CircleMember, CircleMember.user_id == "U1") == 0
    assert count(db, CircleMember, CircleMember.user_id == "U2") == 1  # the circle goes on without them
    with db.snapshot() as session:
        profile = session.get(MentorProfile, (TEAM_ID, "U1"))
        assert profile is not None and profile.deactivated_at == clock.now  # out of every pairing pool
        authors = session.scalars(select(Tip.author_id).where(Tip.id.in_(seeded.own_tips))).all()
    assert list(authors) == ["U1", "U1", "U1"]


def test_a_deactivation_delivered_again_changes_nothing_more(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    seed(sender, slack, db, clock.now)
    deactivate(sender, "U1")
    clock.advance(hours=1)

    deactivate(sender, "U1")

    assert count(db, CircleMember, CircleMember.user_id == "U1") == 0 and count(db, CircleMember) == 1


def test_a_profile_edit_is_not_a_deactivation(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock
) -> None:
    seed(sender, slack, db, clock.now)

    sender.event({"type": "user_change", "user": {"id": "U1", "team_id": TEAM_ID, "profile": {"status_text": "🌴"}}})

    assert count(db, CircleMember, CircleMember.user_id == "U1") == 1
