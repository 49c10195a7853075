"""The HTTP edge: what a request must be before Bolt sees it.

Bolt's WSGI adapter reads the whole body whatever its size, parses it before checking the signature
(so invalid JSON, a JSON array or invalid UTF-8 became 500s) and logs a refused body whole. Here a
request is refused, cheapest check first, with one log line and no body in it:
  413  declared or streamed body over `MAX_BODY_BYTES` (never read past the limit);
  400  Content-Length that is not a number;
  401  missing, stale or wrong signature, or a timestamp that is not a number;
  400  signed, but not what Slack sends: not UTF-8, another content type, a body that is not an object.
Bolt then verifies the signature again (its check stays on) and dispatches.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.error import BoltError

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

# Slack's payloads are a few kilobytes; the largest (a modal's state, a message with 50 blocks)
# stay well under this.
MAX_BODY_BYTES = 1 << 20
MAX_REQUEST_AGE_SECONDS = 300  # Slack's rule, and Bolt's
SLACK_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
_TIMESTAMP = re.compile(rb"[0-9]{1,15}")
_LENGTH = re.compile(r"[0-9]+")  # not str.isdigit, which takes "²"
_SIGNATURE = re.compile(rb"v0=[0-9a-f]{64}")
_READ_SIZE = 64 * 1024
# What Bolt raises while reading a body that parses but is not shaped like Slack's (a list where it
# expects an object, a string for `team`, nesting too deep to parse).
_UNREADABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError, BoltError)


class Refused(Exception):
    """A request answered before Bolt: its status and the reason logged (never the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SlackEdge:
    """A WSGI app for `POST /slack/events`: bounded reading and the checks above, then Bolt."""

    def __init__(
        self,
        bolt_app: App,
        signing_secret: str,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bolt_app = bolt_app
        self._secret = signing_secret.encode()
        self.max_body_bytes = max_body_bytes
        self.clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            request = self.bolt_request(environ)
        except Refused as refused:
            log.info(
                "refused request: %s (status %s, content-type %.60r, from %s)",
                refused.reason,
                refused.status,
                environ.get("CONTENT_TYPE", ""),
                environ.get("REMOTE_ADDR", "?"),
            )
            return _answer(start_response, WsgiHttpResponse(refused.status, _JSON, '{"error":"invalid request"}'))
        response = self.bolt_app.dispatch(request)
        return _answer(start_response, WsgiHttpResponse(response.status, response.headers, response.body))

    def bolt_request(self, environ: WSGIEnvironment) -> BoltRequest:
        raw = self.read_body(environ)
        self.verify(environ, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "signed, but the body is not UTF-8") from None
        content_type = str(environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
        if raw and content_type not in SLACK_CONTENT_TYPES:
            raise Refused(400, "signed, but not a content type Slack sends")
        try:
            request = BoltRequest(
                body=text, query=environ.get("QUERY_STRING", ""), headers=WsgiHttpRequest(environ).get_headers()
            )
        except _UNREADABLE as error:
            raise Refused(400, f"signed, but not a body Slack sends ({error.__class__.__name__})") from None
        if not isinstance(request.body, dict) or not _payload_is_object(request.body):
            raise Refused(400, "signed, but not a body Slack sends (not an object)")
        return request

    def read_body(self, environ: WSGIEnvironment) -> bytes:
        """The body, never reading more than the limit: a declared length over it is refused unread,
        and a chunked body is read only until it passes the limit."""
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        stream = environ.get("wsgi.input")
        if declared:
            if not _LENGTH.fullmatch(declared):
                raise Refused(400, "Content-Length is not a number")
            length = int(declared)
            if length > self.max_body_bytes:
                raise Refused(413, f"body of {length} bytes, over the {self.max_body_bytes}-byte limit")
            return _read(stream, length) if stream is not None and length else b""
        chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
        if stream is None or not (chunked or environ.get("wsgi.input_terminated")):
            return b""  # no length and no end marker: PEP 3333 says read nothing
        body = _read(stream, self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            raise Refused(413, f"chunked body over the {self.max_body_bytes}-byte limit")
        return body

    def verify(self, environ: WSGIEnvironment, raw: bytes) -> None:
        """Slack's signing rule on the raw bytes (so any body, even one that is not UTF-8, is checked
        without decoding it first)."""
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")).encode("latin-1", "replace")
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE", "")).encode("latin-1", "replace")
        if not timestamp:
            raise Refused(401, "no X-Slack-Request-Timestamp")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Refused(401, "X-Slack-Request-Timestamp is not a number")
        if abs(self.clock() - int(timestamp)) > MAX_REQUEST_AGE_SECONDS:
            raise Refused(401, "timestamp more than 5 minutes away")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused(401, "no valid X-Slack-Signature")
        expected = hmac.new(self._secret, b"v0:" + timestamp + b":" + raw, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(b"v0=" + expected, signature):
            raise Refused(401, "signature does not match")


_JSON: dict[str, Sequence[str]] = {"content-type": ["application/json"]}


def _payload_is_object(body: dict[str, object]) -> bool:
    """The parts Bolt reads as objects are objects (or null) in everything Slack sends; a forged list
    or string there would fail deep inside Bolt's dispatch, as a 500."""
    return all(isinstance(body.get(key), dict | None) for key in _OBJECT_PARTS)


_OBJECT_PARTS = ("event", "view", "team", "user", "channel", "container", "message")


def _read(stream: object, limit: int) -> bytes:
    parts: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, _READ_SIZE))  # type: ignore[attr-defined]
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _answer(start_response: StartResponse, response: WsgiHttpResponse) -> Iterable[bytes]:
    start_response(response.status, response.get_headers())
    return response.get_body()
