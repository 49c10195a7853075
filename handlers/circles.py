"""/circle, the circle settings form, the Join and Check in buttons and the answers form.

Acks do the quick part (parse, read the form, a small read, open a modal while the trigger is
fresh); list and info (which circles the person may see is asked of Slack, a call per circle
channel) and changes run after the ack, in bot/circles use cases that check the person's right again.
"""

from __future__ import annotations

from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.circles import checkins, views
from bot.circles import service as circle_service
from bot.circles.answer_form import ANSWER_MODAL, answer_modal, read_answer_target, read_answers
from bot.circles.blocks import (
    CIRCLE_MODAL,
    circle_modal,
    read_circle_form,
    read_circle_name,
    read_settings_target,
)
from bot.circles.commands import (
    ArchiveCircle,
    CheckinNow,
    CircleCommand,
    CircleInfo,
    CreateCircle,
    EditCircle,
    JoinCircle,
    LeaveCircle,
    ListCircles,
    PauseCircle,
    ShowHelp,
    parse_circle_command,
)
from bot.circles.inputs import FieldErrors
from bot.circles.messages import CHECKIN_ACTION, JOIN_ACTION, circle_help, circle_info, circle_list
from bot.circles.replies import said, saved_text
from bot.circles.rules import CircleNotFound, NotAllowed, known_zones
from bot.home import service as home
from bot.slack.conversations import ChannelReaders
from bot.slack.requests import request_key
from bot.text import slack_to_plain
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack

STALE_FORM = "This form is out of date; open it again."


def _request(command: dict[str, Any]) -> CircleCommand:
    # Slack entity-encodes &, <, > in command text: decode once here, so everything below is plain.
    return parse_circle_command(slack_to_plain(command.get("text") or ""))


def _values(view: dict[str, Any]) -> object:
    return (view.get("state") or {}).get("values")


