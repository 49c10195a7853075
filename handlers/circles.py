"""/circle, the circle settings modal, the check-in button and the answers modal."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.circles import rules as circles
from bot.circles import service as circle_service
from bot.circles import views
from bot.circles.blocks import (
    ANSWER_MODAL,
    CHECKIN_ACTION,
    CIRCLE_MODAL,
    answer_modal,
    circle_help,
    circle_info,
    circle_list,
    circle_modal,
)
from handlers.deps import Deps
from handlers.errors import after_ack


def register(app: App, deps: Deps) -> None:
    def ack_circle(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        """Answers from the database and modals (trigger ids last 3 s) here; changes after the ack."""
        team_id, user_id = str(context.team_id), command["user_id"]
        request = circle_service.parse_circle_command(command.get("text") or "")
        if request.action == "help":
            ack(text="How to use /circle", blocks=circle_help(request.problem), response_type="ephemeral")
            return
        if request.action == "list":
            rows = views.listing(deps.db, team_id, deps.clock())
            ack(text="Learning circles", blocks=circle_list(rows), response_type="ephemeral")
            return
        if request.action == "create":
            ack()
            person = deps.users.get(user_id)
            zone = person.timezone if person and person.timezone else "UTC"
            view = circle_modal(channel_id=command["channel_id"], zone=zone, name=request.name)
            if error := deps.slack.open_view(command["trigger_id"], view):
                respond(f"I couldn't open the form ({error}); please try again.")
            return
        try:
            circle = views.find(deps.db, team_id, request.name)
        except circles.CircleNotFound as missing:
            ack(text=str(missing), response_type="ephemeral")
            return
        if request.action == "info":
            shown = views.details(deps.db, circle)
            blocks = circle_info(circle, shown.members, shown.last_answers, views.next_round_text(circle, deps.clock()))
            ack(text=circle.name, blocks=blocks, response_type="ephemeral")
            return
        if request.action == "edit":
            try:
                circles.require_manager(circle, user_id, deps.users.is_admin(user_id))
            except circles.NotAllowed as refused:
                ack(text=str(refused), response_type="ephemeral")
                return
            ack()
            view = circle_modal(channel_id=circle.channel_id, zone=circle.zone, circle=circle)
            if error := deps.slack.open_view(command["trigger_id"], view):
                respond(f"I couldn't open the form ({error}); please try again.")
            return
        ack()

    def act(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        request = circle_service.parse_circle_command(body.get("text") or "")
        if request.action not in ("join", "leave", "pause", "checkin", "archive"):
            return
        circle = views.named(deps.db, str(context.team_id), request.name)
        if circle is not None:
            respond(_act(deps, request, circle, body["user_id"]))

    app.command("/circle")(ack=ack_circle, lazy=[after_ack(deps, act)])

    def ack_settings(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        spec, errors = circle_service.spec_from_modal(view["state"]["values"])
        circle_id = json.loads(view.get("private_metadata") or "{}").get("circle_id")
        with deps.db.snapshot() as session:
            editing = circles.circle_in_team(session, str(context.team_id), circle_id) if circle_id else None
            errors = {**circles.validate(session, str(context.team_id), spec, editing), **errors}
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()

    def save_settings(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        view = body["view"]
        team_id, user_id = str(context.team_id), str(context.user_id)
        spec, errors = circle_service.spec_from_modal(view["state"]["values"])
        circle_id = json.loads(view.get("private_metadata") or "{}").get("circle_id")
        with deps.db.transaction() as session:
            editing = circles.circle_in_team(session, team_id, circle_id) if circle_id else None
            if errors or circles.validate(session, team_id, spec, editing):
                return  # shown in the form by the ack
            if editing is None:
                circle = circles.create(session, team_id, user_id, spec, deps.clock())
                verb = "created"
            else:
                circle = circles.update(session, editing, spec, deps.clock())
                verb = "updated"
        deps.slack.tell(
            user_id,
            f":seedling: Circle “{circle.name}” {verb}: {circles.cadence_of(circle).describe()} "
            f"in <#{circle.channel_id}>, {views.next_round_text(circle, deps.clock())}. "
            f"Others join with `/circle join {circle.name}`.",
        )

    app.view(CIRCLE_MODAL)(ack=ack_settings, lazy=[after_ack(deps, save_settings)])

    def ack_checkin(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
        ack()
        user_id = str(context.user_id)
        found = circle_service.round_for_answer(deps, int(action["value"]), user_id)
        if isinstance(found, str):
            deps.slack.tell(user_id, found)
            return
        circle, round_, previous = found
        if error := deps.slack.open_view(body["trigger_id"], answer_modal(circle, round_, previous)):
            deps.slack.tell(user_id, f"I couldn't open the check-in form ({error}); please click again.")

    app.action(CHECKIN_ACTION)(ack_checkin)

    def _answers(view: dict[str, Any]) -> list[str]:
        values = view["state"]["values"]
        blocks = sorted((b for b in values if b.startswith("answer_")), key=lambda b: int(b.split("_")[1]))
        return [(values[block]["answer"].get("value") or "").strip() for block in blocks]

    def ack_answers(ack: Ack, view: dict[str, Any]) -> None:
        if not any(_answers(view)):
            ack(response_action="errors", errors={"answer_0": "Answer at least one question."})
            return
        ack()

    def record_answers(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        view = body["view"]
        answers = _answers(view)
        if not any(answers):
            return
        round_id = json.loads(view.get("private_metadata") or "{}")["round_id"]
        result = circle_service.record_answers(deps, round_id, str(context.user_id), answers)
        if result.message:
            deps.slack.tell(str(context.user_id), result.message)

    app.view(ANSWER_MODAL)(ack=ack_answers, lazy=[after_ack(deps, record_answers)])


def _act(deps: Deps, request: circle_service.CircleCommand, circle: Any, user_id: str) -> str:
    name = circle.name
    if request.action == "join":
        with deps.db.transaction() as session:
            joined = circles.join(session, circle, user_id)
        return f":wave: You joined “{name}”. Check-ins come by DM." if joined else f"You're already in “{name}”."
    if request.action == "leave":
        with deps.db.transaction() as session:
            left = circles.leave(session, circle, user_id)
        return f"You left “{name}”." if left else f"You're not a member of “{name}”."
    if request.action == "pause":
        with deps.db.transaction() as session:
            paused = circles.pause(session, circle, user_id, request.rounds)
        if paused is None:
            return f"You're not a member of “{name}”; `/circle join {name}` first."
        return (
            f":pause_button: You'll sit out the next {request.rounds} round(s) of “{name}”; your streak waits for you."
        )
    try:
        circles.require_manager(circle, user_id, deps.users.is_admin(user_id))
    except circles.NotAllowed as refused:
        return str(refused)
    if request.action == "checkin":
        opened = deps.circles.open_now(circle.id)
        return (
            f":white_check_mark: Opened a check-in for “{name}”."
            if opened
            else f"“{name}” already has an open check-in."
        )
    assert request.action == "archive"
    with deps.db.transaction() as session:
        circles.archive(session, circle, deps.clock())
    return f":file_cabinet: Archived “{name}”. No more check-ins."
