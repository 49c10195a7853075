"""/mentor and the mentoring profile modal."""

from __future__ import annotations

from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.pairing import service
from bot.pairing.blocks import (
    PROFILE_MODAL,
    find_results,
    help_blocks,
    matches_section,
    profile_modal,
    profile_summary,
    read_profile_form,
)
from bot.pairing.commands import (
    EditProfile,
    FindPeople,
    MentorCommand,
    OptOut,
    Pause,
    Resume,
    ShowHelp,
    ShowMe,
    parse_mentor_command,
)
from bot.pairing.profiles import read_profile
from bot.text import escape_mrkdwn, slack_to_plain
from handlers.deps import Deps
from handlers.errors import after_ack


def _request(command: dict[str, Any]) -> MentorCommand:
    return parse_mentor_command(slack_to_plain(command.get("text") or ""))


def register(app: App, deps: Deps) -> None:
    def ack_mentor(ack: Ack, command: dict[str, Any], context: BoltContext, respond: Respond) -> None:
        team_id, user_id = str(context.team_id), command["user_id"]
        match _request(command):
            case EditProfile():
                ack()
                view = profile_modal(service.load_profile(deps.db, team_id, user_id))
                if failed := deps.slack.open_view(command["trigger_id"], view):
                    respond(f"I couldn't open the form ({failed.error}); please try `/mentor profile` again.")
            case ShowMe():
                profile = service.load_profile(deps.db, team_id, user_id)
                blocks = profile_summary(profile, service.pause_text(profile, deps.clock()))
                blocks += matches_section(service.matches(deps.db, team_id, user_id))
                ack(text="Your mentoring profile", blocks=blocks, response_type="ephemeral")
            case ShowHelp(problem=problem, usage=usage):
                ack(text="How to use /mentor", blocks=help_blocks(problem, usage), response_type="ephemeral")
            case FindPeople() | Pause() | Resume() | OptOut():
                ack()  # answered after the ack (a search, or a change)
            case unknown:
                assert_never(unknown)

    def run_mentor_command(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        assert respond is not None, "slash commands carry a response_url"
        team_id, user_id, now = str(context.team_id), body["user_id"], deps.clock()
        match _request(body):
            case FindPeople(skill=skill):
                helpers, suggestions = service.find_helpers(deps.db, team_id, skill, now)
                blocks = find_results(skill, helpers, suggestions, viewer=user_id)
                respond(text=f"Who can help with {skill}", blocks=blocks, response_type="ephemeral")
            case Pause(weeks=weeks):
                until = service.pause(deps.db, team_id, user_id, weeks, now)
                stamp, fallback = int(until.timestamp()), until.strftime("%Y-%m-%d")
                respond(
                    f":double_vertical_bar: Paused: no pairing rounds for you until "
                    f"<!date^{stamp}^{{date_short_pretty}}|{fallback}>. `/mentor resume` ends it sooner."
                )
            case Resume():
                service.resume(deps.db, team_id, user_id, now)
                respond(":arrow_forward: You're back in the pairing rounds of the channels you are in.")
            case OptOut():
                service.opt_out(deps.db, team_id, user_id, now)
                respond(
                    "You're out of all pairing rounds. Your profile stays findable with `/mentor find`; "
                    "`/mentor resume` brings you back."
                )
            case EditProfile() | ShowMe() | ShowHelp():
                pass  # answered in the ack
            case unknown:
                assert_never(unknown)

    app.command("/mentor")(ack=ack_mentor, lazy=[after_ack(deps, run_mentor_command)])

    def ack_profile(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        read = read_profile(str(context.user_id), read_profile_form((view.get("state") or {}).get("values")))
        if isinstance(read, dict):
            ack(response_action="errors", errors=read)
            return
        ack()

    def save_profile(body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        user_id = str(context.user_id)  # the person who submitted: a profile is only ever one's own
        read = read_profile(user_id, read_profile_form((body["view"].get("state") or {}).get("values")))
        if isinstance(read, dict):
            return  # shown in the form by the ack
        saved = service.save_profile(deps.db, str(context.team_id), read, deps.clock())
        teaches = ", ".join(escape_mrkdwn(s) for s in saved.teaches) or "nothing yet"
        deps.slack.tell(
            user_id,
            f":white_check_mark: Profile saved. You teach: {teaches}. "
            "Colleagues find you with `/mentor find &lt;skill&gt;`; `/mentor me` shows it all.",
        )

    app.view(PROFILE_MODAL)(ack=ack_profile, lazy=[after_ack(deps, save_profile)])
