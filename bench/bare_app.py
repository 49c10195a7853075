"""A Bolt app that only acknowledges, served exactly like Peerlearn: http_load.py's ceiling.

Same settings (environment), same WebClient, same Bolt options (process_before_response=True,
signature verification), same WSGI wrapper and the same gunicorn configuration through
`runtime.serving.serve_http`; only the listeners differ: `/tip` calls ack() and nothing else, and
`reaction_added` does nothing. Run by http_load.py as `python bench/bare_app.py` with the app's env.

With BARE_APP_QUEUE=1 each request's work is also stored as Peerlearn stores it before its ack (a
lazy listener that does nothing, queued through runtime.serving.queue_lazy_listeners and
runtime.jobs.JobQueue: the same group commit): the ack-only cost plus the durable enqueue, and none of
Peerlearn's own listeners, so http_load.py can tell the two parts of the real app's extra cost apart.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

import benchlib  # noqa: F401  (puts the repository root on sys.path)
from slack_bolt import Ack, App

from bot.slack.client import build_client
from runtime.jobs import JobQueue
from runtime.serving import queue_lazy_listeners, serve_http, wsgi_app
from runtime.settings import ConfigError, Settings, configure_logging
from storage.db import Database

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication


def build_bare_app(settings: Settings, queue: JobQueue | None = None) -> App:
    app = App(
        client=build_client(settings.bot_token, settings.slack_api_url),
        signing_secret=settings.signing_secret,
        logger=logging.getLogger("bare.bolt"),
        process_before_response=True,
    )
    if queue is not None:
        queue_lazy_listeners(app, queue)

    def later() -> None:  # never run: nothing drains this app's queue
        pass

    def on_tip(ack: Ack) -> None:
        ack()

    def on_reaction_added() -> None:
        pass

    if queue is None:
        app.command("/tip")(on_tip)
        app.event("reaction_added")(on_reaction_added)
    else:
        app.command("/tip")(ack=on_tip, lazy=[later])
        app.event("reaction_added")(ack=on_reaction_added, lazy=[later])
    return app


def _http_app(settings: Settings) -> WSGIApplication:
    # The same WSGI wrapper as the real app, so /healthz (a database round-trip) works the same.
    db = Database.connect(settings.database_url)
    queue = JobQueue(db.queue) if os.environ.get("BARE_APP_QUEUE") == "1" else None
    return wsgi_app(build_bare_app(settings, queue), db, settings.signing_secret)


def main() -> int:
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        print(f"bare_app: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        os.environ.pop(name, None)  # as app.py does (else Bolt warns that it ignores SLACK_BOT_TOKEN)
    serve_http(lambda: _http_app(settings), settings.host, settings.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
