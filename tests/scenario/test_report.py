"""`/peerlearn report [weeks]` at the bot level (the command is wired with the file upload at merge):
the files an admin gets, and nobody else, with rights asked of Slack at that moment."""

from __future__ import annotations

import csv
import io

import pytest
from slack_sdk import WebClient

from bot.figures.report import build_report
from bot.schedules.rules import ScheduleInputError
from bot.schedules.service import NotAdmin
from bot.services import Services
from bot.slack.gateway import SlackGateway
from bot.slack.users import UserDirectory
from storage.db import Database
from tests.conftest import ADMIN_ID, FakeClock
from tests.scenario.helpers import all_tips
from tests.slack_double import SlackDouble
from tests.slack_sender import SlackSender


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
