"""Pairing rounds end to end: set by an admin, previewed, run, answered, followed up, closed, and the
next round never repeating a pair that met; through signed requests against the Slack double."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from bot.pairing.rounds import PairingRunner
from bot.schedules.posting import ScheduledPoster
from bot.slack.gateway import SlackGateway
from bot.slack.users import UserDirectory
from storage.db import Database
from storage.models import MentorProfile, PairingGroup, PairingLeftOut, PairingRound
from tests.conftest import ADMIN_ID, FakeClock
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender

CHANNEL = "CPAIR"
PEOPLE = ("U1", "U2", "U3", "U4")


@pytest.fixture
def pairing_channel(slack: SlackDouble) -> str:
    slack.add_channel(CHANNEL, "coffee", members=(*PEOPLE, ADMIN_ID))
    return CHANNEL


def peerlearn(sender: SlackSender, text: str, user: str = ADMIN_ID, **overrides: Any) -> str:
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, channel="C1", command="/peerlearn", **overrides)
    if answer.body:
        return str(answer.json())
    return "\n".join(str(r) for r in sender.double.responses[before:])


def group_dms(slack: SlackDouble) -> list[dict[str, Any]]:
    return [p for p in slack.posts() if (p.get("metadata") or {}).get("event_type") == "peerlearn_pairing"]


def groups(db: Database) -> list[PairingGroup]:
    with db.snapshot() as session:
        return list(session.scalars(select(PairingGroup).order_by(PairingGroup.id)))


def rounds(db: Database) -> list[PairingRound]:
    with db.snapshot() as session:
        return list(session.scalars(select(PairingRound).order_by(PairingRound.id)))


def pairs_of(round_groups: list[PairingGroup]) -> set[frozenset[str]]:
    return {frozenset(g.members.split()) for g in round_groups}


def test_an_admin_sets_rounds_and_sees_them_listed(sender: SlackSender, pairing_channel: str) -> None:
    answer = peerlearn(sender, f"pairing <#{pairing_channel}|coffee> mon 10:00 UTC cross-team size 2 norepeat 4")
    assert "pairing rounds" in answer.lower()
    assert "pairing" in peerlearn(sender, "schedules")
    assert "not a mode" in peerlearn(sender, f"pairing <#{pairing_channel}|coffee> mon 10:00 UTC cofee")
    assert "2 or 3" in peerlearn(sender, f"pairing <#{pairing_channel}|coffee> mon 10:00 UTC size 9")
    assert "Only workspace admins" in peerlearn(sender, f"pairing <#{pairing_channel}|coffee> off", user="U1")


def test_preview_sends_nothing(sender: SlackSender, slack: SlackDouble, db: Database, pairing_channel: str) -> None:
    answer = peerlearn(sender, f"pairing <#{pairing_channel}|coffee> preview")
    assert "Nothing was sent" in answer
    assert group_dms(slack) == [] and rounds(db) == []
    assert "Only workspace admins" in peerlearn(sender, f"pairing <#{pairing_channel}|coffee> preview", user="U2")


def test_an_admin_not_in_a_private_channel_neither_previews_its_members_nor_schedules_there(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    slack.add_channel("GSEC", "security", members=("U1", "U2", "U3"), is_private=True)  # the app; not the admin

    previewed = peerlearn(sender, "pairing <#GSEC|security> preview")
    scheduled = peerlearn(sender, "prompts <#GSEC|security> mon 09:00")

    for answer in (previewed, scheduled):
        assert "private channel you're not in" in answer and "<@U1>" not in answer
    assert group_dms(slack) == [] and slack.posts("GSEC") == []
    slack.channels["GSEC"].add_member(ADMIN_ID)  # once in it, the admin may
    assert "Nothing was sent" in peerlearn(sender, "pairing <#GSEC|security> preview")


def test_a_round_pairs_everyone_once_and_tells_each_group(
    sender: SlackSender, slack: SlackDouble, db: Database, pairing_channel: str
) -> None:
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now")

    (round_,) = rounds(db)
    made = groups(db)
    members = Counter(m for g in made for m in g.members.split())
    assert set(members) == {*PEOPLE, ADMIN_ID} and set(members.values()) == {1}  # 5 people: a pair and a trio
    assert sorted(len(g.members.split()) for g in made) == [2, 3]
    dms = group_dms(slack)
    assert len(dms) == 2 and all(g.message_ts for g in made)
    assert all("pairing_met" in str(dm["blocks"]) for dm in dms)
    assert any("pairing is out" in p["text"] for p in slack.posts(pairing_channel))
    assert round_.status == "open"


def test_the_same_request_run_twice_makes_one_round(
    sender: SlackSender, slack: SlackDouble, db: Database, pairing_channel: str
) -> None:
    trigger = slack.trigger_id()
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now", trigger_id=trigger)
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now", trigger_id=trigger)  # a replay or a rerun
    assert len(rounds(db)) == 1
    assert len(group_dms(slack)) == 2


def test_only_members_answer_and_met_pairs_do_not_meet_again(
    sender: SlackSender, slack: SlackDouble, db: Database, pairing_channel: str
) -> None:
    slack.add_channel("CFOUR", "four", members=PEOPLE)
    met: set[frozenset[str]] = set()
    for _ in range(3):  # 4 people meet all 3 others in 3 rounds, never twice
        peerlearn(sender, "pairing <#CFOUR|four> now")
        latest = [g for g in groups(db) if g.round_id == rounds(db)[-1].id]
        assert not pairs_of(latest) & met
        for group in latest:
            outsider = next(p for p in PEOPLE if p not in group.members.split())
            sender.button(user=outsider, action_id="pairing_met", value=str(group.id))
            sender.button(user=group.members.split()[0], action_id="pairing_met", value=str(group.id))
        assert {g.outcome for g in groups(db) if g.round_id == rounds(db)[-1].id} == {"met"}
        for group in latest:  # the group's own message keeps who and what, the answer in place of its buttons
            shown = slack.message(str(group.conversation_id), str(group.message_ts))
            assert (
                shown is not None and "says you met" in str(shown["blocks"]) and "first topic" in str(shown["blocks"])
            )
            assert "pairing_met" not in str(shown["blocks"])
        met |= pairs_of(latest)
    assert len(met) == 6


def test_follow_up_once_then_close_records_the_silent(
    sender: SlackSender,
    slack: SlackDouble,
    db: Database,
    poster: ScheduledPoster,
    clock: FakeClock,
    pairing_channel: str,
) -> None:
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now")
    answered, silent = groups(db)
    sender.button(user=answered.members.split()[0], action_id="pairing_not_yet", value=str(answered.id))

    clock.advance(days=4)
    poster.run_due()
    poster.run_due()
    follow_ups = [p for p in slack.posts() if "Halfway through" in p["text"]]
    assert sorted(p["channel"] for p in follow_ups) == sorted([answered.conversation_id, silent.conversation_id])

    clock.advance(days=4)
    poster.run_due()
    outcomes = {g.id: g.outcome for g in groups(db)}
    assert outcomes == {answered.id: "not_yet", silent.id: "unknown"}
    with db.snapshot() as session:
        missed = {p.user_id: p.missed_rounds for p in session.scalars(select(MentorProfile))}
    assert all(missed[m] == 1 for m in silent.members.split())
    assert "That round is over" in str(
        sender.button(user=silent.members.split()[0], action_id="pairing_met", value=str(silent.id)).body
        or slack.posts()[-1]
    )


def test_forged_button_values_change_nothing(
    sender: SlackSender, slack: SlackDouble, db: Database, pairing_channel: str
) -> None:
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now")
    for value in ("1 OR 1=1", "99999999999999999999", "-1", ""):
        assert sender.button(user="U1", action_id="pairing_met", value=value).status == 200
    assert {g.outcome for g in groups(db)} == {"pending"}


def test_paused_and_deactivated_people_sit_out_and_a_pool_of_one_is_explained(
    sender: SlackSender, slack: SlackDouble, db: Database, pairing_channel: str
) -> None:
    sender.command("pause 2", user="U1", command="/mentor")
    sender.event({"type": "user_change", "user": {"id": "U2", "team_id": TEAM_ID, "deleted": True}})
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now")
    assert not {"U1", "U2"} & {m for g in groups(db) for m in g.members.split()}

    slack.add_channel("CSOLO", "solo", members=("U3",))
    answer = peerlearn(sender, "pairing <#CSOLO|solo> now")
    assert "fewer than two people" in answer


def test_mentorship_pairs_learners_with_teachers_and_tells_the_rest_why(
    sender: SlackSender, slack: SlackDouble, db: Database, pairing_channel: str
) -> None:
    from tests.scenario.test_mentor import save_profile

    save_profile(sender, slack, "U1", learns="sql", level="junior", open_to=["mentee"])
    save_profile(sender, slack, "U2", teaches="sql", level="senior", open_to=["mentoring"])
    save_profile(sender, slack, "U3", learns="rust", level="mid", open_to=["mentee"])
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> mon 10:00 UTC mentorship")
    peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now")

    (group,) = groups(db)
    assert set(group.members.split()) == {"U1", "U2"} and group.mentor_id == "U2"
    with db.snapshot() as session:
        left = {row.user_id: row.reason for row in session.scalars(select(PairingLeftOut))}
    assert "U3" in left and "teaches what you want to learn" in left["U3"]
    assert any("No partner for you" in p["text"] for p in slack.posts("U3"))


def test_the_runner_is_exactly_once_when_a_crash_leaves_a_group_unmessaged(
    slack: SlackDouble, db: Database, client: Any, clock: FakeClock, pairing_channel: str
) -> None:
    from bot.pairing.outcomes import RoundKeeper
    from bot.schedules.commands import PairingOptions

    runner = PairingRunner(db, SlackGateway(client), UserDirectory(client, frozenset()), clock=clock)
    assert runner.start(TEAM_ID, pairing_channel, "2026-12-07", PairingOptions(), ADMIN_ID) is None
    first = groups(db)[0]
    with db.transaction() as session:  # as if the worker died after opening the DM, before recording the post
        row = session.get(PairingGroup, first.id)
        assert row is not None
        row.message_ts = None
    clock.advance(minutes=15)
    RoundKeeper(db, SlackGateway(client), clock=clock).run_due()
    assert len(group_dms(slack)) == 2  # found by its metadata, not posted again
    assert groups(db)[0].message_ts is not None


def test_a_429_in_a_rounds_group_dms_puts_the_round_back_and_each_group_is_messaged_once(
    sender: SlackSender,
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    poster: ScheduledPoster,
    pairing_channel: str,
) -> None:
    """Run by the job worker, a round whose group DM is refused with 429 does not sleep in the
    worker's thread, nor skip that group: the post goes back (for a later tick) and the round
    continues where it stopped."""
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    answer = peerlearn(sender, f"pairing <#{pairing_channel}|coffee> now")

    assert "I'll keep trying" in answer and len(group_dms(slack)) == 1  # the one refused
    assert not any(g.message_ts for g in groups(db))
    clock.advance(seconds=2)  # the Retry-After has passed: the next tick takes the post over
    time.sleep(1)  # (and the workspace's pacer, held on the real clock)
    assert poster.run_due().posted == 1
    made = groups(db)
    assert len(made) == 2 and all(g.message_ts for g in made)
    assert len(group_dms(slack)) == 3  # the refused one, then each group's once
    assert sum("pairing is out" in p["text"] for p in slack.posts(pairing_channel)) == 1
