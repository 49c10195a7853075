"""Whether a question may still go to people outside its channel. A question is stored and routed
only from a channel everyone in the workspace can read, but a channel can turn private later, while
its question waits: each time the question would reach new people (a wave, an escalation, *Not
me*'s next person, a DM a crash left unsent, the digest's *Can you help?*), its channel is asked
about again, failing closed as the first check does (service.py): one Slack can't see is private,
one Slack can't describe now is not asked about until it can."""

from __future__ import annotations

import logging
from enum import Enum

from bot.services import Services
from bot.tips import service as tip_service
from storage import questions as queries

log = logging.getLogger(__name__)


class Reach(Enum):
    PUBLIC = "public"  # anyone in the workspace can read it: the question may go on
    PRIVATE = "private"  # only its members (or Slack can't see it): never beyond it again
    UNKNOWN = "unknown"  # Slack couldn't say just now: nobody new is asked until it can


def reach_of(services: Services, team_id: str, channel_id: str) -> Reach:
    """Who can read `channel_id` now, asked of Slack (conversations.info, as tip_service decides)."""
    try:
        private = tip_service.conversation_is_private(services, channel_id)
    except tip_service.CannotSave:
        log.warning("question channel of unknown privacy team=%s channel=%s: nobody new asked", team_id, channel_id)
        return Reach.UNKNOWN
    return Reach.PRIVATE if private else Reach.PUBLIC


def turn_off_private_channel(services: Services, team_id: str, channel_id: str) -> None:
    """A questions channel that became private is one no longer (questions must be public to go
    to colleagues outside it); the admin who turned it on is told, once, by whoever removes it."""
    with services.db.transaction() as session:
        enabled_by = queries.questions_channel_enabled_by(session, team_id, channel_id)
        removed = queries.disable_channel(session, team_id, channel_id)
    if not removed:
        return
    log.warning("questions channel turned off: it is private now team=%s channel=%s", team_id, channel_id)
    if enabled_by is not None:
        services.slack.tell(
            enabled_by,
            f":lock: <#{channel_id}> is private now, so it is no longer a questions channel: questions asked "
            "there stay there (I only suggest tips). To answer questions from the workspace again, turn on "
            "a public channel with `/peerlearn questions #channel on`.",
        )
