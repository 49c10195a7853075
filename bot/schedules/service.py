"""/peerlearn use cases: each change checks the person's rights with Slack at the moment it is made,
stores first and talks to Slack after; reads return plain values for the blocks to render."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import assert_never

from bot.cadence import Cadence
from bot.pairing.rounds import PairingRunner
from bot.pairing.stats import pairing_stats
from bot.schedules import prompts
from bot.schedules import rules as schedules
from bot.schedules.commands import (
    NOW_USAGE,
    AddPrompt,
    ChannelRef,
    PairingFigures,
    PairingRead,
    PeerlearnChange,
    PostNow,
    PreviewPairing,
    RemovePrompt,
    SetSchedule,
    TurnOff,
)
from bot.schedules.kinds import PostKind, command_word, many_posts
from bot.schedules.posting import ScheduledPoster
from bot.schedules.results import (
    Changed,
    Configured,
    NoSuchPrompt,
    NothingToTurnOff,
    PairingFiguresShown,
    PairingPreviewed,
    PostedNow,
    PromptAdded,
    PromptRemoved,
    ScheduleEntry,
    TurnedOff,
)
from bot.schedules.rules import BrokenSchedule, ScheduleInputError, cadence_of, pairing_options
from bot.services import Services
from bot.slack.conversations import channel_members
from bot.slack.results import Failed
from bot.tips.rules import looks_private
from storage import pairing_rounds as pairing_queries
from storage import schedules as queries
from storage.models import CustomPrompt

log = logging.getLogger(__name__)

# Said to people, who have never heard of PEERLEARN_ADMINS (the operator's setting): "Peerlearn's own admins".
ADMINS_ONLY = "Only workspace admins and owners, and Peerlearn's own admins, can do that."


class NotAdmin(PermissionError):
    def __init__(self) -> None:
        super().__init__(ADMINS_ONLY)


@dataclass(frozen=True)
class Here:
    """Where the command was run, as its payload says (no API call: reading a DM needs scopes we don't ask for)."""

    channel_id: str
    channel_name: str

    @property
    def is_direct(self) -> bool:
        """A DM or a group DM: schedules and posts belong in channels."""
        return (
            self.channel_id.startswith("D")
            or self.channel_name == "directmessage"
            or self.channel_name.startswith("mpdm-")
        )

    @property
    def is_hidden(self) -> bool:
        """Slack's name for a private conversation the app is not in."""
        return self.channel_name == "privategroup"


# -- changes -----------------------------------------------------------------------------------


def change(
    services: Services,
    poster: ScheduledPoster,
    *,
    team_id: str,
    user_id: str,
    here: Here,
    command: PeerlearnChange,
    key: str | None = None,
) -> Changed:
    """Make the change `command` asks for; NotAdmin or ScheduleInputError (with what to do) if not."""
    require_admin(services, team_id, user_id)
    match command:
        case SetSchedule():
            return configure(services, team_id=team_id, user_id=user_id, request=command)
        case TurnOff(kind=kind, channel=channel):
            return turn_off(services, team_id=team_id, user_id=user_id, kind=kind, ref=channel)
        case PostNow(kind=kind, channel=channel):
            channel_id = resolve_channel(services, channel, member=user_id) if channel else here_for_posting(here, kind)
            return PostedNow(kind, channel_id, poster.post_now(team_id, channel_id, kind, user_id, key))
        case AddPrompt(text=text):
            with services.db.transaction() as session:
                prompt = prompts.add(session, team_id, text, user_id)
            log.info("prompt added team=%s user=%s prompt=%s number=%s", team_id, user_id, prompt.id, prompt.number)
            return PromptAdded(prompt.number, prompt.text)
        case RemovePrompt(number=number):
            with services.db.transaction() as session:
                removed = prompts.remove(session, team_id, number)
            log.info("prompt removed team=%s user=%s number=%s removed=%s", team_id, user_id, number, removed)
            return PromptRemoved(number) if removed else NoSuchPrompt(number)
        case _:
            assert_never(command)


def require_admin(services: Services, team_id: str, user_id: str) -> None:
    """Asked of Slack now (an answer seconds old at most), within the request's team."""
    status = services.users.admin_status(user_id, team_id)
    if isinstance(status, Failed):
        raise ScheduleInputError(
            f"I couldn't check your admin rights with Slack just now (`{status.error}`); nothing changed. "
            "Please try again in a minute."
        )
    if not status:
        log.info("refused: not an admin team=%s user=%s", team_id, user_id)
        raise NotAdmin()


def here_for_posting(here: Here, kind: PostKind) -> str:
    """The conversation the command ran in, if a post may go there."""
    word = command_word(kind)
    if here.is_direct:
        raise ScheduleInputError(
            f"I post {many_posts(kind)} in channels, not in direct messages: name the channel, "
            f"e.g. `/peerlearn {word} now #general`, or run the command there.",
            usage=NOW_USAGE,
        )
    if here.is_hidden:
        raise ScheduleInputError(
            "I'm not in this conversation. For a private channel, `/invite @Peerlearn` here first; "
            f"or name a channel, e.g. `/peerlearn {word} now #general`.",
            usage=NOW_USAGE,
        )
    return here.channel_id


def _channel_id(services: Services, ref: ChannelRef) -> str | None:
    """The channel's id as given, else found by name; None when not found or Slack couldn't say."""
    if ref.id:
        return ref.id
    if not ref.name:
        return None
    found = services.slack.find_channel(ref.name)
    return None if isinstance(found, Failed) else found


def resolve_channel(services: Services, ref: ChannelRef, *, member: str | None = None) -> str:
    """The id of a channel the bot can post in; raises ScheduleInputError saying why not. With
    `member`, a private channel must also have that person in it: an admin who is not in a private
    channel neither sees who is (a pairing preview) nor has the app post there for them."""
    channel_id = _channel_id(services, ref)
    if channel_id is None:
        raise ScheduleInputError(
            f"I can't find {ref.mention()}. Pick it from the autocomplete as you type `#`; "
            "for a private channel, `/invite @Peerlearn` there first."
        )
    info = services.slack.channel_info(channel_id)
    if isinstance(info, Failed):
        raise ScheduleInputError(
            f"I can't see {ref.mention()} ({info.error}). For a private channel, `/invite @Peerlearn` there first."
        )
    if info.get("is_archived"):
        raise ScheduleInputError(f"<#{channel_id}> is archived, so I can't post there.")
    if info.get("is_im") or info.get("is_mpim"):
        raise ScheduleInputError("Schedules post in channels, not in direct messages.")
    if info.get("is_private") and not info.get("is_member"):
        raise ScheduleInputError(f"Invite me to <#{channel_id}> first (`/invite @Peerlearn`), then try again.")
    if member is not None and (info.get("is_private") or looks_private(channel_id)):
        members = channel_members(services.slack, channel_id)
        if isinstance(members, Failed):
            raise ScheduleInputError(
                f"I couldn't check who is in <#{channel_id}> ({members.error}); nothing changed. Try again in a minute."
            )
        if member not in members:
            log.info("refused: user=%s is not in private channel=%s", member, channel_id)
            raise ScheduleInputError("That's a private channel you're not in. Pick a channel you're a member of.")
    return channel_id


def configure(services: Services, *, team_id: str, user_id: str, request: SetSchedule) -> Configured:
    channel_id = resolve_channel(services, request.channel, member=user_id)
    person = services.users.get(user_id)
    zone = request.zone or (person.timezone if person and person.timezone else "UTC")
    now = services.clock()
    with services.db.transaction() as session:
        schedule = schedules.save(
            session, team_id=team_id, channel_id=channel_id, request=request, zone=zone, user_id=user_id, now=now
        )
        cadence = cadence_of(schedule)
    log.info(
        "schedule set team=%s user=%s channel=%s kind=%s %s",
        team_id, user_id, channel_id, request.kind, cadence.describe(),
    )  # fmt: skip
    return Configured(request.kind, channel_id, cadence, cadence.next_after(now), request.channel_only)


def turn_off(
    services: Services, *, team_id: str, user_id: str, kind: PostKind, ref: ChannelRef
) -> TurnedOff | NothingToTurnOff:
    channel_id = _channel_id(services, ref)
    removed = False
    if channel_id is not None:
        with services.db.transaction() as session:
            removed = schedules.turn_off(session, team_id, channel_id, kind)
    if channel_id is None or not removed:
        return NothingToTurnOff(kind, ref)
    log.info("schedule removed team=%s user=%s channel=%s kind=%s", team_id, user_id, channel_id, kind)
    return TurnedOff(kind, channel_id)


# -- pairing reads (admins) ---------------------------------------------------------------------


def pairing_read(
    services: Services, runner: PairingRunner, *, team_id: str, user_id: str, command: PairingRead
) -> PairingPreviewed | PairingFiguresShown:
    """The next round's pairs (nothing sent) or the program's figures, for admins; NotAdmin otherwise."""
    require_admin(services, team_id, user_id)
    channel_id = resolve_channel(services, command.channel, member=user_id)
    with services.db.snapshot() as session:
        options = pairing_options(queries.get_schedule(session, team_id, channel_id, PostKind.PAIRING))
    match command:
        case PreviewPairing():
            plan = runner.preview(team_id, channel_id, options, period=f"preview:{services.clock().date()}")
            if isinstance(plan, str):
                raise ScheduleInputError(f"I can't plan a round for <#{channel_id}>: {plan}.")
            return PairingPreviewed(channel_id, options, plan)
        case PairingFigures():
            with services.db.snapshot() as session:
                rounds = pairing_queries.channel_rounds(session, team_id, channel_id)
                groups = pairing_queries.groups_of_rounds(session, [r.id for r in rounds])
            return PairingFiguresShown(channel_id, pairing_stats(rounds, groups, options.window))
        case _:
            assert_never(command)


# -- reads -------------------------------------------------------------------------------------


def listing(services: Services, team_id: str) -> list[ScheduleEntry]:
    """The team's schedules and when each posts next; a row that can't be read is listed as such."""
    now = services.clock()
    entries = []
    with services.db.snapshot() as session:
        for schedule in schedules.listing(session, team_id):
            try:
                cadence: Cadence | None = cadence_of(schedule)
            except BrokenSchedule:
                cadence = None
            next_at = cadence.next_after(now) if cadence and schedule.paused_reason is None else None
            entries.append(
                ScheduleEntry(
                    kind=schedule.kind,
                    channel_id=schedule.channel_id,
                    cadence=cadence,
                    next_at=next_at,
                    paused_reason=schedule.paused_reason,
                    channel_only=schedules.channel_only(schedule),
                )
            )
    return entries


def custom_prompts(services: Services, team_id: str) -> list[CustomPrompt]:
    with services.db.snapshot() as session:
        return prompts.custom(session, team_id)
