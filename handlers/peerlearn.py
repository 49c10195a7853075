"""/peerlearn: schedules for prompts and digests, and the prompt bank."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.schedules import prompts
from bot.schedules import rules as schedules
from bot.schedules import service as schedule_service
from bot.schedules.blocks import custom_prompt_list, peerlearn_help, schedule_lines
from bot.schedules.posting import PAUSING_ERRORS, next_post_line
from bot.schedules.prompt_bank import BUILTIN_PROMPTS
from bot.schedules.rules import (
    AddPrompt,
    ChannelRef,
    ListPrompts,
    ListSchedules,
    PeerlearnHelp,
    PostNow,
    RemovePrompt,
    ScheduleInputError,
    SetSchedule,
    TurnOff,
    parse_peerlearn_command,
)
from bot.text import escape_mrkdwn, slack_to_plain
from handlers.deps import Deps
from handlers.errors import after_ack

ADMINS_ONLY = "Only workspace admins and owners (and the people in PEERLEARN_ADMINS) can change what Peerlearn posts."


def register(app: App, deps: Deps) -> None:
    def ack_peerlearn(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        team_id = str(context.team_id)
        match parse_peerlearn_command(command.get("text") or ""):
            case PeerlearnHelp(problem=problem):
                ack(text="How to use /peerlearn", blocks=peerlearn_help(problem), response_type="ephemeral")
            case ListSchedules():
                with deps.db.snapshot() as session:
                    lines = [next_post_line(s, deps.clock()) for s in schedules.listing(session, team_id)]
                ack(text="Peerlearn schedules", blocks=schedule_lines(lines), response_type="ephemeral")
            case ListPrompts():
                with deps.db.snapshot() as session:
                    own = prompts.custom(session, team_id)
                blocks = custom_prompt_list(own, len(BUILTIN_PROMPTS))
                ack(text="Learning prompts", blocks=blocks, response_type="ephemeral")
            case _:
                ack()  # changes are made after the ack: they check admin rights and talk to Slack

    def change(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        request = parse_peerlearn_command(body.get("text") or "")
        if isinstance(request, PeerlearnHelp | ListSchedules | ListPrompts):
            return
        user_id = body["user_id"]
        if not deps.users.is_admin(user_id):
            respond(ADMINS_ONLY)
            return
        try:
            respond(_change(deps, request, str(context.team_id), user_id, body["channel_id"]))
        except ScheduleInputError as problem:
            respond(f":warning: {problem}")

    app.command("/peerlearn")(ack=ack_peerlearn, lazy=[after_ack(deps, change)])


def _change(deps: Deps, request: object, team_id: str, user_id: str, here: str) -> str:
    match request:
        case SetSchedule():
            return schedule_service.configure(deps, team_id=team_id, user_id=user_id, request=request)
        case TurnOff(kind=kind, channel=channel):
            return schedule_service.turn_off(deps, team_id=team_id, user_id=user_id, kind=kind, ref=channel)
        case PostNow(kind=kind, channel=channel):
            channel_id = schedule_service.resolve_channel(deps, channel or ChannelRef(id=here, name=None))
            delivered = deps.poster.post_now(team_id, channel_id, kind, user_id)
            what = "learning prompt" if kind == "prompt" else "digest"
            if delivered.status == "posted":
                return f":white_check_mark: Posted a {what} in <#{channel_id}>."
            reason = PAUSING_ERRORS.get(delivered.error or "", delivered.error or "unknown error")
            return f":warning: I couldn't post the {what} in <#{channel_id}>: {reason}."
        case AddPrompt(text=text):
            with deps.db.transaction() as session:
                try:
                    prompt = prompts.add(session, team_id, slack_to_plain(text), user_id)
                except prompts.PromptRejected as rejected:
                    return f":warning: {rejected}"
            shown = escape_mrkdwn(prompt.text)
            return f":seedling: Added prompt `{prompt.id}`: {shown} It joins every channel's rotation."
        case RemovePrompt(prompt_id=prompt_id):
            with deps.db.transaction() as session:
                removed = prompts.remove(session, team_id, prompt_id)
            if not removed:
                return f"There is no custom prompt `{prompt_id}`; see `/peerlearn prompt list`."
            return f":wastebasket: Removed prompt `{prompt_id}`."
    raise AssertionError(f"unhandled {request!r}")  # every request type above is matched
