"""`/peerlearn forget-me` through signed requests: a confirmation with buttons, then everything the
person chose to be forgotten goes, in the counts they are told; nothing of theirs reaches the next
digest; a button made for someone else (or another workspace) erases nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import String, Text, or_, select

from bot.people import erasure
from bot.people.blocks import FORGET_ANONYMISE, FORGET_CANCEL, FORGET_DELETE
from runtime.jobs import JobWorker
from storage.db import Database
from storage.models import (
    ANONYMOUS_AUTHOR,
    Base,
    CircleMember,
    HomeVisit,
    MentorProfile,
    PairingMember,
    ProfileSkill,
    RoundParticipant,
    Tip,
    TipReaction,
    TipVote,
)
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.people_seed import STUCK, Seeded, count, seed, votes_given
from tests.scenario.test_tips_once import Killed, Killer, rerun
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender

# Where a forgotten person may still be named, and why: workspace settings they made (README).
STILL_NAMING_ALLOWED = {
    ("schedules", "configured_by"),
    ("circles", "owner_id"),
    ("custom_prompts", "created_by"),
    ("scheduled_posts", "requested_by"),
    ("pairing_rounds", "configured_by"),
    ("mentor_profiles", "avoids"),  # someone else's choice not to be paired with them
}


@pytest.fixture
def kill(monkeypatch: pytest.MonkeyPatch) -> Killer:
    return Killer(monkeypatch)


@pytest.fixture
def seeded(sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock) -> Seeded:
    return seed(sender, slack, db, clock.now)


def confirmation(sender: SlackSender, user: str = "U1") -> dict[str, Any]:
    """Run /peerlearn forget-me; the ephemeral confirmation's buttons by action_id."""
    answer = sender.command("forget-me", user=user, command="/peerlearn").json()
    assert answer["response_type"] == "ephemeral"
    (actions,) = [b for b in answer["blocks"] if b["type"] == "actions"]
    return {button["action_id"]: button for button in actions["elements"]}


def press(sender: SlackSender, user: str, button: dict[str, Any], value: str | None = None) -> str:
    before = len(sender.double.responses)
    sender.button(user=user, action_id=button["action_id"], value=value or button["value"], channel="C1")
    return "\n".join(str(r.get("text")) for r in sender.double.responses[before:])


def told_counts(text: str) -> dict[str, int]:
    counts = {}
    for line in text.splitlines():
        if line.startswith("• "):
            what, number = line[2:].rsplit(": ", 1)
            counts[what.lower()] = int(number)
    return counts


def tip_posts(slack: SlackDouble, by: str) -> list[dict[str, Any]]:
    return [m for m in slack.channels["C1"].messages if "Tip #" in str(m.get("blocks")) and by in str(m["blocks"])]


def rows_naming(db: Database, user: str) -> list[tuple[str, str]]:
    """(table, column) of every row that still holds `user` in a text column, as the whole value or a word."""
    found = []
    with db.snapshot() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.c:
                if not isinstance(column.type, String | Text) or column.name == "team_id":
                    continue
                padded = " " + column + " "
                hit = or_(column == user, padded.like(f"% {user} %"))
                if session.execute(select(table).where(hit).limit(1)).first() is not None:
                    found.append((table.name, column.name))
    return found


def test_forget_me_asks_first_with_three_buttons(sender: SlackSender, seeded: Seeded, db: Database) -> None:
    buttons = confirmation(sender)

    assert set(buttons) == {FORGET_DELETE, FORGET_ANONYMISE, FORGET_CANCEL}
    assert buttons[FORGET_DELETE]["style"] == "danger" and "confirm" in buttons[FORGET_DELETE]
    assert count(db, Tip, Tip.author_id == "U1") == 3  # asking deletes nothing


def test_deleting_removes_exactly_what_it_says(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded
) -> None:
    before = {
        "tips deleted": count(db, Tip, Tip.author_id == "U1"),
        "mentoring profile": count(db, MentorProfile, MentorProfile.user_id == "U1"),
        "helpful votes you gave": votes_given(db, "U1"),
        "check-in answers": count(db, RoundParticipant, RoundParticipant.user_id == "U1"),
        "circle memberships": count(db, CircleMember, CircleMember.user_id == "U1"),
        "pairing rounds you were in": count(db, PairingMember, PairingMember.user_id == "U1"),
        "records of files sent to you": 0,
        "records of your first home visit": count(db, HomeVisit, HomeVisit.user_id == "U1"),
        "question records (asked by you, to you, your replies)": 0,
    }
    others_votes = votes_given(db, "U2") + votes_given(db, "U3")
    assert before["tips deleted"] == 3 and before["helpful votes you gave"] == 1 and len(tip_posts(slack, "<@U1>")) == 2

    told = press(sender, "U1", confirmation(sender)[FORGET_DELETE])

    assert "Peerlearn has forgotten you" in told
    assert told_counts(told) == before
    assert count(db, Tip, Tip.author_id == "U1") == 0
    assert votes_given(db, "U1") == 0 and count(db, TipReaction, TipReaction.user_id == "U1") == 0
    assert count(db, ProfileSkill, ProfileSkill.user_id == "U1") == 0
    assert votes_given(db, "U2") + votes_given(db, "U3") == others_votes - 2  # the votes their tip got went with it
    with db.snapshot() as session:
        assert session.get(Tip, seeded.others_tip).helpful_count == 0  # U1's vote taken back  # type: ignore[union-attr]
    assert set(rows_naming(db, "U1")) <= STILL_NAMING_ALLOWED
    # Their tips' posts are gone from Slack; the 💡 on their own message is taken back, the message stays.
    assert tip_posts(slack, "<@U1>") == [] and len(tip_posts(slack, "<@U2>")) == 1
    (own,) = [m for m in slack.channels["C1"].messages if m.get("user") == "U1"]
    assert not any(r["name"] == "bulb" and "UBOT" in r["users"] for r in own.get("reactions") or [])


