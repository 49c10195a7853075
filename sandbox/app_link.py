"""Requests to the app, as Slack sends them: the same payloads, signed with the signing secret.

Slash commands and interactions are sent while the person waits (their ack is what the page shows).
Events go through a queue in order, are retried like Slack retries them (`X-Slack-Retry-Num`,
`X-Slack-Retry-Reason`) when the app does not answer 2xx within 3 seconds, and carry unique
`event_id`s.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from sandbox.workspace import SANDBOX, Team

log = logging.getLogger("peerlearn.sandbox")

ACK_TIMEOUT = 3.0  # Slack gives up on an answer after 3 s
EVENT_RETRY_DELAYS = (1.0, 5.0, 15.0)  # Slack: at once, after 1 min, after 5 min; shortened here


@dataclass
class Answer:
    status: int  # 0 when the app could not be reached or timed out
    body: bytes
    error: str | None = None  # "operation_timeout" / "dispatch_failed", as Slack words them

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class AppLink:
    def __init__(self, events_url: str, signing_secret: str, team: Team = SANDBOX) -> None:
        self.events_url = events_url
        self.team = team  # the workspace whose requests these are
        self._signer = SignatureVerifier(signing_secret)
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._deliver_events, name="sandbox-events", daemon=True)

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._events.put(None)
        self._worker.join(timeout=5)

    # -- requests --------------------------------------------------------------------------------

    def command(
        self,
        *,
        command: str,
        text: str,
        user: dict[str, Any],
        channel: dict[str, Any],
        response_url: str,
        trigger_id: str,
    ) -> Answer:
        form = {
            "token": "sandbox-verification-token",
            "team_id": self.team.id,
            "team_domain": self.team.domain,
            "channel_id": channel["id"],
            "channel_name": channel["name"],
            "user_id": user["id"],
            "user_name": user["name"],
            "command": command,
            "text": text,
            "api_app_id": self.team.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        return self.send(urlencode(form), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> Answer:
        base = {
            "team": {"id": self.team.id, "domain": self.team.domain},
            "api_app_id": self.team.app_id,
            "token": "sandbox-verification-token",
            "is_enterprise_install": False,
            "enterprise": None,
        }
        body = urlencode({"payload": json.dumps({**base, **payload})})
        return self.send(body, "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any]) -> None:
        """Queue an event for delivery; returns at once, as Slack's delivery is asynchronous."""
        now = time.time()
        self._events.put(
            {
                "token": "sandbox-verification-token",
                "team_id": self.team.id,
                "api_app_id": self.team.app_id,
                # A message's event_ts is its ts, as on Slack; other events get the time they happened.
                "event": {"event_ts": event.get("ts") or f"{now:.6f}", **event},
                "type": "event_callback",
                "event_id": "Ev" + secrets.token_hex(6).upper(),
                "event_time": int(now),
                "authorizations": [
                    {
                        "team_id": self.team.id,
                        "user_id": self.team.bot_user_id,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "event_context": secrets.token_hex(8),
            }
        )

    def pending(self) -> int:
        """Events queued or being delivered."""
        return self._events.unfinished_tasks

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued event was delivered (or given up on)."""
        waiter = threading.Thread(target=self._events.join, daemon=True)  # join() itself has no timeout
        waiter.start()
        waiter.join(timeout)

    def send(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> Answer:
        timestamp = str(int(time.time()))
        signed = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self._signer.generate_signature(timestamp=timestamp, body=body) or "",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        request = urllib.request.Request(  # noqa: S310 - the URL is the app's own, built by the launcher
            self.events_url, data=body.encode(), method="POST", headers={**signed, **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=ACK_TIMEOUT) as response:  # noqa: S310
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read(), "dispatch_failed")
        except TimeoutError:
            return Answer(0, b"", "operation_timeout")
        except urllib.error.URLError as error:
            timed_out = isinstance(error.reason, TimeoutError)
            return Answer(0, b"", "operation_timeout" if timed_out else "dispatch_failed")

    # -- event delivery --------------------------------------------------------------------------

    def _deliver_events(self) -> None:
        while (envelope := self._events.get()) is not None:
            try:
                self._deliver(envelope)
            finally:
                self._events.task_done()
        self._events.task_done()

    def _deliver(self, envelope: dict[str, Any]) -> None:
        body = json.dumps(envelope)
        answer = self.send(body, "application/json")
        for attempt, delay in enumerate(EVENT_RETRY_DELAYS, start=1):
            if 200 <= answer.status < 300:
                return
            reason = "http_timeout" if answer.error == "operation_timeout" else "http_error"
            log.warning(
                "event %s: app answered %s, retry %s in %.0fs", envelope["event_id"], answer.status, attempt, delay
            )
            time.sleep(delay)
            answer = self.send(
                body, "application/json", {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason}
            )
        if not 200 <= answer.status < 300:
            log.error("event %s (%s) dropped after retries", envelope["event_id"], envelope["event"]["type"])
