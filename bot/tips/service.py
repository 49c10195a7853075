"""Tip use cases that touch both the database and Slack, in the order that loses nothing.

Every use case stores first and talks to Slack after, so a Slack failure never loses what a person
shared; each returns a plain outcome that the handler renders. No Bolt in here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.services import Services
from bot.slack.gateway import Failed, Posted
from bot.text import slack_to_plain
from bot.tips import rules as tips
from bot.tips.blocks import tip_post
from storage.models import Tip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shared:
    tip: Tip
    post: Posted | Failed


def share(
    deps: Services, *, team_id: str, author_id: str, draft: tips.TipDraft, channel_id: str, source: str
) -> Shared:
    with deps.db.transaction() as session:
        tip = tips.share_tip(
            session,
            team_id=team_id,
            author_id=author_id,
            draft=draft,
            source=source,
            origin_channel_id=channel_id,
        )
    log.info(
        "tip shared team=%s user=%s tip=%s channel=%s source=%s",
        team_id,
        author_id,
        tip.id,
        channel_id,
        source,
    )
    text, blocks = tip_post(tip, deps.tip_emoji)
    post = deps.slack.post(channel_id, text, blocks)
    if isinstance(post, Failed):
        log.warning("tip not posted team=%s tip=%s channel=%s error=%s", team_id, tip.id, channel_id, post.error)
        return Shared(tip, post)
    permalink = deps.slack.permalink(post.channel, post.ts)
    with deps.db.transaction() as session:
        tips.record_post(session, tip, post.channel, post.ts, permalink)
    return Shared(tip, post)


@dataclass(frozen=True)
class Saved:
    tip: Tip
    created: bool


class CannotSave(Exception):
    """A message that can't become a tip; the text is for the person who asked."""


def save_message(
    deps: Services,
    *,
    team_id: str,
    channel_id: str,
    message: dict[str, object],
    saved_by_id: str,
    source: str,
    event_id: str | None = None,
    reaction: str | None = None,
) -> Saved | None:
    """Turn a Slack message into a tip authored by its writer, once. None: this event was seen before.

    With `reaction` (capture by emoji), the nominator's reaction and any already on the message
    count as helpful votes, as they would on any tip.
    """
    author_id = message.get("user")
    if not isinstance(author_id, str) or message.get("bot_id") or message.get("subtype") == "bot_message":
        raise CannotSave("That message was posted by an app. Tips come from people.")
    text = slack_to_plain(str(message.get("text") or ""), deps.users.name)
    if not text:
        raise CannotSave("That message has no text to save (files and attachments alone can't be tips).")
    try:
        draft = tips.draft_tip(text)
    except tips.TipRejected as rejected:
        raise CannotSave(str(rejected)) from rejected
    ts = str(message["ts"])
    permalink = deps.slack.permalink(channel_id, ts)
    with deps.db.transaction() as session:
        if not tips.first_delivery(session, team_id, event_id):
            return None
        capture = tips.capture_message(
            session,
            team_id=team_id,
            channel_id=channel_id,
            message_ts=ts,
            author_id=author_id,
            saved_by_id=saved_by_id,
            draft=draft,
            source=source,
            permalink=permalink,
        )
        if reaction is not None:
            existing = message.get("reactions") if capture.created else None
            for seen in existing or []:  # type: ignore[attr-defined]
                for user in seen.get("users") or []:
                    tips.add_reaction(session, capture.tip, user, seen["name"])
            tips.add_reaction(session, capture.tip, saved_by_id, reaction)
    if capture.created:
        log.info(
            "tip captured team=%s user=%s tip=%s channel=%s ts=%s source=%s",
            team_id, saved_by_id, capture.tip.id, channel_id, ts, source,
        )  # fmt: skip
    return Saved(capture.tip, capture.created)


def react(
    deps: Services, *, team_id: str, event_id: str | None, channel_id: str, ts: str, user_id: str, reaction: str
) -> bool:
    """A reaction on a tip's message; True when it was one (and this delivery is new)."""
    with deps.db.transaction() as session:
        tip = tips.tip_for_message(session, team_id, channel_id, ts)
        if tip is None:
            return False
        if not tips.first_delivery(session, team_id, event_id):
            return True
        counted = tips.add_reaction(session, tip, user_id, reaction)
    log.info("reaction team=%s user=%s tip=%s vote_added=%s", team_id, user_id, tip.id, counted)
    return True


def unreact(
    deps: Services, *, team_id: str, event_id: str | None, channel_id: str, ts: str, user_id: str, reaction: str
) -> None:
    with deps.db.transaction() as session:
        tip = tips.tip_for_message(session, team_id, channel_id, ts)
        if tip is None or not tips.first_delivery(session, team_id, event_id):
            return
        withdrawn = tips.remove_reaction(session, tip, user_id, reaction)
    log.info("reaction removed team=%s user=%s tip=%s vote_withdrawn=%s", team_id, user_id, tip.id, withdrawn)


def delete(deps: Services, *, team_id: str, tip_id: int, actor_id: str) -> Tip:
    """Delete a tip (author or admin) and its trace in Slack; raises tips.TipNotFound / tips.NotAllowed."""
    with deps.db.snapshot() as session:
        tip = tips.tip_for_id(session, team_id, tip_id)
    is_admin = tip is not None and tip.author_id != actor_id and deps.users.is_admin(actor_id)
    with deps.db.transaction() as session:
        deleted = tips.delete(session, team_id, tip_id, actor_id, is_admin)
    log.info("tip deleted team=%s user=%s tip=%s", team_id, actor_id, tip_id)
    if deleted.channel_id and deleted.message_ts:
        if deleted.source in ("command", "modal"):
            error = deps.slack.delete_message(deleted.channel_id, deleted.message_ts)
        else:  # someone's own message: leave it, take back the bot's mark
            error = deps.slack.remove_reaction(deleted.channel_id, deleted.message_ts, deps.tip_emoji)
        if error:
            log.warning("tip %s deleted but its Slack message stays: %s", tip_id, error)
    return deleted
