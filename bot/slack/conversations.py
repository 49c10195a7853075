"""Conversations beyond one channel's messages: who is in a channel, and group DMs for a few people."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.gateway import SlackGateway
from bot.slack.results import Failed, Message, Posted, error_code

log = logging.getLogger(__name__)

MEMBERS_PAGE = 200  # Slack's recommended page size (conversations.members is Tier 4)
MAX_MEMBERS = 20_000  # a pool larger than this is not a pairing channel; stop reading


def channel_members(slack: SlackGateway, channel: str) -> list[str] | Failed:
    """Everyone in the channel (bots included: the caller knows who they are), following cursors."""
    members: list[str] = []
    try:
        for page in slack.client.conversations_members(channel=channel, limit=MEMBERS_PAGE):
            members += [m for m in page.get("members") or [] if isinstance(m, str)]
            if len(members) >= MAX_MEMBERS:
                log.warning("channel=%s has over %s members; the pool stops there", channel, MAX_MEMBERS)
                break
    except (SlackApiError, SlackClientError, OSError) as error:
        return Failed(error_code(error))
    return list(dict.fromkeys(members))


def why_not_post_for(slack: SlackGateway, user_id: str, channel: str, *, joined_only: bool = False) -> str | None:
    """Why the app should not post in `channel` for `user_id` (a channel picked in a form), or None.

    A form's choice comes from the person's client, so it can name any conversation the app is in:
    a private one counts only when they are in it too (else their post would reach people they
    can't reach). One the app can't see is no risk (the post itself fails, and says so); when Slack
    can't say, no. `joined_only`: a public channel only when the app is in it already (so a form
    never makes it join a channel, an #announcements only some may post in, to post there)."""
    info = slack.channel_info(channel)
    if isinstance(info, Failed):
        if info.error == "channel_not_found":
            return None
        return f"I couldn't check that channel ({info.error}). Try again in a minute."
    if not is_private_conversation(info):
        if joined_only and not info.get("is_member"):
            log.info("post refused: the app is not in channel=%s (user=%s)", channel, user_id)
            return f"I'm not in <#{channel}>, and I don't join channels to post there. Pick a channel I'm in."
        return None
    members = channel_members(slack, channel)
    if isinstance(members, Failed):
        return f"I couldn't check who is in that channel ({members.error}). Try again in a minute."
    if user_id not in members:
        log.warning("post refused: user=%s is not in private channel=%s", user_id, channel)
        return "That's a private channel you're not in. Pick a channel you're a member of."
    return None


def is_private_conversation(info: Message) -> bool:
    """Whether conversations.info describes a conversation not everyone in the workspace can read."""
    return bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))


class ChannelReaders:
    """Who may read which channel, asked of Slack at most once per channel for one request (a
    `/circle list`, a *Browse circles* form, one check-in answer): whether it is private by
    conversations.info (`G…` and `D…` ids are without asking), and only a private one's members by
    conversations.members, so a listing of public channels makes no member calls.

    Fails closed, without taking a public channel for a private one: when Slack can't describe a
    channel or list a private one's members, `may_read` says Failed, and each caller decides what
    "don't know" means (hidden from a listing, an answer held back, nobody left out of a round)."""

    def __init__(self, slack: SlackGateway) -> None:
        self.slack = slack
        self._private: dict[str, bool | Failed] = {}
        self._members: dict[str, frozenset[str] | Failed] = {}

    def is_private(self, channel: str) -> bool | Failed:
        """Whether only its members can read `channel`; Failed when Slack couldn't say."""
        if channel not in self._private:
            if channel.startswith(("G", "D")):
                self._private[channel] = True
            else:
                info = self.slack.channel_info(channel)
                if isinstance(info, Failed):
                    log.info("channel=%s not described (%s)", channel, info.error)
                self._private[channel] = info if isinstance(info, Failed) else is_private_conversation(info)
        return self._private[channel]

    def may_read(self, user_id: str, channel: str) -> bool | Failed:
        """True when `user_id` can read `channel` (it is public, or they are in it); Failed when Slack
        couldn't say whether it is private and they are not in it, or couldn't list its members."""
        private = self.is_private(channel)
        if private is False:
            return True
        if channel not in self._members:  # private, or not known: its members can read it either way
            listed = channel_members(self.slack, channel)
            if isinstance(listed, Failed):
                log.info("private channel=%s members not listed (%s)", channel, listed.error)
            self._members[channel] = listed if isinstance(listed, Failed) else frozenset(listed)
        members = self._members[channel]
        if isinstance(members, Failed):
            return members
        if isinstance(private, Failed) and user_id not in members:
            return private  # maybe a public channel anyone can read: not known
        return user_id in members


def open_group(slack: SlackGateway, users: list[str]) -> str | Failed:
    """The group DM of `users` and the app (the same one each time for the same people)."""
    try:
        opened = slack.client.conversations_open(users=",".join(users), return_im=False)
    except (SlackApiError, SlackClientError, OSError) as error:
        return Failed(error_code(error))
    channel = (opened.get("channel") or {}).get("id")
    return str(channel) if channel else Failed("no_channel")


DM_ONCE_EVENT = "peerlearn_dm_once"


def dm_once(slack: SlackGateway, user_id: str, text: str, blocks: list[dict[str, Any]], *, key: str) -> Posted | Failed:
    """A DM sent once per request `key`, however often its job runs: a rerun finds the DM an earlier
    run sent (by its metadata, in the app's DM with the person) instead of sending it again."""
    channel = open_group(slack, [user_id])
    if not isinstance(channel, Failed):
        found = slack.find_by_metadata(channel, DM_ONCE_EVENT, "key", key)
        if isinstance(found, Posted):
            return found
    metadata = {"event_type": DM_ONCE_EVENT, "event_payload": {"key": key}}
    return slack.post(user_id if isinstance(channel, Failed) else channel, text, blocks, metadata=metadata)
