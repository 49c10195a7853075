"""The Slack Web API calls Peerlearn makes, with Slack's expected failures turned into values.

429 (Retry-After), 5xx and connection errors are retried inside the WebClient by slack_sdk's
retry handlers (see `build_client`); what still fails comes back here as an error code that the
caller turns into a message for the person, so nothing fails silently.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack.pacing import PacedRateLimitRetryHandler, PostPacer

log = logging.getLogger(__name__)

Message = dict[str, Any]
CHANNELS_PER_PAGE = 200  # conversations.list: Slack's recommended page size (it must be under 1000)
_T = TypeVar("_T")


def build_client(token: str, base_url: str, *, max_retries: int = 3, pacer: PostPacer | None = None) -> WebClient:
    """A WebClient that retries connection errors, 429s (after Retry-After) and 5xx.

    With a `pacer`, a retried 429 waits for a fresh pacing slot too (bulk posting).
    """
    client = WebClient(token=token, base_url=base_url, timeout=10)
    rate_limits = (
        RateLimitErrorRetryHandler(max_retry_count=max_retries)
        if pacer is None
        else PacedRateLimitRetryHandler(pacer, max_retry_count=max_retries)
    )
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        rate_limits,
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]
    return client


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


@dataclass(frozen=True)
class Failed:
    error: str  # Slack's error code, e.g. channel_not_found, is_archived, ratelimited


def error_code(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        return str(code or f"http_{error.response.status_code}")
    return "connection_failed"


# Failures of a single call that are Slack's answer rather than our bug.
_CALL_ERRORS = (SlackApiError, SlackClientError, URLError, TimeoutError, ConnectionError)


class SlackGateway:
    def __init__(self, client: WebClient) -> None:
        self.client = client

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

        outcome = self._joining_if_needed(channel, post_once)
        return Failed(outcome) if isinstance(outcome, str) else outcome

    def _joining_if_needed(self, channel: str, call: Callable[[], _T]) -> _T | str:
        """Run `call`; on not_in_channel join the (public) channel and run it once more. str = error code."""
        try:
            return call()
        except _CALL_ERRORS as error:
            code = error_code(error)
        if code != "not_in_channel":
            return code
        joined = self.join(channel)
        if joined is not None:
            # A private channel answers method_not_supported_for_channel_type: Slack's word for "invite me".
            return "not_in_channel" if joined == "method_not_supported_for_channel_type" else joined
        try:
            return call()
        except _CALL_ERRORS as error:
            return error_code(error)

    def join(self, channel: str) -> str | None:
        try:
            self.client.conversations_join(channel=channel)
        except _CALL_ERRORS as error:
            return error_code(error)
        return None

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except _CALL_ERRORS as error:
            log.warning("permalink unavailable channel=%s ts=%s error=%s", channel, ts, error_code(error))
            return None

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
        except _CALL_ERRORS as error:
            return Failed(error_code(error))
        return Failed("message_not_found")

    def find_by_metadata(
        self, channel: str, event_type: str, key: str, value: object, *, oldest: float | None = None
    ) -> str | None:
        """The ts of a message among the channel's latest 100 that carries this metadata (else None).

        With `oldest`, only messages since then (callers allow for clocks that disagree a little).
        """
        since = None if oldest is None else f"{max(oldest, 0.0):.6f}"
        try:
            history = self.client.conversations_history(
                channel=channel, limit=100, include_all_metadata=True, oldest=since
            )
        except _CALL_ERRORS as error:
            log.warning("history check failed channel=%s error=%s", channel, error_code(error))
            return None
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == event_type and (metadata.get("event_payload") or {}).get(key) == value:
                return str(message["ts"])
        return None

    def find_reply_by_metadata(
        self, channel: str, thread_ts: str, event_type: str, payload: dict[str, Any]
    ) -> str | None:
        """The ts of a reply in a thread whose metadata carries `payload` (else None).

        conversations.replies may be Tier 1 for some apps: call it only when a post may have been made.
        """
        try:
            replies = self.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=200, include_all_metadata=True
            )
        except _CALL_ERRORS as error:
            log.warning("thread check failed channel=%s error=%s", channel, error_code(error))
            return None
        for message in replies.get("messages") or []:
            metadata = message.get("metadata") or {}
            found = metadata.get("event_payload") or {}
            if metadata.get("event_type") == event_type and all(found.get(k) == v for k, v in payload.items()):
                return str(message["ts"])
        return None

    def channel_info(self, channel: str) -> Message | Failed:
        try:
            return dict(self.client.conversations_info(channel=channel)["channel"])
        except _CALL_ERRORS as error:
            return Failed(error_code(error))

    def find_channel(self, name: str) -> str | None:
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
        except _CALL_ERRORS as error:
            log.warning("conversations.list failed error=%s", error_code(error))
        return None

    def add_reaction(self, channel: str, ts: str, name: str) -> str | None:
        """React to a message (joining a public channel if needed); an error code, or None when done."""

        def react() -> None:
            try:
                self.client.reactions_add(channel=channel, timestamp=ts, name=name)
            except SlackApiError as error:
                if error_code(error) != "already_reacted":
                    raise

        outcome = self._joining_if_needed(channel, react)
        return outcome if isinstance(outcome, str) else None

    def remove_reaction(self, channel: str, ts: str, name: str) -> str | None:
        try:
            self.client.reactions_remove(channel=channel, timestamp=ts, name=name)
        except _CALL_ERRORS as error:
            code = error_code(error)
            return None if code == "no_reaction" else code
        return None

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> str | None:
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except _CALL_ERRORS as error:
            return error_code(error)
        return None

    def delete_message(self, channel: str, ts: str) -> str | None:
        try:
            self.client.chat_delete(channel=channel, ts=ts)
        except _CALL_ERRORS as error:
            code = error_code(error)
            return None if code == "message_not_found" else code
        return None

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except _CALL_ERRORS as error:
            return error_code(error)
        return None

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Show `view` on the person's Home tab. Failures raise: the error handler logs them, since
        nobody is waiting on an answer (the tab keeps its last view)."""
        self.client.views_publish(user_id=user_id, view=view)

    def tell(self, user: str, text: str, *, channel: str | None = None) -> None:
        """Tell one person something: ephemeral in `channel` when possible, else in their DM with the app."""
        if channel:
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except _CALL_ERRORS as error:
                log.info("ephemeral failed, using DM user=%s channel=%s error=%s", user, channel, error_code(error))
        try:
            self.client.chat_postMessage(channel=user, text=text)
        except _CALL_ERRORS as error:
            log.warning("could not reach user=%s error=%s", user, error_code(error))


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    is_admin: bool
    timezone: str | None
    deleted: bool


