"""/ask, the *Ask Peerlearn* shortcut, the buttons of a question and of the DMs about it, messages
in questions channels and question threads, and `/peerlearn questions|stats` (admins).

Acks do only what is cheap: parse, or one indexed read (`/ask mine`; is this a questions channel,
a question's thread?). Everything else runs after the ack, in the job worker.
"""

from __future__ import annotations

import re
from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.questions import admin, admin_blocks, blocks
from bot.questions.blocks import SLACK_TS
from bot.questions.commands import (
    ADMIN_USAGE,
    AskHelp,
    AskQuestion,
    CloseQuestion,
    ListQuestionsChannels,
    MyQuestions,
    QuestionsAdminProblem,
    QuestionStats,
    SetQuestionsChannel,
    is_questions_admin,
    parse_ask_command,
    parse_questions_admin,
)
from bot.questions.results import Refused, Reply, TipsOnly
from bot.questions.rules import reads_as_question
from bot.schedules.blocks import invalid_command
from bot.schedules.rules import ScheduleInputError
from bot.schedules.service import NotAdmin
from bot.slack.requests import request_key
from bot.text import slack_to_plain
from handlers.deps import Deps
from handlers.errors import acknowledge, after_ack, tell

ASK_SHORTCUT = "ask_peerlearn"
_REPLY_SUBTYPES = (None, "thread_broadcast", "file_share")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{1,31}")
_USER = re.compile(r"[UW][A-Z0-9]{1,31}")


def _is_ts(value: object) -> bool:
    return isinstance(value, str) and SLACK_TS.fullmatch(value) is not None


def _by_a_person(event: dict[str, Any]) -> bool:
    """A message a person wrote in a channel, its ids of Slack's shapes (an event's values are input too)."""
    user, channel = event.get("user"), event.get("channel")
    return (
        isinstance(user, str)
        and _USER.fullmatch(user) is not None
        and not event.get("bot_id")
        and isinstance(channel, str)
        and _CHANNEL.fullmatch(channel) is not None
        and _is_ts(event.get("ts"))
    )


def _deleted_ts(event: dict[str, Any]) -> str | None:
    """The message a deletion event is about: `message_deleted`, or a parent with replies turned tombstone."""
    if event.get("subtype") == "message_deleted":
        deleted = event.get("deleted_ts")
        return deleted if isinstance(deleted, str) and _is_ts(deleted) else None
    message = event.get("message") if event.get("subtype") == "message_changed" else None
    if isinstance(message, dict) and message.get("subtype") == "tombstone" and _is_ts(message.get("ts")):
        return str(message["ts"])
    return None


