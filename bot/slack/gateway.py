"""The Slack Web API calls Peerlearn makes, with Slack's expected failures turned into values.

429 (Retry-After), 5xx and connection errors are retried inside the WebClient by slack_sdk's
retry handlers (see `build_client`); what still fails comes back here as an error code that the
caller turns into a message for the person, so nothing fails silently.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
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
    team_id: str | None = None
    is_bot: bool = False  # bots and Slackbot: never paired, never asked


class UserDirectory:
    """People as Slack knows them, from the cheapest calls for the number asked about.

    - One person: users.info (Tier 4), remembered for `ttl_seconds` (names, time zones).
    - Rights: `is_admin`/`admin_status` ask Slack again at every check (an answer at most
      `rights_ttl_seconds` old, 0 by default), so a demoted admin loses their rights at once,
      whatever the cache holds. PEERLEARN_ADMINS (`extra_admins`) need no call.
    - Many people (`lookup`): users.info each for up to ONE_BY_ONE of them; beyond that, users.list
      pages (Tier 2, 200 people each) until everyone asked about is found, but never more pages
      than one per LIST_PAGE_WORTH people still missing (a Tier 2 call costs about five Tier 4
      ones, so each page must save at least twice that); whoever is left is asked one by one.
    """

    ONE_BY_ONE = 20
    LIST_PAGE = 200
    LIST_PAGE_WORTH = 10

    def __init__(
        self,
        client: WebClient,
        extra_admins: frozenset[str],
        ttl_seconds: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        rights_ttl_seconds: float = 0.0,
    ) -> None:
        self._client = client
        self._extra_admins = extra_admins
        self._ttl = ttl_seconds
        self._rights_ttl = rights_ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, Person]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str, *, max_age: float | None = None) -> Person | None:
        """The person, from the cache when it is younger than `max_age` (default: the TTL); None
        when Slack doesn't know them or can't be asked (a failed lookup is not remembered)."""
        found = self.fetch(user_id, max_age=max_age)
        return None if isinstance(found, Failed) else found

    def fetch(self, user_id: str, *, max_age: float | None = None) -> Person | Failed:
        """`get` with Slack's error code when the lookup fails (user_not_found, ratelimited, ...)."""
        if (cached := self._cached(user_id, self._ttl if max_age is None else max_age)) is not None:
            return cached
        now = self._clock()
        try:
            person = _person(self._client.users_info(user=user_id)["user"])
        except _CALL_ERRORS as error:
            log.warning("users.info failed user=%s error=%s", user_id, error_code(error))
            return Failed(error_code(error))
        self._remember(now, [person])
        return person

    def lookup(self, user_ids: Collection[str]) -> dict[str, Person]:
        """Everyone in `user_ids` Slack could tell us about, with as few calls as their number allows."""
        wanted = set(user_ids)
        found = {user_id: person for user_id in wanted if (person := self._cached(user_id, self._ttl))}
        missing = wanted - found.keys()
        if len(missing) > self.ONE_BY_ONE:
            found |= self._sweep(missing, max_pages=len(missing) // self.LIST_PAGE_WORTH)
            missing -= found.keys()
        for user_id in sorted(missing):
            if (person := self.get(user_id)) is not None:
                found[user_id] = person
        return found

    def _sweep(self, wanted: set[str], *, max_pages: int) -> dict[str, Person]:
        """users.list pages, followed with slack_sdk's cursor iteration, until `wanted` is covered."""
        now, pages = self._clock(), 0
        found: dict[str, Person] = {}
        try:
            for page in self._client.users_list(limit=self.LIST_PAGE):
                people = [_person(user) for user in page.get("members") or []]
                self._remember(now, people)
                found |= {person.id: person for person in people if person.id in wanted}
                pages += 1
                if (wanted and len(found) == len(wanted)) or pages >= max_pages:
                    break
        except _CALL_ERRORS as error:
            log.warning("users.list failed error=%s; looking people up one by one", error_code(error))
        log.info("users.list pages=%s wanted=%s found=%s", pages, len(wanted), len(found))
        return found

    def load_all(self) -> None:
        """Deprecated (a Tier 2 call per 200 people of the whole workspace): use `lookup(user_ids)`,
        which sweeps only as far as it must."""
        self._sweep(set(), max_pages=10**6)

    def _cached(self, user_id: str, max_age: float) -> Person | None:
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None and self._clock() - cached[0] < max_age:
            return cached[1]
        return None

    def _remember(self, at: float, people: list[Person]) -> None:
        with self._lock:
            self._cache.update({person.id: (at, person) for person in people})

    def admin_status(self, user_id: str, team_id: str | None = None) -> bool | Failed:
        """Whether the person may do what only admins may, asked of Slack now: an active admin or
        owner of the workspace `team_id` (when given), or listed in PEERLEARN_ADMINS. Failed when
        Slack couldn't say (user_not_found is a no)."""
        if user_id in self._extra_admins:
            return True
        person = self.fetch(user_id, max_age=self._rights_ttl)
        if isinstance(person, Failed):
            return False if person.error == "user_not_found" else person
        same_team = team_id is None or person.team_id in (None, team_id)
        return person.is_admin and not person.deleted and same_team

    def is_admin(self, user_id: str, team_id: str | None = None) -> bool:
        """`admin_status`, with a lookup that failed counting as no."""
        return self.admin_status(user_id, team_id) is True

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
        team_id=user.get("team_id"),
        is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
    )