def register(app: App, deps: Deps) -> None:
    def ack_circle(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        """Help and modals (trigger ids last 3 s) here; list, info and changes after the ack."""
        team_id, user_id, channel_id = str(context.team_id), command["user_id"], command["channel_id"]
        match _request(command):
            case ShowHelp(problem=problem, usage=usage):
                ack(text="How to use /circle", blocks=circle_help(problem, usage), response_type="ephemeral")
            case CreateCircle(name=name):
                ack()
                person = deps.users.get(user_id)
                zone = person.timezone if person and person.timezone in known_zones() else "UTC"
                view = circle_modal(channel_id=channel_id, zone=zone or "UTC", name=name, origin=channel_id)
                if failed := deps.slack.open_view(command["trigger_id"], view):
                    respond(f"I couldn't open the form ({failed.error}); please try again.")
            case EditCircle(name=name):
                try:
                    circle = circle_service.editable(deps, team_id, user_id, name)
                except (CircleNotFound, NotAllowed) as refused:
                    ack(text=str(refused), response_type="ephemeral")
                    return
                ack()
                view = circle_modal(channel_id=circle.channel_id, zone=circle.zone, circle=circle, origin=channel_id)
                if failed := deps.slack.open_view(command["trigger_id"], view):
                    respond(f"I couldn't open the form ({failed.error}); please try again.")
            case (
                ListCircles()
                | CircleInfo()
                | JoinCircle()
                | LeaveCircle()
                | PauseCircle()
                | CheckinNow()
                | ArchiveCircle()
            ):
                ack()  # list and info too: which circles the person may see is asked of Slack
            case unreachable:
                assert_never(unreachable)

    def run_circle_command(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        team_id, user_id = str(context.team_id), body["user_id"]
        try:
            match _request(body):
                case ListCircles():
                    rows = views.listing(deps.db, ChannelReaders(deps.slack), team_id, user_id, deps.clock())
                    respond(text="Learning circles", blocks=circle_list(rows), response_type="ephemeral")
                    return
                case CircleInfo(name=name):
                    shown = views.details(deps.db, ChannelReaders(deps.slack), team_id, user_id, name, deps.clock())
                    blocks = circle_info(
                        shown.circle, shown.members, shown.last_answers, shown.next_round, shown.open_until
                    )
                    respond(text=shown.circle.name, blocks=blocks, response_type="ephemeral")
                    return
                case JoinCircle(name=name):
                    outcome: circle_service.CommandOutcome = circle_service.join(deps, team_id, user_id, name)
                case LeaveCircle(name=name):
                    outcome = circle_service.leave(deps, team_id, user_id, name)
                case PauseCircle(name=name, rounds=rounds):
                    outcome = circle_service.pause(deps, team_id, user_id, name, rounds)
                case CheckinNow(name=name):
                    key = request_key(body)
                    outcome = circle_service.checkin_now(deps, deps.circles, team_id, user_id, name, key)
                case ArchiveCircle(name=name):
                    outcome = circle_service.archive(deps, team_id, user_id, name)
                case ShowHelp() | CreateCircle() | EditCircle():
                    return  # answered in the ack
                case unreachable:
                    assert_never(unreachable)
        except (CircleNotFound, NotAllowed) as refused:
            respond(str(refused))
            return
        respond(said(outcome))

    app.command("/circle")(ack=ack_circle, lazy=[after_ack(deps, run_circle_command)])

    def ack_settings(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        target = read_settings_target(view.get("private_metadata"))
        if target is None:
            ack(response_action="errors", errors={"name": STALE_FORM})
            return
        read = read_circle_form(_values(view))
        team_id, user_id, name = str(context.team_id), str(context.user_id), read_circle_name(_values(view))
        errors = circle_service.settings_problems(deps, team_id, user_id, target, name)
        if isinstance(read, FieldErrors):
            errors = {**errors, **read.errors}
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()

    def save_settings(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        view, user_id = body["view"], str(context.user_id)
        target, spec = read_settings_target(view.get("private_metadata")), read_circle_form(_values(view))
        if target is None or isinstance(spec, FieldErrors):
            return  # shown in the form by the ack
        saved = circle_service.save_settings(
            deps, team_id=str(context.team_id), user_id=user_id, target=target, spec=spec, key=request_key(body)
        )
        match saved:
            case circle_service.Refused(message=message):
                deps.slack.tell(user_id, message, channel=target.origin_channel_id)
            case circle_service.Saved():
                deps.slack.tell(user_id, saved_text(saved), channel=target.origin_channel_id)
            case unreachable:
                assert_never(unreachable)

    app.view(CIRCLE_MODAL)(ack=ack_settings, lazy=[after_ack(deps, save_settings)])

    def join_from_button(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        user_id = str(context.user_id)
        value = ((body.get("actions") or [{}])[0] or {}).get("value")
        try:
            text = said(circle_service.join_by_button(deps, str(context.team_id), user_id, value))
        except CircleNotFound as missing:
            text = str(missing)
        if respond is not None and body.get("response_url"):
            respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            deps.slack.tell(user_id, text, channel=context.channel_id)

    app.action(JOIN_ACTION)(ack=acknowledge, lazy=[after_ack(deps, join_from_button)])

    def ack_checkin(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
        ack()
        user_id = str(context.user_id)
        match checkins.answer_form(deps, str(context.team_id), user_id, action.get("value")):
            case checkins.Refused(message=message):
                deps.slack.tell(user_id, message)
            case checkins.AnswerForm(circle=circle, round_=round_, previous=previous):
                from_home = (body.get("view") or {}).get("type") == "home"
                form = answer_modal(circle, round_, previous, from_home=from_home)
                if failed := deps.slack.open_view(body["trigger_id"], form):
                    deps.slack.tell(user_id, f"I couldn't open the check-in form ({failed.error}); please click again.")
            case unreachable:
                assert_never(unreachable)

    app.action(CHECKIN_ACTION)(ack_checkin)

    def ack_answers(ack: Ack, view: dict[str, Any]) -> None:
        match read_answers(_values(view)):
            case FieldErrors(errors=errors):
                ack(response_action="errors", errors=errors)
            case _ if read_answer_target(view.get("private_metadata")) is None:
                ack(response_action="errors", errors={"answer_0": STALE_FORM})
            case _:
                ack()

    def record_answers(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        view, user_id = body["view"], str(context.user_id)
        answers, target = read_answers(_values(view)), read_answer_target(view.get("private_metadata"))
        if isinstance(answers, FieldErrors) or target is None:
            return  # shown in the form by the ack
        result = checkins.record_answers(
            deps, team_id=str(context.team_id), user_id=user_id, round_id=target.round_id, answers=answers
        )
        match result:
            case checkins.Refused(message=message):
                notice: str | None = message
            case checkins.Recorded(warning=warning):
                notice = warning
            case unreachable:
                assert_never(unreachable)
        if target.from_home:  # the Home shows the answered check-in (and any problem) at once
            home.refresh(deps, str(context.team_id), user_id, notice)
        elif notice:
            deps.slack.tell(user_id, notice)

    app.view(ANSWER_MODAL)(ack=ack_answers, lazy=[after_ack(deps, record_answers)])
