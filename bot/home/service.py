"""Drawing one person's Home and publishing it: when they open the tab, and again after anything
they do from it (a tip shared, a check-in answered, a circle joined, a pairing answer, an admin's
button), so what they see is what is so.

Whether they see the admins' part is asked of Slack each time (`admin_status`), within the
request's team; their time zone (Slack's) cuts their weeks and months and shows their dates.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.circles import views as circle_views
from bot.home.admin import admin_summary
from bot.home.blocks import home_view
from bot.home.modals import circles_modal
from bot.home.summary import home_summary
from bot.services import Services
from bot.slack.conversations import ChannelReaders
from bot.slack.results import Failed
from storage import home as queries

log = logging.getLogger(__name__)


def render(
    services: Services,
    team_id: str,
    user_id: str,
    *,
    first_visit: bool = False,
    notice: str | None = None,
    near: str | None = None,
) -> dict[str, Any]:
    now = services.clock()
    is_admin = services.users.admin_status(user_id, team_id) is True  # Slack couldn't say: no admin part
    person = services.users.get(user_id)  # just fetched: from the directory's cache
    zone = person.timezone if person is not None else None
    with services.db.snapshot() as session:
        summary = home_summary(session, team_id, user_id, now, zone)
    admin = None
    if is_admin:
        readers = ChannelReaders(services.slack)

        def shown(channel_id: str) -> bool:
            return readers.may_read(user_id, channel_id) is True

        admin = admin_summary(services.db, team_id, now, zone, shown)
    return home_view(summary, admin, first_visit=first_visit, notice=notice, near=near)


def opened(services: Services, team_id: str, user_id: str, key: str) -> Failed | None:
    """The person opened the Home tab (`key`: that opening's request): draw it, with the welcome
    on their first visit ever (and on reruns of that same opening's job)."""
    with services.db.transaction() as session:
        first = queries.first_visit(session, team_id, user_id, key, services.clock())
    return _publish(services, team_id, user_id, render(services, team_id, user_id, first_visit=first))


def refresh(
    services: Services, team_id: str, user_id: str, notice: str | None = None, near: str | None = None
) -> Failed | None:
    """Draw the Home again after the person acted from it; `notice` (what came of it) under the row
    they clicked (`near`: an admin row's target), else on top. When the Home can't be published, the
    notice goes to them by DM: nobody is left without an answer."""
    failed = _publish(services, team_id, user_id, render(services, team_id, user_id, notice=notice, near=near))
    if failed is not None and notice:
        services.slack.tell(user_id, notice)
    return failed


def _publish(services: Services, team_id: str, user_id: str, view: dict[str, Any]) -> Failed | None:
    failed = services.slack.publish_home(user_id, view)
    if failed is not None:
        # The tab keeps its last view until it is opened again.
        log.warning("home tab not published team=%s user=%s error=%s", team_id, user_id, failed.error)
    return failed


def browse_circles(services: Services, team_id: str, user_id: str, notice: str | None = None) -> dict[str, Any]:
    """The *Browse circles* form: every live circle the person may see (one in a private channel
    only for its members), *Join* where they aren't a member. Asks Slack: after the ack."""
    readers = ChannelReaders(services.slack)
    listing = circle_views.listing(services.db, readers, team_id, user_id, services.clock())
    with services.db.snapshot() as session:
        member_of = set(queries.memberships(session, team_id, user_id))
    return circles_modal(listing, member_of, notice)