def register(app: App, deps: Deps) -> None:
    desk = deps.questions

    def answer(reply: Reply | None, body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        """Tell the person who clicked. `replace` swaps the message they clicked in only when it is
        theirs alone (an ephemeral answer, their DM with the app); a channel post is redrawn by the use case."""
        if reply is None:
            return
        container = body.get("container") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        replace = reply.replace and (bool(container.get("is_ephemeral")) or channel.startswith("D"))
        if respond is not None and respond.response_url:
            respond(text=reply.text, blocks=reply.blocks, replace_original=replace, response_type="ephemeral")
        else:
            tell(deps, reply.text, context, respond)

    # -- /ask ------------------------------------------------------------------------------------

    def ack_ask(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        match parse_ask_command(slack_to_plain(command.get("text") or "")):
            case MyQuestions():
                mine, asked = desk.mine(str(context.team_id), command["user_id"])
                ack(text="Your questions", blocks=blocks.my_questions(mine, asked), response_type="ephemeral")
            case AskHelp(problem=problem):
                ack(text="How to use /ask", blocks=blocks.help_blocks(problem), response_type="ephemeral")
            case AskQuestion() | CloseQuestion():
                ack()  # tips are searched and people asked after the ack
            case unknown:
                assert_never(unknown)

    def run_ask(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        team_id, user_id = str(context.team_id), body["user_id"]
        match parse_ask_command(slack_to_plain(body.get("text") or "")):
            case AskQuestion(text=text):
                asked = desk.ask_command(
                    team_id=team_id,
                    user_id=user_id,
                    text=text,
                    channel_id=body["channel_id"],
                    channel_name=body.get("channel_name"),
                    request_key=request_key(body),
                )
                said, shown = blocks.asked_message(asked)
                if said or shown:
                    respond(text=said, blocks=shown, response_type="ephemeral")
            case CloseQuestion(number=number):
                answer(desk.answers.close_numbered(team_id, user_id, number), body, context, respond)
            case MyQuestions() | AskHelp():
                pass  # answered in the ack
            case unknown:
                assert_never(unknown)

    app.command("/ask")(ack=ack_ask, lazy=[after_ack(deps, run_ask)])

    def ask_from_message(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        channel, message = body.get("channel") or {}, body.get("message") or {}
        asked = desk.ask_message(
            team_id=str(context.team_id),
            user_id=str(context.user_id),
            channel_id=str(channel.get("id") or ""),
            channel_name=channel.get("name"),
            message=message,
            request_key=request_key(body),
        )
        said, shown = blocks.asked_message(asked)
        if said or shown:
            if respond is not None and respond.response_url:
                respond(text=said, blocks=shown, response_type="ephemeral")
            else:
                tell(deps, said, context, respond)

    app.shortcut(ASK_SHORTCUT)(ack=acknowledge, lazy=[after_ack(deps, ask_from_message)])

    # -- buttons ---------------------------------------------------------------------------------

    def on_button(body: dict[str, Any]) -> tuple[str, object]:
        action = (body.get("actions") or [{}])[0]
        return str(action.get("action_id") or ""), action.get("value")

    def tip_answered_it(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        parsed = blocks.read_question_and_tip(on_button(body)[1])
        if parsed is None:
            answer(Reply("That button is not one I know."), body, context, respond)
            return
        reply = desk.answers.answered_by_tip(str(context.team_id), str(context.user_id), *parsed)
        answer(reply, body, context, respond)

    def pick_reply(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        parsed = blocks.read_question_and_reply(on_button(body)[1])
        if parsed is None:
            answer(Reply("That button is not one I know."), body, context, respond)
            return
        answer(desk.answers.accept(str(context.team_id), str(context.user_id), *parsed), body, context, respond)

    def question_button(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        action_id, value = on_button(body)
        question_id = blocks.read_question_id(value)
        if question_id is None:
            answer(Reply("That button is not one I know."), body, context, respond)
            return
        team_id, user_id, answers = str(context.team_id), str(context.user_id), desk.answers
        use_case = {
            blocks.NEED_HELP: answers.still_need_help,
            blocks.MARK_ANSWERED: answers.mark_answered,
            blocks.CLOSE: answers.close,
            blocks.SAVE_AS_TIP: answers.save_as_tip,
            blocks.CAN_HELP: answers.can_help,
            blocks.NOT_ME: answers.not_me,
        }[action_id]
        answer(use_case(team_id, user_id, question_id), body, context, respond)

    app.action(blocks.ANSWERED_BY_TIP_ACTION)(ack=acknowledge, lazy=[after_ack(deps, tip_answered_it)])
    app.action(blocks.PICK_REPLY)(ack=acknowledge, lazy=[after_ack(deps, pick_reply)])
    for action_id in (
        blocks.NEED_HELP,
        blocks.MARK_ANSWERED,
        blocks.CLOSE,
        blocks.SAVE_AS_TIP,
        blocks.CAN_HELP,
        blocks.NOT_ME,
    ):
        app.action(action_id)(ack=acknowledge, lazy=[after_ack(deps, question_button)])

    # -- messages --------------------------------------------------------------------------------

    def question_asked(body: dict[str, Any], context: BoltContext) -> bool:
        """A person's new top-level message that reads as a question, in a questions channel."""
        event = body.get("event") or {}
        if not _by_a_person(event) or event.get("subtype") is not None:
            return False
        if event.get("thread_ts") not in (None, event.get("ts")):
            return False
        if not reads_as_question(str(event.get("text") or "")):
            return False
        return desk.is_questions_channel(str(context.team_id), event["channel"])

    def answer_in_channel(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        asked = desk.ask_in_channel(
            team_id=str(context.team_id),
            user_id=event["user"],
            channel_id=event["channel"],
            ts=event["ts"],
            text=str(event.get("text") or ""),
            request_key=request_key(body),
        )
        if isinstance(asked, Refused):  # too short or too many: told to them alone
            deps.slack.tell(event["user"], asked.message, channel=event["channel"])
        elif isinstance(asked, TipsOnly):  # the channel is private now: their question stays in it
            deps.slack.tell(event["user"], blocks.tips_only_note(asked.tips), channel=event["channel"])

    def reply_to_question(body: dict[str, Any], context: BoltContext) -> bool:
        event = body.get("event") or {}
        thread_ts = event.get("thread_ts")
        if not _is_ts(thread_ts) or thread_ts == event.get("ts") or not _by_a_person(event):
            return False
        if event.get("subtype") not in _REPLY_SUBTYPES:
            return False
        return desk.is_question_thread(str(context.team_id), event["channel"], str(thread_ts))

    def record_reply(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        desk.answers.record_reply(
            str(context.team_id),
            event["channel"],
            event["thread_ts"],
            event["ts"],
            event["user"],
            str(event.get("text") or ""),
        )

    def question_deleted(body: dict[str, Any], context: BoltContext) -> bool:
        event = body.get("event") or {}
        ts, channel = _deleted_ts(event), event.get("channel")
        if ts is None or not isinstance(channel, str) or _CHANNEL.fullmatch(channel) is None:
            return False
        return desk.is_question_message(str(context.team_id), channel, ts)

    def close_deleted(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        event = body["event"]
        desk.answers.message_deleted(str(context.team_id), event["channel"], str(_deleted_ts(event)))

    app.event("message", matchers=[question_asked])(ack=acknowledge, lazy=[after_ack(deps, answer_in_channel)])
    app.event("message", matchers=[reply_to_question])(ack=acknowledge, lazy=[after_ack(deps, record_reply)])
    app.event("message", matchers=[question_deleted])(ack=acknowledge, lazy=[after_ack(deps, close_deleted)])

    # -- /peerlearn questions | stats (admins) -----------------------------------------------------

    def ours(command: dict[str, Any]) -> bool:
        return is_questions_admin(command.get("text") or "")

    def run_questions_admin(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        team_id, user_id = str(context.team_id), body["user_id"]
        try:
            match parse_questions_admin(body.get("text") or ""):
                case ListQuestionsChannels():
                    respond(admin_blocks.channel_list(admin.channels(deps, team_id)))
                case SetQuestionsChannel(channel=channel, on=on):
                    respond(admin.set_channel(deps, team_id=team_id, user_id=user_id, ref=channel, on=on))
                case QuestionStats(window=window):
                    measures, channels = admin.stats(deps, team_id=team_id, user_id=user_id, window=window)
                    shown = admin_blocks.stats_blocks(measures, window, channels)
                    respond(text="Questions", blocks=shown, response_type="ephemeral")
                case QuestionsAdminProblem(problem=problem):
                    respond(invalid_command(problem, ADMIN_USAGE))
                case unknown:
                    assert_never(unknown)
        except NotAdmin as refused:
            respond(str(refused))
        except ScheduleInputError as problem:
            respond(invalid_command(str(problem), problem.usage))

    app.command("/peerlearn", matchers=[ours])(ack=acknowledge, lazy=[after_ack(deps, run_questions_admin)])
