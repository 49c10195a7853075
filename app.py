"""Peerlearn entrypoint: settings -> migrations -> the app in Socket Mode or HTTP mode."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from dotenv import find_dotenv, load_dotenv

from bot.config import ConfigError, Settings, configure_logging
from bot.factory import build_app
from bot.maintenance import forget_old_events
from bot.serving import serve_http, serve_socket_mode, wsgi_app
from bot.slack_api import build_client
from storage.db import Database
from storage.migrate import upgrade
from storage.models import utcnow

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

log = logging.getLogger("peerlearn")


def main() -> int:
    load_dotenv(find_dotenv(usecwd=True))  # the .env of the directory it runs in
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        print(f"peerlearn: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    # Settings hold the secrets now; keep them out of the environment that libraries read on their
    # own (Bolt would warn that it ignores SLACK_BOT_TOKEN) and that child processes inherit.
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        os.environ.pop(name, None)
    db = Database.connect(settings.database_url)
    upgrade(db.engine)
    forget_old_events(db, utcnow())
    if settings.app_token:
        client = build_client(settings.bot_token, settings.slack_api_url)
        serve_socket_mode(build_app(settings, client=client, db=db), settings.app_token)
    else:
        db.dispose()  # the server builds its own after forking its worker
        log.info("HTTP mode on http://%s:%s (POST /slack/events, GET /healthz)", settings.host, settings.port)
        serve_http(lambda: _http_app(settings), settings.host, settings.port)
    return 0


def _http_app(settings: Settings) -> WSGIApplication:
    db = Database.connect(settings.database_url)
    client = build_client(settings.bot_token, settings.slack_api_url)
    return wsgi_app(build_app(settings, client=client, db=db), db)


if __name__ == "__main__":
    sys.exit(main())
