"""The Slack Web API calls Peerlearn makes, with Slack's expected failures turned into values.

429 (Retry-After), 5xx and connection errors are retried inside the WebClient by slack_sdk's
retry handlers (see bot/slack/client.py), except that a 429 met while deferring (the scheduler's
posts, the job worker's jobs) raises RateLimited, which is not caught here: it goes up to whoever
puts the work back (bot/slack/ratelimits.py). What still fails comes back as `Failed` with Slack's
error code, which the caller turns into a message for the person, so nothing fails silently.
Every call follows bot/slack/results.py's convention: `Thing | Failed` for a call that produces
something, `Failed | None` for one that only acts, `Thing | Failed | None` for a lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack import uploads
from bot.slack.results import CALL_ERRORS, Failed, Message, Posted, Uploaded, error_code

log = logging.getLogger(__name__)

CHANNELS_PER_PAGE = 200  # conversations.list: Slack's recommended page size (it must be under 1000)
_T = TypeVar("_T")


POST_RETRIES = 2  # after a dropped connection or a 5xx, each retry first looks for the message


def _may_have_acted(error: BaseException) -> bool:
    """A failure after which Slack may have carried the call out: no answer, or a 5xx."""
    if isinstance(error, SlackApiError):
        return int(error.response.status_code) >= 500
    return isinstance(error, OSError | SlackClientError)


class SlackGateway:
    def __init__(self, client: WebClient, *, upload_delays: tuple[float, ...] = uploads.SEND_DELAYS) -> None:
        self.client = client
        self.upload_delays = upload_delays  # before each new try of sending a file's bytes

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Posted | Failed:
        """Post a message; if the bot is not in a public channel, join it and post again."""

        def post_once() -> Posted:
            # Unfurls off: the tip is the message. Never link_names or parse=full with user text.
            response = self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
            return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

        def post_looking_first() -> Posted:
            # The client does not retry a post blindly (bot/slack/client.py): after a dropped connection
            # or a 5xx Slack may have posted already. A message with metadata is looked for, and posted
            # again only when it is not there; one without is left to the caller.
            for attempt in range(POST_RETRIES + 1):
                try:
                    return post_once()
                except CALL_ERRORS as error:
                    if attempt == POST_RETRIES or not metadata or not _may_have_acted(error):
                        raise
                    found = self._posted_with(channel, thread_ts, metadata)
                    if isinstance(found, Posted):
                        return found
                    if isinstance(found, Failed):  # could not look: better unposted than posted twice
                        raise
            raise AssertionError("unreachable")

        return self._joining_if_needed(channel, post_looking_first)

    def upload_file(
        self,
        channel: str,
        content: BinaryIO,
        length: int,
        *,
        filename: str,
        title: str,
        comment: str,
        ticketed: Callable[[str], None] | None = None,
    ) -> Uploaded | Failed:
        """Upload `length` bytes from `content` (read in blocks, from the start) and share them in
        `channel` with `comment`: Slack's three steps (bot/slack/uploads.py). `ticketed(file_id)` runs
        once Slack has named the file, before it is shared, so a caller can record it: a rerun then
        looks for that file (`find_upload`) instead of sharing a second one."""
        ticket = uploads.ticket(self.client, filename, length)
        if isinstance(ticket, Failed):
            return ticket
        if ticketed is not None:
            ticketed(ticket.file_id)
        if (sent := uploads.send(ticket, content, length, delays=self.upload_delays)) is not None:
            return sent
        for attempt in range(POST_RETRIES + 1):
            try:
                return uploads.complete(self.client, ticket, channel, title, comment)
            except CALL_ERRORS as error:
                if attempt == POST_RETRIES or not _may_have_acted(error):
                    return Failed(error_code(error))
                found = self.find_upload(channel, ticket.file_id)
                if isinstance(found, Uploaded):
                    return found
                if isinstance(found, Failed):  # could not look: better unshared than shared twice
                    return Failed(error_code(error))
        raise AssertionError("unreachable")

    def find_upload(self, channel: str, file_id: str) -> Uploaded | Failed | None:
        """The message among the conversation's latest 100 that shares `file_id`; None when none does."""
        return uploads.find(self.client, channel, file_id)

    def _posted_with(self, channel: str, thread_ts: str | None, metadata: dict[str, Any]) -> Posted | Failed | None:
        event_type, payload = str(metadata.get("event_type")), dict(metadata.get("event_payload") or {})
        if thread_ts:
            return self.find_reply_by_metadata(channel, thread_ts, event_type, payload)
        if not payload:
            return None
        key, value = next(iter(payload.items()))
        return self.find_by_metadata(channel, event_type, key, value)

    def _joining_if_needed(self, channel: str, call: Callable[[], _T]) -> _T | Failed:
        """Run `call`; on not_in_channel join the (public) channel and run it once more."""
        try:
            return call()
        except CALL_ERRORS as error:
            code = error_code(error)
        if code != "not_in_channel":
            return Failed(code)
        if (joined := self.join(channel)) is not None:
            # A private channel answers method_not_supported_for_channel_type: Slack's word for "invite me".
            return Failed("not_in_channel") if joined.error == "method_not_supported_for_channel_type" else joined
        try:
            return call()
        except CALL_ERRORS as error:
            return Failed(error_code(error))

    def _act(self, call: Callable[[], object], *, fine: str | None = None) -> Failed | None:
        """Run a call that only acts; `fine` is an error code that means it is already done."""
        try:
            call()
        except CALL_ERRORS as error:
            code = error_code(error)
            return None if code == fine else Failed(code)
        return None

    def join(self, channel: str) -> Failed | None:
        return self._act(lambda: self.client.conversations_join(channel=channel))

    def permalink(self, channel: str, ts: str) -> str | Failed:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except CALL_ERRORS as error:
            log.warning("permalink unavailable channel=%s ts=%s error=%s", channel, ts, error_code(error))
            return Failed(error_code(error))

    def fetch_message(self, channel: str, ts: str) -> Message | Failed:
        """One message by its ts, top-level or in a thread, fetching no more than needed."""
        try:
            history = self.client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
            for message in history.get("messages") or []:
                if message.get("ts") == ts:
                    return dict(message)
            # A reply: Slack returns the thread's parent first, then replies from `oldest` on.
            replies = self.client.conversations_replies(channel=channel, ts=ts, oldest=ts, inclusive=True, limit=2)
            for message in replies.get("messages") or []:
                if message.get("ts") == ts:
                    return dict(message)
        except CALL_ERRORS as error:
            return Failed(error_code(error))
        return Failed("message_not_found")

    def find_by_metadata(
        self, channel: str, event_type: str, key: str, value: object, *, oldest: float | None = None
    ) -> Posted | Failed | None:
        """A message among the channel's latest 100 that carries this metadata; None when none does.

        With `oldest`, only messages since then (callers allow for clocks that disagree a little).
        """
        since = None if oldest is None else f"{max(oldest, 0.0):.6f}"
        try:
            history = self.client.conversations_history(
                channel=channel, limit=100, include_all_metadata=True, oldest=since
            )
        except CALL_ERRORS as error:
            log.warning("history check failed channel=%s error=%s", channel, error_code(error))
            return Failed(error_code(error))
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == event_type and (metadata.get("event_payload") or {}).get(key) == value:
                return Posted(channel, str(message["ts"]))
        return None

    def find_reply_by_metadata(
        self, channel: str, thread_ts: str, event_type: str, payload: dict[str, Any]
    ) -> Posted | Failed | None:
        """A reply in a thread whose metadata carries `payload`; None when none does.

        conversations.replies may be Tier 1 for some apps: call it only when a post may have been made.
        """
        try:
            replies = self.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=200, include_all_metadata=True
            )
        except CALL_ERRORS as error:
            log.warning("thread check failed channel=%s error=%s", channel, error_code(error))
            return Failed(error_code(error))
        for message in replies.get("messages") or []:
            metadata = message.get("metadata") or {}
            found = metadata.get("event_payload") or {}
            if metadata.get("event_type") == event_type and all(found.get(k) == v for k, v in payload.items()):
                return Posted(channel, str(message["ts"]))
        return None

    def find_in_thread(
        self, channel: str, thread_ts: str, wanted: Callable[[Message], bool], *, oldest: str | None = None
    ) -> Message | Failed | None:
        """The first reply of a thread (from `oldest` on) that `wanted` accepts, with its blocks and
        metadata; None when none does. Pages through a long thread; conversations.replies may be Tier 1
        for some apps: call it only when needed."""
        try:
            pages = self.client.conversations_replies(
                channel=channel, ts=thread_ts, oldest=oldest, inclusive=True, limit=200, include_all_metadata=True
            )
            for page in pages:
                for message in page.get("messages") or []:
                    if message.get("ts") != thread_ts and wanted(message):
                        return dict(message)
        except CALL_ERRORS as error:
            log.warning("thread read failed channel=%s error=%s", channel, error_code(error))
            return Failed(error_code(error))
        return None

    def channel_info(self, channel: str) -> Message | Failed:
        try:
            return dict(self.client.conversations_info(channel=channel)["channel"])
        except CALL_ERRORS as error:
            return Failed(error_code(error))

    def find_channel(self, name: str) -> str | Failed | None:
        """A channel id by name (public, or private ones the bot is in), page by page until found.

        Slack wants `limit` under 1000 and recommends at most 200; slack_sdk's response follows the
        cursors itself when iterated."""
        try:
            for page in self.client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=CHANNELS_PER_PAGE
            ):
                for channel in page.get("channels") or []:
                    if channel.get("name") == name:
                        return str(channel["id"])
        except CALL_ERRORS as error:
            log.warning("conversations.list failed error=%s", error_code(error))
            return Failed(error_code(error))
        return None

    def add_reaction(self, channel: str, ts: str, name: str) -> Failed | None:
        """React to a message (joining a public channel if needed)."""

        def react() -> None:
            try:
                self.client.reactions_add(channel=channel, timestamp=ts, name=name)
            except SlackApiError as error:
                if error_code(error) != "already_reacted":
                    raise

        outcome = self._joining_if_needed(channel, react)
        return outcome if isinstance(outcome, Failed) else None

    def remove_reaction(self, channel: str, ts: str, name: str) -> Failed | None:
        return self._act(
            lambda: self.client.reactions_remove(channel=channel, timestamp=ts, name=name), fine="no_reaction"
        )

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Failed | None:
        return self._act(lambda: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks))

    def delete_message(self, channel: str, ts: str) -> Failed | None:
        return self._act(lambda: self.client.chat_delete(channel=channel, ts=ts), fine="message_not_found")

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> Failed | None:
        return self._act(lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def update_view(self, view_id: str, view: dict[str, Any]) -> Failed | None:
        """Redraw an open modal (its id from the request that acted in it)."""
        return self._act(lambda: self.client.views_update(view_id=view_id, view=view))

    def update_view_named(self, external_id: str, view: dict[str, Any]) -> Failed | None:
        """Redraw the open modal the app opened with this `external_id` (a form filled in after the
        ack that opened it)."""
        return self._act(lambda: self.client.views_update(external_id=external_id, view=view))

    def publish_home(self, user_id: str, view: dict[str, Any]) -> Failed | None:
        """Show `view` on the person's Home tab (on failure the tab keeps its last view)."""
        return self._act(lambda: self.client.views_publish(user_id=user_id, view=view))

    def tell(self, user: str, text: str, *, channel: str | None = None) -> Failed | None:
        """Tell one person something: ephemeral in `channel` when possible, else in their DM with the app.

        Failed only when neither reached them (already logged: callers usually have nobody else to tell)."""
        if channel:
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=text)
                return None
            except CALL_ERRORS as error:
                log.info("ephemeral failed, using DM user=%s channel=%s error=%s", user, channel, error_code(error))
        try:
            self.client.chat_postMessage(channel=user, text=text)
        except CALL_ERRORS as error:
            log.warning("could not reach user=%s error=%s", user, error_code(error))
            return Failed(error_code(error))
        return None
