"""`/peerlearn report [weeks]`: the files an admin gets, and nobody else, with rights asked of Slack at
that moment; then through signed requests, the CSV and the chart land in the admin's DM once per request."""

from __future__ import annotations

import csv
import io

import pytest
from slack_sdk import WebClient

from bot.figures.report import build_report
from bot.people import files as people_files
from bot.schedules.rules import ScheduleInputError
from bot.schedules.service import NotAdmin
from bot.services import Services
from bot.slack.gateway import SlackGateway
from bot.slack.users import UserDirectory
from runtime.jobs import JobWorker
from storage.db import Database
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.helpers import all_tips
from tests.scenario.test_tips_once import Killed, Killer, rerun
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


@pytest.fixture
def kill(monkeypatch: pytest.MonkeyPatch) -> Killer:
    return Killer(monkeypatch)


@pytest.fixture
def services(db: Database, client: WebClient, clock: FakeClock) -> Services:
    return Services(db, SlackGateway(client), UserDirectory(client, frozenset({ADMIN_ID})), clock, "bulb")


def test_an_admin_gets_the_weeks_as_csv_and_a_chart(
    services: Services, sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    sender.command("Pin your dependencies and read the changelog before upgrading #python", user="U1")
    sender.command("Write the test that fails first, then fix the bug #testing", user="U2")
    assert len(all_tips(db)) == 2

    files = build_report(services, team_id="T0TEST", user_id="U4", weeks=12, zone="Europe/Berlin")  # a workspace admin

    rows = list(csv.DictReader(io.StringIO(files.csv.decode())))
    assert len(rows) == 12 and rows[-1]["complete"] == "no" and rows[0]["complete"] == "yes"
    assert rows[-1]["tips_shared"] == "2" and rows[-1]["people_active"] == "2"
    assert rows[-1]["checkin_participation_pct"] == ""  # no check-in asked for: nothing to measure
    assert rows[-1]["questions_answered"] == "0"
    assert sum(int(row["tips_shared"]) for row in rows) == 2
    assert files.png.startswith(b"\x89PNG")
    assert files.name.startswith("peerlearn-") and rows[0]["week_starting"] in files.name


def test_only_admins_get_it_asked_of_slack_now(services: Services, slack: SlackDouble) -> None:
    with pytest.raises(NotAdmin):
        build_report(services, team_id="T0TEST", user_id="U1", weeks=8, zone=None)
    build_report(services, team_id="T0TEST", user_id=ADMIN_ID, weeks=1, zone=None)  # PEERLEARN_ADMINS: no call
    slack.users["U4"]["is_admin"] = False  # demoted a moment ago
    with pytest.raises(NotAdmin):
        build_report(services, team_id="T0TEST", user_id="U4", weeks=8, zone=None)
    slack.fail_next("users.info", error="fatal_error")
    with pytest.raises(ScheduleInputError, match="couldn't check your admin rights"):
        build_report(services, team_id="T0TEST", user_id="U3", weeks=8, zone=None)


# -- through signed requests ----------------------------------------------------------------------


def _peerlearn(sender: SlackSender, text: str, user: str) -> tuple[str, list[str]]:
    before = len(sender.double.responses)
    answer = sender.command(text, user=user, command="/peerlearn")
    acked = str(answer.json().get("text")) if answer.body else ""
    return acked, [str(r.get("text")) for r in sender.double.responses[before:]]


def test_report_sends_an_admin_the_csv_and_the_chart_in_their_dm(
    sender: SlackSender, slack: SlackDouble, db: Database
) -> None:
    sender.command("Pin your dependencies and read the changelog before upgrading #python", user="U1")

    acked, told = _peerlearn(sender, "report 3 weeks", ADMIN_ID)

    assert "Checking that you're an admin, then drawing the weekly figures" in acked
    assert "The report (a CSV file and a chart) is ready" in told[0]
    csv_file, png_file = slack.shared_files("D" + ADMIN_ID[1:])
    assert csv_file.name.endswith(".csv") and png_file.name.endswith(".png")
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode())))
    assert len(rows) == 3 and rows[-1]["tips_shared"] == "1"
    assert png_file.content.startswith(b"\x89PNG")


def test_report_is_refused_to_others_and_its_mistakes_get_the_usage(sender: SlackSender, slack: SlackDouble) -> None:
    _, told = _peerlearn(sender, "report", "U1")
    assert told == ["Only workspace admins and owners, and Peerlearn's own admins, can get the workspace's report."]
    acked, told = _peerlearn(sender, "report 99", ADMIN_ID)
    assert "1 to 52 weeks" in acked and "/peerlearn report [weeks]" in acked and told == []
    assert slack.calls_to("files.getUploadURLExternal") == [] and slack.shared_files() == []


def test_a_report_whose_job_ran_twice_is_uploaded_once(
    sender: SlackSender, slack: SlackDouble, clock: FakeClock, job_worker: JobWorker, kill: Killer
) -> None:
    # The worker dies after Slack shared the chart, before the delivery was recorded as sent.
    kill(
        people_files, "_record", when=lambda *args, **kwargs: kwargs.get("shared") is True and args[2].endswith(":png")
    )

    with pytest.raises(Killed):
        sender.command("report", user=ADMIN_ID, command="/peerlearn")
    rerun(clock, job_worker)

    assert len(slack.shared_files("D" + ADMIN_ID[1:])) == 2
    assert len(slack.calls_to("files.getUploadURLExternal")) == 2
    assert "was sent already" in str(slack.responses[-1]["text"])


def test_a_report_that_slack_refuses_tells_the_admin(sender: SlackSender, slack: SlackDouble) -> None:
    slack.fail_next("files.completeUploadExternal", error="not_in_channel")

    _, told = _peerlearn(sender, "report", ADMIN_ID)

    assert "couldn't send the report" in told[0] and "can't post in our DM" in told[0]
