"""`/peerlearn export` and `/peerlearn my-data` through signed requests: the file lands in the person's
DM with the app (uploaded by Slack's three-step flow, read back from the double), once per request,
and every failure reaches the person who asked."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from bot.people import files as people_files
from runtime.jobs import JobWorker
from storage.db import Database
from storage.models import FileDelivery, Tip
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.people_seed import Seeded, count, seed
from tests.scenario.test_tips_once import Killed, Killer, rerun
from tests.slack_double import SharedFile, SlackDouble
from tests.slack_sender import SlackSender


@pytest.fixture
def kill(monkeypatch: pytest.MonkeyPatch) -> Killer:
    return Killer(monkeypatch)


@pytest.fixture
def seeded(sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock) -> Seeded:
    return seed(sender, slack, db, clock.now)


def peerlearn(sender: SlackSender, text: str, user: str) -> tuple[str, list[str]]:
    """Run /peerlearn: its ack, and what the person was told after it."""
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, command="/peerlearn")
    acked = str(answer.json().get("text")) if answer.body else ""
    return acked, [str(r.get("text")) for r in sender.double.responses[before:]]


def dm_files(slack: SlackDouble, user: str) -> list[SharedFile]:
    return slack.shared_files("D" + user[1:])


def numbers_of(db: Database, tip_ids: list[int]) -> list[int]:
    """The tips' numbers in their workspace, as people see them ("Tip #3"), in the order of `tip_ids`."""
    with db.snapshot() as session:
        return [session.get_one(Tip, tip_id).number for tip_id in tip_ids]


def read_csv(file: SharedFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))


# -- export ---------------------------------------------------------------------------------------


def test_an_admin_gets_every_tip_as_a_csv_in_their_dm(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded
) -> None:
    acked, told = peerlearn(sender, "export", ADMIN_ID)

    assert "then exporting the workspace's tips" in acked and "our DM" in acked
    assert "is ready" in told[0]
    (file,) = dm_files(slack, ADMIN_ID)
    assert file.name.startswith("peerlearn-tips-") and file.name.endswith(".csv")
    assert file.content.startswith("\ufeff".encode())  # a BOM: spreadsheets read it as UTF-8
    rows = read_csv(file)
    assert list(rows[0]) == ["number", "author", "text", "tags", "channel", "created", "helpful_votes", "permalink"]
    by_number = {int(row["number"]): row for row in rows}
    own, (other,) = numbers_of(db, seeded.own_tips), numbers_of(db, [seeded.others_tip])
    assert sorted(by_number) == sorted([*own, other])
    formula = by_number[own[0]]
    assert formula["text"].startswith("'=HYPERLINK(")  # never a formula in the admin's spreadsheet
    assert (formula["author"], formula["tags"], formula["channel"], formula["helpful_votes"]) == (
        "U1",
        "excel",
        "C1",
        "2",
    )
    assert formula["permalink"].startswith("https://peerlearn-test.slack.com/archives/C1/p")
    assert formula["created"].endswith("+00:00")
    assert by_number[other]["helpful_votes"] == "1"
    (message,) = slack.channels["D" + ADMIN_ID[1:]].messages
    assert "workspace's tips" in message["text"] and message["files"][0]["id"] == file.id


def test_export_is_for_admins_only_and_refused_at_the_change(
    sender: SlackSender, slack: SlackDouble, seeded: Seeded
) -> None:
    _, told = peerlearn(sender, "export", "U1")

    assert told == ["Only workspace admins and owners, and Peerlearn's own admins, can export the workspace's tips."]
    assert slack.calls_to("files.getUploadURLExternal") == [] and slack.shared_files() == []


def test_an_export_is_the_workspaces_own_tips_only(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded
) -> None:
    with db.transaction() as session:
        session.add(Tip(team_id="T0OTHER", author_id="UX", text="Another workspace's secret", source="command"))

    peerlearn(sender, "export", ADMIN_ID)

    assert "secret" not in dm_files(slack, ADMIN_ID)[0].content.decode("utf-8-sig")


def test_an_export_whose_job_ran_twice_is_uploaded_once(
    sender: SlackSender,
    slack: SlackDouble,
    db: Database,
    clock: FakeClock,
    job_worker: JobWorker,
    kill: Killer,
    seeded: Seeded,
) -> None:
    # The worker dies after Slack shared the file, before the delivery was recorded as sent.
    kill(people_files, "_record", when=lambda *args, **kwargs: kwargs.get("shared") is True)

    with pytest.raises(Killed):
        sender.command("export", user=ADMIN_ID, command="/peerlearn")
    assert len(dm_files(slack, ADMIN_ID)) == 1
    rerun(clock, job_worker)

    assert len(dm_files(slack, ADMIN_ID)) == 1  # found in the DM by its file id, not uploaded again
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1
    assert count(db, FileDelivery, FileDelivery.shared_at.is_not(None)) == 1
    assert "was sent already" in str(slack.responses[-1]["text"])