def test_anonymising_keeps_the_tips_without_their_name(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded
) -> None:
    told = press(sender, "U1", confirmation(sender)[FORGET_ANONYMISE])

    assert told_counts(told)["tips kept for your colleagues, without your name"] == 3
    with db.snapshot() as session:
        kept = session.scalars(select(Tip).where(Tip.id.in_(seeded.own_tips))).all()
        assert {tip.author_id for tip in kept} == {ANONYMOUS_AUTHOR} and len(kept) == 3
        assert session.scalars(select(TipVote.author_id).where(TipVote.tip_id == seeded.own_tips[0])).all() == [
            ANONYMOUS_AUTHOR,
            ANONYMOUS_AUTHOR,
        ]
    assert set(rows_naming(db, "U1")) <= STILL_NAMING_ALLOWED
    assert tip_posts(slack, "<@U1>") == [] and len(tip_posts(slack, "a colleague")) == 2


@pytest.mark.parametrize("choice", [FORGET_DELETE, FORGET_ANONYMISE])
def test_their_questions_posts_go_with_their_questions(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded, choice: str
) -> None:
    sender.command("How do I make postgres vacuum faster on big tables?", user="U1", command="/ask")
    (post,) = [m for m in slack.channels["C1"].messages if "<@U1> asks" in str(m)]

    told = press(sender, "U1", confirmation(sender)[choice])

    assert told_counts(told)["question records (asked by you, to you, your replies)"] >= 1
    assert {"channel": "C1", "ts": post["ts"]} in slack.calls_to("chat.delete")
    assert not [m for m in slack.channels["C1"].messages if "<@U1> asks" in str(m) or "vacuum" in str(m)]
    assert set(rows_naming(db, "U1")) <= STILL_NAMING_ALLOWED


@pytest.mark.parametrize("choice", [FORGET_DELETE, FORGET_ANONYMISE])
def test_nothing_of_theirs_is_in_the_next_digest(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded, choice: str
) -> None:
    sender.command("digest now", user=ADMIN_ID, command="/peerlearn")
    before = str([p for p in slack.posts("C1") if "peer learning" in str(p["blocks"])][-1]["blocks"])
    assert "<@U1>" in before and STUCK in before  # the digest did name them

    press(sender, "U1", confirmation(sender)[choice])
    sender.command("digest now", user=ADMIN_ID, command="/peerlearn")

    after = str([p for p in slack.posts("C1") if "peer learning" in str(p["blocks"])][-1]["blocks"])
    assert "<@U1>" not in after and STUCK not in after
    assert "Stuck on nothing much" in after  # U2's check-in is still there
    if choice == FORGET_DELETE:
        assert "HYPERLINK" not in after and "stack trace" not in after


def test_cancel_deletes_nothing(sender: SlackSender, db: Database, seeded: Seeded) -> None:
    told = press(sender, "U1", confirmation(sender)[FORGET_CANCEL])

    assert "Nothing was deleted" in told and count(db, Tip, Tip.author_id == "U1") == 3


@pytest.mark.parametrize(
    "forged",
    [
        "T0TEST:U2:{now}",  # another person's confirmation
        "T0OTHER:U1:{now}",  # drawn in another workspace
        "T0TEST:U1:1",  # long expired
        "T0TEST:U1",  # not what the app draws
        "x" * 3000,
    ],
)
def test_a_button_forged_for_someone_else_erases_nothing(
    sender: SlackSender, db: Database, clock: FakeClock, seeded: Seeded, forged: str
) -> None:
    button = confirmation(sender, "U1")[FORGET_DELETE]
    value = forged.format(now=int(clock.now.timestamp()))

    told = press(sender, "U1", button, value=value)

    assert "nothing was deleted" in told
    assert count(db, Tip, Tip.author_id == "U1") == 3 and count(db, Tip, Tip.author_id == "U2") == 1
    assert votes_given(db, "U1") == 1 and count(db, MentorProfile) == 1


def test_pressing_someone_elses_confirmation_erases_neither_of_them(
    sender: SlackSender, db: Database, seeded: Seeded
) -> None:
    theirs = confirmation(sender, "U1")[FORGET_DELETE]

    told = press(sender, "U2", theirs)

    assert "isn't yours" in told
    assert count(db, Tip, Tip.author_id == "U1") == 3 and count(db, Tip, Tip.author_id == "U2") == 1


def test_a_forget_me_whose_job_ran_twice_answers_the_same_counts(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker, kill: Killer,
    seeded: Seeded,
) -> None:  # fmt: skip
    kill(erasure, "_clean_slack")  # the worker dies after the erasure committed, before Slack was cleaned
    button = confirmation(sender)[FORGET_DELETE]

    with pytest.raises(Killed):
        sender.button(user="U1", action_id=button["action_id"], value=button["value"], channel="C1")
    assert count(db, Tip, Tip.author_id == "U1") == 0
    rerun(clock, job_worker)

    told = told_counts(str(slack.responses[-1]["text"]))
    assert told["tips deleted"] == 3 and told["helpful votes you gave"] == 1
    assert tip_posts(slack, "<@U1>") == []


def test_another_workspaces_data_of_the_same_id_is_untouched(sender: SlackSender, db: Database, seeded: Seeded) -> None:
    with db.transaction() as session:
        session.add(Tip(team_id="T0OTHER", author_id="U1", text="Elsewhere", source="command"))

    press(sender, "U1", confirmation(sender)[FORGET_DELETE])

    assert count(db, Tip, Tip.team_id == "T0OTHER", Tip.author_id == "U1") == 1
