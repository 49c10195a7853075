"""Where the app is installed, read for every request and every scheduled call: each workspace's
bot token, cached, refreshed before it expires, forgotten when the app is uninstalled.

- *Lookups* cost a dictionary read (the ack's budget is 3 s; this takes microseconds): a found
  installation is kept FOUND_SECONDS, a missing one MISSING_SECONDS, and dropped at once when this
  process learns better (an uninstall, a reinstall, a refresh, or Slack refusing the token). Another
  process's uninstall shows here within FOUND_SECONDS at most, and meanwhile only that workspace's
  own, now refused, token is tried: a lookup never falls back to another workspace's.
- *Rotation* (`token_rotation_enabled`): a token with less than `refresh_before` left is refreshed
  with `oauth.v2.access`. One process at a time asks Slack: it takes the bot row's refresh lease
  (a short transaction), asks Slack outside any transaction (no database lock is held while Slack
  answers, however slowly), then stores the new tokens compare-and-set on the refresh token it
  spent. The others meanwhile keep reading the row until the new token is there (at most
  WAIT_SECONDS; WAIT_IF_USABLE_SECONDS when their current token still works, which they then use).
  The call is never retried by the client: Slack's refresh tokens are single-use ("the refresh token
  is then revoked", docs.slack.dev/authentication/using-token-rotation), so a retried request that
  had reached Slack would spend it twice and be refused.
- *Refresh failures*: a refresh Slack refuses stores nothing, and is tried again RETRY_REFRESH_SECONDS
  later; meanwhile the current token serves until it expires. A failure that says nothing about the
  installation (network, timeout, 5xx, 429, any other error) only makes the workspace unserved while
  its token is expired: nothing is paused. Slack's definite answers (REFUSED: the refresh token or
  the installation is gone) for an expired token also tell `on_refused` (bot/uninstalled.py pauses
  the workspace's schedules and circles, "installing it again resumes this"); a later refresh that
  works tells `on_refreshed` (which resumes them: the refusal has cleared). A refresh answer lost on
  the way back (Slack refreshed, we timed out) leaves a spent refresh token stored: Slack refuses it
  from then on, so the workspace stops when its token expires, until it is installed again.
- *Enterprise Grid*: a workspace of an organisation-wide install has no row of its own; the
  organisation's token serves it. Requests say which organisation a workspace is of; that is kept
  (`enterprise_workspaces`) for the scheduler and the job worker, which have no request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from slack_sdk import WebClient

from bot.slack.results import CALL_ERRORS, error_code
from storage import installations as queries
from storage.db import Database
from storage.installations import Bot
from storage.leases import process_name
from storage.models import utcnow

log = logging.getLogger(__name__)

FOUND_SECONDS = 60.0
MISSING_SECONDS = 5.0
# Slack's bot tokens last 12 hours with rotation on; Bolt refreshes 2 hours before. So do we: a
# scheduler tick or a job always finds hours of validity left, whatever the clocks' drift.
REFRESH_BEFORE = timedelta(hours=2)
RETRY_REFRESH_SECONDS = 60.0  # after a refresh failed, the current token serves this long before the next try
# The refresh call's own timeout is 10 s, never retried: a lease of 30 s outlives it, and a dead
# holder's lease runs out for the next process to take.
REFRESH_LEASE = timedelta(seconds=30)
WAIT_SECONDS = 12.0  # how long a process whose token has expired waits for another's refresh
WAIT_IF_USABLE_SECONDS = 1.0  # ... and one whose token still works, before it goes on with that
POLL_SECONDS = 0.05
# Slack's answers to a refresh that say the installation's tokens are gone for good: reinstalling
# is the only way back (an uninstalled app's refresh token is refused with one of these too).
REFUSED = frozenset({"invalid_refresh_token", "token_revoked", "invalid_auth", "account_inactive"})


@dataclass(frozen=True)
class Refreshed:
    token: str
    refresh_token: str
    expires_at: datetime


class TokenRefresher:
    """oauth.v2.access with grant_type=refresh_token, as the app (client id and secret)."""

    def __init__(self, client_id: str, client_secret: str, api_url: str, clock: Callable[[], datetime] = utcnow):
        self.client_id = client_id
        self._secret = client_secret
        # As the app (no token), and never retried: a refresh token is good for one refresh, and a
        # request retried after its connection failed may have been the one Slack acted on.
        self._slack = WebClient(base_url=api_url, timeout=10, retry_handlers=[])
        self.clock = clock

    def refresh(self, refresh_token: str) -> Refreshed:
        answer = self._slack.oauth_v2_access(
            client_id=self.client_id,
            client_secret=self._secret,
            grant_type="refresh_token",
            refresh_token=refresh_token,
        )
        return Refreshed(
            token=str(answer["access_token"]),
            refresh_token=str(answer["refresh_token"]),
            expires_at=self.clock() + timedelta(seconds=int(answer["expires_in"])),
        )


InstallationHook = Callable[[str | None, str | None], None]  # (team_id, enterprise_id)
InstallationSaved = InstallationHook


class Installations:
    """Each workspace's installation, for this app (`client_id`), from the database and a cache."""

    def __init__(
        self,
        db: Database,
        client_id: str,
        *,
        refresher: TokenRefresher | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        refresh_before: timedelta = REFRESH_BEFORE,
        found_seconds: float = FOUND_SECONDS,
        missing_seconds: float = MISSING_SECONDS,
    ) -> None:
        self.db = db
        self.client_id = client_id
        self.refresher = refresher
        self.clock = clock
        self.monotonic = monotonic
        self.refresh_before = refresh_before
        self.found_seconds = found_seconds
        self.missing_seconds = missing_seconds
        # Called after an installation is saved (a first install or a reinstall), in this process.
        self.on_saved: list[InstallationSaved] = []
        # Called (team None: an organisation-wide install) when Slack refuses for good to refresh an
        # expired token, and when a refresh works: see the module's doc.
        self.on_refused: list[InstallationHook] = []
        self.on_refreshed: list[InstallationHook] = []
        self.wait_seconds = WAIT_SECONDS
        self._holder = process_name()
        self._cache: dict[str, tuple[float, Bot | None]] = {}
        self._lock = threading.Lock()
        self._enterprises_noted: set[str] = set()
        self._refresh_paused_until: dict[str, float] = {}

    def __str__(self) -> str:
        return "the workspaces it is installed in"

    # -- lookups -------------------------------------------------------------------------------

    def bot_for(self, team_id: str | None, enterprise_id: str | None = None) -> Bot | None:
        """The bot serving this workspace (its own install, or its organisation's), with a token
        that is not about to expire; None when the app is not installed there."""
        key = team_id if team_id is not None else f"enterprise:{enterprise_id}"
        now = self.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            bot = cached[1]
        else:
            bot = self._read(team_id, enterprise_id)
            with self._lock:
                self._cache[key] = (now + (self.found_seconds if bot else self.missing_seconds), bot)
        if bot is not None and team_id is not None and enterprise_id and bot.team_id is None:
            self._note_enterprise(team_id, enterprise_id)
        if bot is not None and self._expiring(bot):
            if self._refresh_paused_until.get(key, 0.0) <= now:
                bot = self._rotate(key, bot)
            elif bot.expires_at is not None and bot.expires_at <= self.clock():
                return None  # expired, and Slack refused its last refresh: it serves nobody meanwhile
        return bot

    def bot_token(self, team_id: str) -> str | None:
        bot = self.bot_for(team_id)
        return None if bot is None else bot.token

    def serves(self, team_id: str | None, enterprise_id: str | None = None) -> bool:
        return self.bot_for(team_id, enterprise_id) is not None

    def serves_team(self, team_id: str) -> bool:
        return self.bot_for(team_id) is not None

    def installed(self) -> list[tuple[str | None, str | None]]:
        """(team, enterprise) of every installation; team None for an organisation's."""
        with self.db.snapshot() as session:
            return queries.installed_teams(session, self.client_id)

    def _read(self, team_id: str | None, enterprise_id: str | None) -> Bot | None:
        with self.db.snapshot() as session:
            if team_id is not None and (own := queries.latest_bot(session, self.client_id, team_id)) is not None:
                return own
            organisation = enterprise_id or (queries.enterprise_of(session, team_id) if team_id else None)
            if organisation is None:
                return None
            return queries.latest_bot(session, self.client_id, None, organisation)

    def _note_enterprise(self, team_id: str, enterprise_id: str) -> None:
        if team_id in self._enterprises_noted:
            return
        with self.db.transaction() as session:
            queries.remember_enterprise(session, team_id, enterprise_id, self.clock())
        self._enterprises_noted.add(team_id)

    # -- rotation ------------------------------------------------------------------------------

    def _expiring(self, bot: Bot) -> bool:
        return bot.refresh_token is not None and (
            bot.expires_at is None or bot.expires_at - self.clock() < self.refresh_before
        )

    def _usable(self, bot: Bot) -> bool:
        return bot.expires_at is None or bot.expires_at > self.clock()

    def _rotate(self, key: str, bot: Bot) -> Bot | None:
        """Refresh an expiring token once, whoever else tries at the same time (see the module's doc)."""
        if self.refresher is None:
            log.error("team=%s: its token rotates, but no client secret is set to refresh it", bot.team_id)
            return bot if self._usable(bot) else None
        holder = f"{self._holder}:{threading.get_ident()}"  # each thread its own: one of them asks Slack
        started = time.monotonic()
        current: Bot | None = bot
        while True:
            with self.db.snapshot() as session:
                current = queries.bot_by_id(session, bot.row_id)
            if current is None or not self._expiring(current):
                break  # gone (uninstalled), or refreshed by another process meanwhile
            if (leased := self._take_lease(current.row_id, holder)) is not False:
                current = leased
                try:
                    if current is not None and self._expiring(current):  # read again under the lease
                        current = self._refresh(key, current)
                finally:
                    self._release_lease(bot.row_id, holder)
                break
            waited = time.monotonic() - started
            if waited > self.wait_seconds or (self._usable(current) and waited > WAIT_IF_USABLE_SECONDS):
                log.warning("team=%s: another process's token refresh took over %.0f s", bot.team_id, waited)
                current = current if self._usable(current) else None
                break
            time.sleep(POLL_SECONDS)
        with self._lock:
            lasts = self.found_seconds if current is not None else self.missing_seconds
            self._cache[key] = (self.monotonic() + lasts, current)
        return current

    def _take_lease(self, row_id: int, holder: str) -> Bot | Literal[False] | None:
        """The bot row as stored once its refresh lease is ours (read after taking it: a refresh
        finished just before is seen); False when another process holds the lease."""
        now = utcnow()  # leases run on the real clock: they are about processes, not schedules
        with self.db.transaction() as session:
            if not queries.take_refresh_lease(session, row_id, holder, now, now + REFRESH_LEASE):
                return False
            return queries.bot_by_id(session, row_id)

    def _release_lease(self, row_id: int, holder: str) -> None:
        with self.db.transaction() as session:
            queries.release_refresh_lease(session, row_id, holder)

    def _refresh(self, key: str, bot: Bot) -> Bot | None:
        """Ask Slack for a new token (holding the refresh lease, in no transaction) and store it."""
        assert self.refresher is not None
        assert bot.refresh_token is not None
        try:
            fresh = self.refresher.refresh(bot.refresh_token)
        except CALL_ERRORS as error:
            return self._refresh_failed(key, bot, error_code(error))
        with self.db.transaction() as session:
            stored = queries.store_rotated(
                session, bot, token=fresh.token, refresh_token=fresh.refresh_token, expires_at=fresh.expires_at
            )
        if not stored:  # our lease ran out and another process refreshed (or a reinstall came): theirs stands
            log.warning("team=%s enterprise=%s: refreshed token not stored, the row changed", bot.team_id,
                        bot.enterprise_id)  # fmt: skip
            with self.db.snapshot() as session:
                return queries.bot_by_id(session, bot.row_id)
        log.info("team=%s enterprise=%s: bot token refreshed", bot.team_id, bot.enterprise_id)
        self._refresh_paused_until.pop(key, None)
        self._tell(self.on_refreshed, bot)
        return replace(bot, token=fresh.token, refresh_token=fresh.refresh_token, expires_at=fresh.expires_at)

    def _refresh_failed(self, key: str, bot: Bot, code: str) -> Bot | None:
        self._refresh_paused_until[key] = self.monotonic() + RETRY_REFRESH_SECONDS  # not again at once
        refused = code in REFUSED
        if refused:  # spent meanwhile by another process (whose lease ran out before ours began)?
            with self.db.snapshot() as session:
                stored = queries.bot_by_id(session, bot.row_id)
            if stored is not None and stored.refresh_token != bot.refresh_token:
                return stored
        usable = self._usable(bot)
        log.error(
            "team=%s enterprise=%s: token refresh failed (%s); %s",
            bot.team_id, bot.enterprise_id, code,
            "using the current token until it expires" if usable
            else "its calls fail until it is installed again" if refused
            else "its calls wait for the next try",
        )  # fmt: skip
        if refused and not usable:
            self._tell(self.on_refused, bot)
        return bot if usable else None

    def _tell(self, hooks: list[InstallationHook], bot: Bot) -> None:
        for hook in hooks:
            try:
                hook(bot.team_id, bot.enterprise_id)
            except Exception:  # the token's state stands; a hook's trouble is only logged
                log.exception("team=%s enterprise=%s: a token hook failed", bot.team_id, bot.enterprise_id)

    # -- changes -------------------------------------------------------------------------------

    def forget(self, team_id: str) -> None:
        """Read this workspace's installation again at its next lookup (Slack refused its token)."""
        with self._lock:
            self._cache.pop(team_id, None)

    def forget_all(self) -> None:
        with self._lock:
            self._cache.clear()

    def saved(self, team_id: str | None, enterprise_id: str | None) -> None:
        """An installation was just saved: drop what the cache held, then tell whoever wants to know."""
        self._forget(team_id, enterprise_id)
        log.info("installed: team=%s enterprise=%s", team_id, enterprise_id)
        for hook in self.on_saved:
            try:
                hook(team_id, enterprise_id)
            except Exception:  # the install itself stands; one hook's trouble is only logged
                log.exception("after installing team=%s enterprise=%s: a hook failed", team_id, enterprise_id)

    def delete(
        self, team_id: str | None, enterprise_id: str | None, *, installed_before: datetime | None = None
    ) -> int:
        """Forget a workspace's installation (team None: an organisation-wide one), e.g. when Slack
        says the app was uninstalled or its tokens revoked. With `installed_before` (the event's
        time), a reinstall made after it stays. How many bot tokens were deleted; the cache of this
        process forgets them at once (others within FOUND_SECONDS, or at Slack's first refusal)."""
        with self.db.transaction() as session:
            deleted = queries.delete_installations(
                session, self.client_id, team_id, enterprise_id, installed_before=installed_before
            )
        self._forget(team_id, enterprise_id)
        log.info("uninstalled: team=%s enterprise=%s bot tokens deleted=%s", team_id, enterprise_id, deleted)
        return deleted

    def _forget(self, team_id: str | None, enterprise_id: str | None) -> None:
        with self._lock:
            if team_id is not None:
                self._cache.pop(team_id, None)
                return
            # An organisation's install serves all of its workspaces: forget every one.
            for key, (_, bot) in list(self._cache.items()):
                if key == f"enterprise:{enterprise_id}" or bot is None or bot.enterprise_id == enterprise_id:
                    self._cache.pop(key, None)