def test_an_export_killed_before_slack_named_the_file_is_uploaded_by_the_rerun(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, job_worker: JobWorker, kill: Killer, seeded: Seeded
) -> None:
    from bot.slack import uploads

    kill(uploads, "ticket")

    with pytest.raises(Killed):
        sender.command("export", user=ADMIN_ID, command="/peerlearn")
    rerun(clock, job_worker)

    assert len(dm_files(slack, ADMIN_ID)) == 1 and len(read_csv(dm_files(slack, ADMIN_ID)[0])) == 4


# -- my-data --------------------------------------------------------------------------------------


def test_anyone_gets_everything_held_about_them_as_json(
    sender: SlackSender, slack: SlackDouble, db: Database, seeded: Seeded
) -> None:
    acked, told = peerlearn(sender, "my-data", "U1")

    assert "Gathering" in acked and "is ready" in told[0]
    (file,) = dm_files(slack, "U1")
    assert file.name.endswith(".json")
    data = json.loads(file.content)
    assert data["about"]["user"] == "U1"
    assert [tip["number"] for tip in data["tips"]] == numbers_of(db, seeded.own_tips)
    assert data["tips"][0]["helpful_votes"] == 2 and data["tips"][0]["tags"] == ["excel"]
    assert [t["shared_as"] for t in data["tips"]] == ["command", "command", "reaction"]
    assert [v["tip"] for v in data["tip_activity"]["helpful_votes_given"]] == numbers_of(db, [seeded.others_tip])
    assert data["mentoring_profile"]["teaches"] == ["rust"] and data["mentoring_profile"]["rather_not_paired_with"] == [
        "U4"
    ]
    assert [c["circle"] for c in data["circles"]] == ["Rust learners"]
    (checkin,) = data["check_ins"]
    assert {
        "question": "What are you stuck on, or want help with?",
        "answer": "Stuck on lifetimes in async closures",
    } in checkin["answers"]
    assert [p.get("with") for p in data["pairings"]] == [["U3"], None]
    assert data["pairings"][1]["left_out"] == "odd one out"
    assert data["circles_you_own"] == []
    # Only U1's: nothing of U2's tips, answers or profile.
    shown = file.content.decode()
    assert "Keep pull requests" not in shown and "Macros" not in shown


def test_my_data_of_someone_peerlearn_knows_nothing_about_is_still_a_file(
    sender: SlackSender, slack: SlackDouble
) -> None:
    peerlearn(sender, "my-data", "U3")

    data = json.loads(dm_files(slack, "U3")[0].content)
    assert data["tips"] == [] and data["mentoring_profile"] is None and data["check_ins"] == []


def test_a_word_after_the_command_gets_its_usage(sender: SlackSender, slack: SlackDouble) -> None:
    acked, _ = peerlearn(sender, "my-data please", "U1")

    assert "`my-data` takes nothing after it" in acked and "/peerlearn my-data" in acked
    assert slack.calls_to("files.getUploadURLExternal") == []


# -- Slack's faults reach the person --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ({"method": "upload", "status": 503, "times": 4}, "didn't answer in time"),
        ({"method": "files.completeUploadExternal", "error": "not_in_channel"}, "can't post in our DM"),
        ({"method": "conversations.open", "error": "cannot_dm_bot"}, "can't open a DM with you"),
    ],
)
def test_upload_faults_reach_the_person_and_leave_nothing_half_sent(
    sender: SlackSender, slack: SlackDouble, db: Database, fault: dict[str, Any], said: str
) -> None:
    method = fault.pop("method")
    slack.fail_next(method, **fault)

    _, told = peerlearn(sender, "my-data", "U1")

    assert said in told[0] and "Nothing was sent" in told[0]
    assert slack.shared_files() == []
    assert count(db, FileDelivery, FileDelivery.shared_at.is_not(None)) == 0


def test_a_429_puts_the_upload_back_for_its_retry_after_and_the_file_is_sent_once(
    sender: SlackSender, slack: SlackDouble, db: Database, clock: FakeClock, job_worker: JobWorker
) -> None:
    """Run by the job worker, a 429 does not wait in its thread nor reach the person as a failure:
    the job goes back to the queue for the Retry-After (on the worker's clock) and then sends the
    file, once."""
    slack.fail_next("files.getUploadURLExternal", status=429, retry_after=30)

    _, told = peerlearn(sender, "my-data", "U1")

    assert told == [] and slack.shared_files() == []
    clock.advance(seconds=30)
    job_worker.drain()
    assert "is ready" in str(slack.responses[-1].get("text")) and len(dm_files(slack, "U1")) == 1
    assert count(db, FileDelivery, FileDelivery.shared_at.is_not(None)) == 1


def test_after_a_fault_the_person_can_simply_ask_again(sender: SlackSender, slack: SlackDouble) -> None:
    slack.fail_next("files.completeUploadExternal", error="not_in_channel")
    peerlearn(sender, "my-data", "U1")

    _, told = peerlearn(sender, "my-data", "U1")

    assert "is ready" in told[0] and len(dm_files(slack, "U1")) == 1
