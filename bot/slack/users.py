"""People as Slack knows them: names, time zones and rights, from the cheapest calls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.slack.acting import current_team
from bot.slack.results import CALL_ERRORS, Failed, error_code

log = logging.getLogger(__name__)


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
        # By workspace and person: the same person (an Enterprise Grid id) may be an admin in one
        # workspace and not in another, and one directory serves every workspace acted for.
        self._cache: dict[tuple[str | None, str], tuple[float, Person]] = {}
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
        except CALL_ERRORS as error:
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
        except CALL_ERRORS as error:
            log.warning("users.list failed error=%s; looking people up one by one", error_code(error))
        log.info("users.list pages=%s wanted=%s found=%s", pages, len(wanted), len(found))
        return found

    def load_all(self) -> None:
        """Deprecated (a Tier 2 call per 200 people of the whole workspace): use `lookup(user_ids)`,
        which sweeps only as far as it must."""
        self._sweep(set(), max_pages=10**6)

    def _cached(self, user_id: str, max_age: float) -> Person | None:
        with self._lock:
            cached = self._cache.get((current_team(), user_id))
        if cached is not None and self._clock() - cached[0] < max_age:
            return cached[1]
        return None

    def _remember(self, at: float, people: list[Person]) -> None:
        team_id = current_team()
        with self._lock:
            self._cache.update({(team_id, person.id): (at, person) for person in people})

    def admin_status(self, user_id: str, team_id: str) -> bool | Failed:
        """Whether the person may do what only admins may in the workspace `team_id`, asked of Slack
        now: an active admin or owner of that workspace, or listed in PEERLEARN_ADMINS. Failed when
        Slack couldn't say (user_not_found is a no). The team is required: on Enterprise Grid an
        admin of another workspace of the organisation can act in shared channels, and is no admin
        here."""
        if user_id in self._extra_admins:
            return True
        person = self.fetch(user_id, max_age=self._rights_ttl)
        if isinstance(person, Failed):
            return False if person.error == "user_not_found" else person
        same_team = person.team_id in (None, team_id)
        return person.is_admin and not person.deleted and same_team

    def is_admin(self, user_id: str, team_id: str) -> bool:
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
