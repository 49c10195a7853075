"""People and their data: `/peerlearn export | my-data | forget-me`, forget-me's buttons, and people
Slack tells us were deactivated.

`user_change` fires for every profile edit and status emoji in the workspace, so only a
deactivation becomes a job; every other change is acknowledged with nothing queued or stored.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.figures.commands import ShowReport, parse_report
from bot.figures.report import send_report
from bot.people import blocks
from bot.people.commands import ExportTips, ForgetMe, PeopleUsage, SendMyData, parse_people_command
from bot.people.deactivation import person_deactivated
from bot.people.erasure import forget
from bot.people.export import Refused, export_tips
from bot.people.files import Delivered, failure_text
from bot.people.my_data import send_my_data
from bot.schedules.commands import InvalidCommand
from bot.slack.requests import request_key
from bot.slack.results import Failed
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack, tell


def is_deactivation(event: dict[str, Any]) -> bool:
    user = event.get("user")
    return isinstance(user, dict) and user.get("deleted") is True and isinstance(user.get("id"), str)


def is_people_command(body: dict[str, Any]) -> bool:
    return parse_people_command(str(body.get("text") or "")) is not None


def is_report_command(body: dict[str, Any]) -> bool:
    words = str(body.get("text") or "").split()
    return bool(words) and words[0].lower() == "report"


def register_commands(app: App, deps: Deps) -> None:
    """`/peerlearn export | my-data | forget-me`: registered before /peerlearn's other listener, which
    Bolt then never runs for these (it runs the first listener that matches)."""

    def ack_people(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        match parse_people_command(str(command.get("text") or "")):
            case PeopleUsage(problem=problem, usage=usage):
                ack(text=blocks.usage_text(problem, usage), response_type="ephemeral")
            case ExportTips():
                ack(text=blocks.EXPORT_STARTED, response_type="ephemeral")
            case SendMyData():
                ack(text=blocks.MY_DATA_STARTED, response_type="ephemeral")
            case ForgetMe():
                confirmation = blocks.forget_me_confirmation(str(context.team_id), str(context.user_id), deps.clock())
                ack(text="Forget me?", blocks=confirmation, response_type="ephemeral")
            case None:
                ack()

    def send_people_file(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        team_id, user_id, key = str(context.team_id), str(body["user_id"]), request_key(body)
        match parse_people_command(str(body.get("text") or "")):
            case ExportTips():
                result: Delivered | Failed | Refused = export_tips(deps, team_id=team_id, user_id=user_id, key=key)
                what = "the export of the workspace's tips"
            case SendMyData():
                result, what = send_my_data(deps, team_id=team_id, user_id=user_id, key=key), "your data"
            case _:
                return  # answered in the ack
        match result:
            case Delivered(again=again):
                text = blocks.sent_text(what[0].upper() + what[1:], again)
            case Failed(error=error):
                text = failure_text(error, what)
            case Refused(text=text):
                pass
        tell(deps, text, context, respond)

    app.command("/peerlearn", matchers=[is_people_command])(ack=ack_people, lazy=[after_ack(deps, send_people_file)])

    def ack_report(ack: Ack, command: dict[str, Any]) -> None:
        match parse_report(str(command.get("text") or "").split()[1:]):
            case ShowReport():
                ack(text=blocks.REPORT_STARTED, response_type="ephemeral")
            case InvalidCommand(problem=problem, usage=usage):
                ack(text=blocks.usage_text(problem, usage), response_type="ephemeral")

    def send_report_files(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        asked = parse_report(str(body.get("text") or "").split()[1:])
        if not isinstance(asked, ShowReport):
            return  # answered in the ack
        team_id, user_id = str(context.team_id), str(body["user_id"])
        match send_report(deps, team_id=team_id, user_id=user_id, weeks=asked.weeks, key=request_key(body)):
            case Delivered(again=again):
                text = blocks.sent_text("The report (a CSV file and a chart)", again)
            case Failed(error=error):
                text = failure_text(error, "the report")
            case Refused(text=text):
                pass
        tell(deps, text, context, respond)

    # `/peerlearn report [weeks]` (admins): the weekly figures as files, uploaded like an export.
    app.command("/peerlearn", matchers=[is_report_command])(ack=ack_report, lazy=[after_ack(deps, send_report_files)])


def register(app: App, deps: Deps) -> None:
    def forget_person(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        action = (body.get("actions") or [{}])[0]
        team_id, user_id = str(context.team_id), str(context.user_id)
        # Whose data and in which workspace are the request's, checked against what the button names.
        if why := blocks.refusal(blocks.read_confirmation(action.get("value")), team_id, user_id, deps.clock()):
            tell(deps, why, context, respond)
            return
        choice = blocks.CHOICE_OF_ACTION.get(str(action.get("action_id")))
        if choice is None:
            text = blocks.CANCELLED
        else:
            text = blocks.forgotten_text(
                forget(deps, team_id=team_id, user_id=user_id, choice=choice, key=request_key(body))
            )
        if respond is not None and respond.response_url:
            respond(text=text, replace_original=True)
        else:
            tell(deps, text, context, respond)

    for action_id in (blocks.FORGET_DELETE, blocks.FORGET_ANONYMISE, blocks.FORGET_CANCEL):
        app.action(action_id)(ack=acknowledge, lazy=[after_ack(deps, forget_person)])

    def record_deactivation(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        team_id, user_id = str(context.team_id), str(body["event"]["user"]["id"])
        person_deactivated(deps.db, team_id, user_id, deps.clock())
        deps.questions.move_on_from(team_id, user_id)  # the questions they were asked about ask someone else

    app.event("user_change", matchers=[is_deactivation])(ack=acknowledge, lazy=[after_ack(deps, record_deactivation)])
    app.event("user_change")(acknowledge)  # any other profile change: nothing to do