class UserDirectory:
    """users.info with a short cache: admin checks and names without a call per request."""

    def __init__(
        self,
        client: WebClient,
        extra_admins: frozenset[str],
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._extra_admins = extra_admins
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, Person | None]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> Person | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        person = self._fetch(user_id)
        if person is not None:  # a failed lookup is asked again next time, not remembered
            with self._lock:
                self._cache[user_id] = (now, person)
        return person

    def load_all(self) -> None:
        """Fill the cache from users.list, 200 people a call: for looking up many people at once
        (users.info is Tier 4: one call each would take minutes for a large circle)."""
        now, cursor = self._clock(), None
        try:
            while True:
                page = self._client.users_list(limit=200, cursor=cursor)
                people = {user["id"]: _person(user) for user in page.get("members") or []}
                with self._lock:
                    self._cache.update({user_id: (now, person) for user_id, person in people.items()})
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return
        except _CALL_ERRORS as error:
            log.warning("users.list failed error=%s; looking people up one by one", error_code(error))

    def _fetch(self, user_id: str) -> Person | None:
        try:
            user = self._client.users_info(user=user_id)["user"]
        except _CALL_ERRORS as error:
            log.warning("users.info failed user=%s error=%s", user_id, error_code(error))
            return None
        return _person(user)

    def is_admin(self, user_id: str) -> bool:
        if user_id in self._extra_admins:
            return True
        person = self.get(user_id)
        return person is not None and person.is_admin

    def name(self, user_id: str) -> str | None:
        person = self.get(user_id)
        return person.name if person else None


def _person(user: dict[str, Any]) -> Person:
    profile = user.get("profile") or {}
    user_id = str(user["id"])
    return Person(
        id=user_id,
        name=profile.get("display_name") or user.get("real_name") or user.get("name") or user_id,
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        timezone=user.get("tz"),
        deleted=bool(user.get("deleted")),
    )
