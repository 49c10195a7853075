"""/peerlearn: schedules for prompts and digests, and the prompt bank.

Reads are answered in the ack. Changes are acknowledged at once and made after it, by the job
worker: the use case asks Slack whether the person is an admin at that moment, then acts.
"""

from __future__ import annotations

from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.pairing.admin_blocks import figures_blocks, preview_blocks
from bot.schedules import service as schedule_service
from bot.schedules.blocks import (
    change_message,
    custom_prompt_list,
    invalid_command,
    peerlearn_help,
    schedule_lines,
)
from bot.schedules.commands import (
    AddPrompt,
    InvalidCommand,
    ListPrompts,
    ListSchedules,
    PairingFigures,
    PeerlearnCommand,
    PeerlearnHelp,
    PostNow,
    PreviewPairing,
    RemovePrompt,
    SetSchedule,
    TurnOff,
    parse_peerlearn_command,
)
from bot.schedules.prompt_bank import BUILTIN_PROMPTS
from bot.schedules.results import PairingPreviewed
from bot.schedules.rules import ScheduleInputError
from bot.slack.requests import request_key
from handlers import people
from handlers.deps import Deps
from handlers.errors import after_ack


def _request(command: dict[str, Any]) -> PeerlearnCommand:
    return parse_peerlearn_command(command.get("text") or "")


def register(app: App, deps: Deps) -> None:
    people.register_commands(app, deps)  # export, my-data, forget-me: first, so they are matched first

    def ack_peerlearn(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        team_id = str(context.team_id)
        match _request(command):
            case PeerlearnHelp(problem=problem):
                ack(text="How to use /peerlearn", blocks=peerlearn_help(problem), response_type="ephemeral")
            case InvalidCommand(problem=problem, usage=usage):
                ack(text=invalid_command(problem, usage), response_type="ephemeral")
            case ListSchedules():
                entries = schedule_service.listing(deps, team_id)
                ack(text="Peerlearn schedules", blocks=schedule_lines(entries), response_type="ephemeral")
            case ListPrompts():
                blocks = custom_prompt_list(schedule_service.custom_prompts(deps, team_id), len(BUILTIN_PROMPTS))
                ack(text="Learning prompts", blocks=blocks, response_type="ephemeral")
            case (
                SetSchedule()
                | TurnOff()
                | PostNow()
                | AddPrompt()
                | RemovePrompt()
                | PreviewPairing()
                | PairingFigures()
            ):
                ack()  # after the ack: the rights check and the channel checks talk to Slack
            case unknown:
                assert_never(unknown)

    def change(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        match _request(body):
            case SetSchedule() | TurnOff() | PostNow() | AddPrompt() | RemovePrompt() as command:
                here = schedule_service.Here(body["channel_id"], body.get("channel_name") or "")
                try:
                    changed = schedule_service.change(
                        deps,
                        deps.poster,
                        team_id=str(context.team_id),
                        user_id=body["user_id"],
                        here=here,
                        command=command,
                        key=request_key(body),
                    )
                except schedule_service.NotAdmin as refused:
                    respond(str(refused))
                    return
                except ScheduleInputError as problem:
                    respond(invalid_command(str(problem), problem.usage))
                    return
                respond(change_message(changed))
            case PreviewPairing() | PairingFigures() as read:
                try:
                    shown = schedule_service.pairing_read(
                        deps, deps.pairing, team_id=str(context.team_id), user_id=body["user_id"], command=read
                    )
                except schedule_service.NotAdmin as refused:
                    respond(str(refused))
                    return
                except ScheduleInputError as problem:
                    respond(invalid_command(str(problem), problem.usage))
                    return
                if isinstance(shown, PairingPreviewed):
                    blocks = preview_blocks(shown.channel_id, shown.options, shown.plan)
                else:
                    blocks = figures_blocks(shown.channel_id, shown.stats)
                respond(text="Pairing", blocks=blocks, response_type="ephemeral")
            case PeerlearnHelp() | InvalidCommand() | ListSchedules() | ListPrompts():
                return  # answered in the ack
            case unknown:
                assert_never(unknown)

    app.command("/peerlearn")(ack=ack_peerlearn, lazy=[after_ack(deps, change)])
