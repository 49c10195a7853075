"""Tip use cases that touch both the database and Slack, in the order that loses nothing.

Every use case stores first and talks to Slack after, so a Slack failure never loses what a person
shared; each returns a plain outcome that the handler renders. No Bolt in here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.services import Services
from bot.slack.results import Failed, Posted
from bot.text import slack_to_plain
from bot.tips import rules as tips
from bot.tips.blocks import tip_post
from storage.models import Tip, TipDeletion

log = logging.getLogger(__name__)

METADATA_EVENT = "peerlearn_tip"  # the message metadata naming the request a tip post was made for
# How far before a tip's creation a rerun looks for its post: our clock and Slack's may disagree a little.
CLOCK_SKEW = timedelta(minutes=2)
PRIVATE_ONLY_AUTHOR = "This message is in a private conversation; only its author can make it a tip."


@dataclass(frozen=True)
class Shared:
    tip: Tip
    post: Posted | Failed


def shared_before(deps: Services, team_id: str, request_key: str) -> bool:
    """Whether this request already stored its tip (a rerun of its job: checks made then stand)."""
    with deps.db.snapshot() as session:
        return tips.tip_for_request(session, team_id, request_key) is not None


def share(
    deps: Services,
    *,
    team_id: str,
    author_id: str,
    draft: tips.TipDraft,
    channel_id: str,
    source: str,
    request_key: str,
) -> Shared:
    """Store the tip, then post it, once per request however often this runs.

    A rerun (the job's worker died, a retry) finds the tip its request made; if that tip has no
    post yet, it first looks in the channel for a post carrying the request's key in its metadata
    (the earlier run may have died after Slack took the post), and posts only if there is none.
    """
    with deps.db.transaction() as session:
        started = tips.share_tip_once(
            session,
            team_id=team_id,
            author_id=author_id,
            draft=draft,
            source=source,
            origin_channel_id=channel_id,
            request_key=request_key,
        )
    tip = started.tip
    if tip.channel_id and tip.message_ts:
        return Shared(tip, Posted(tip.channel_id, tip.message_ts))
    if started.created:
        log.info(
            "tip shared team=%s user=%s tip=%s channel=%s source=%s",
            team_id, author_id, tip.id, channel_id, source,
        )  # fmt: skip
    else:
        log.info("tip share rerun team=%s tip=%s: looking for its post", team_id, tip.id)
        if (found := _earlier_post(deps, tip, channel_id, request_key)) is not None:
            return Shared(_record_post(deps, tip, found), found)
    text, blocks = tip_post(tip, deps.tip_emoji)
    metadata = {"event_type": METADATA_EVENT, "event_payload": {"request_key": request_key, "tip_id": tip.id}}
    post = deps.slack.post(channel_id, text, blocks, metadata=metadata)
    if isinstance(post, Failed) and _may_have_posted(post.error):
        # A timeout or a 5xx may come after Slack took the post: link it if it is there.
        post = _earlier_post(deps, tip, channel_id, request_key) or post
    if isinstance(post, Failed):
        log.warning("tip not posted team=%s tip=%s channel=%s error=%s", team_id, tip.id, channel_id, post.error)
        return Shared(tip, post)
    return Shared(_record_post(deps, tip, post), post)


def _may_have_posted(error: str) -> bool:
    return error == "connection_failed" or error.startswith("http_5") or error in ("internal_error", "fatal_error")


def _earlier_post(deps: Services, tip: Tip, channel_id: str, request_key: str) -> Posted | None:
    oldest = (tip.created_at - CLOCK_SKEW).timestamp()
    found = deps.slack.find_by_metadata(channel_id, METADATA_EVENT, "request_key", request_key, oldest=oldest)
    return found if isinstance(found, Posted) else None  # Slack couldn't say: as if not found


def _record_post(deps: Services, tip: Tip, post: Posted) -> Tip:
    permalink = _permalink(deps, post.channel, post.ts)
    with deps.db.transaction() as session:
        return tips.record_post(session, tip, post.channel, post.ts, permalink)


def _permalink(deps: Services, channel_id: str, ts: str) -> str | None:
    """The message's link, or None when Slack couldn't give it (the tip is kept without one)."""
    link = deps.slack.permalink(channel_id, ts)
    return None if isinstance(link, Failed) else link


def search(deps: Services, *, team_id: str, query: str) -> list[Tip]:
    with deps.db.snapshot() as session:
        return tips.search(session, team_id, query)


def top(deps: Services, *, team_id: str, window: str) -> list[Tip]:
    with deps.db.snapshot() as session:
        return tips.top(session, team_id, window, deps.clock())


def mine(deps: Services, *, team_id: str, user_id: str) -> tuple[list[Tip], int]:
    with deps.db.snapshot() as session:
        return tips.mine(session, team_id, user_id)


@dataclass(frozen=True)
class Saved:
    tip: Tip
    created: bool
    private: bool = False  # it came from a DM, a group DM or a private channel (its author's consent)


class CannotSave(Exception):
    """A message that can't become a tip; the text is for the person who asked."""


def conversation_is_private(deps: Services, channel_id: str, name_hint: str | None = None) -> bool:
    """Whether only some people can read this conversation: what the payload says, else Slack.

    conversations.info is asked only about `C…` ids the payload did not settle (never about a DM,
    which would need im:read); a conversation the bot cannot see is private to it.
    """
    if tips.looks_private(channel_id, name_hint):
        return True
    info = deps.slack.channel_info(channel_id)
    if isinstance(info, Failed):
        if info.error == "channel_not_found":
            return True
        raise CannotSave(f"I couldn't tell whether this conversation is private ({info.error}). Try again in a minute.")
    return bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))


def save_message(
    deps: Services,
    *,
    team_id: str,
    channel_id: str,
    message: dict[str, object],
    saved_by_id: str,
    source: str,
    request_key: str,
    channel_name: str | None = None,
    event_id: str | None = None,
    reaction: str | None = None,
    extra_tags: tuple[str, ...] = (),
) -> Saved | None:
    """Turn a Slack message into a tip authored by its writer, once. None: this event was seen before.

    From a DM, a group DM or a private channel only its author may make it a tip (their consent to
    share it with the workspace); anyone else is refused and nothing is stored. With `reaction`
    (capture by emoji), the nominator's reaction and any already on the message count as helpful
    votes, as they would on any tip. `extra_tags` join the message's own `#tags` (up to 10 in all).
    """
    author_id = message.get("user")
    if not isinstance(author_id, str) or message.get("bot_id") or message.get("subtype") == "bot_message":
        raise CannotSave("That message was posted by an app. Tips come from people.")
    private = conversation_is_private(deps, channel_id, channel_name)
    if private and saved_by_id != author_id:
        log.info("private capture refused team=%s user=%s channel=%s", team_id, saved_by_id, channel_id)
        raise CannotSave(PRIVATE_ONLY_AUTHOR)
    text = slack_to_plain(str(message.get("text") or ""), deps.users.name)
    if not tips.clean_text(text):
        raise CannotSave("That message has no text to save (files and attachments alone can't be tips).")
    try:
        draft = tips.draft_tip(text, extra_tags)
    except tips.TipRejected as rejected:
        raise CannotSave(str(rejected)) from rejected
    ts = str(message["ts"])
    permalink = _permalink(deps, channel_id, ts)
    with deps.db.transaction() as session:
        if not tips.first_delivery(session, team_id, event_id):
            own = tips.tip_for_request(session, team_id, request_key)  # an earlier run of this delivery
            return None if own is None else Saved(own, created=True, private=private)
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
            request_key=request_key,
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
    return Saved(capture.tip, capture.created, private)


def react(
    deps: Services,
    *,
    team_id: str,
    event_id: str | None,
    channel_id: str,
    ts: str,
    user_id: str,
    reaction: str,
    request_key: str | None = None,
) -> bool:
    """A reaction on a tip's message; True when it was one (and this delivery is new).

    False too when this very delivery made the message a tip (a rerun of its capture), so the
    capture runs again and finishes what it had not.
    """
    with deps.db.transaction() as session:
        tip = tips.tip_for_message(session, team_id, channel_id, ts)
        if tip is None or (request_key is not None and tip.request_key == request_key):
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


def delete(deps: Services, *, team_id: str, number: int, actor_id: str, request_key: str) -> TipDeletion:
    """Delete the workspace's tip #`number` (author or admin, checked in the deleting transaction)
    and its trace in Slack.

    Raises tips.TipNotFound / tips.NotAllowed. A rerun of the same request finds its deletion and
    finishes the Slack side rather than answering that the tip is gone.
    """
    with deps.db.snapshot() as session:
        done = tips.deletion_for_request(session, team_id, request_key)
        tip = None if done is not None else tips.tip_by_number(session, team_id, number)
    if done is None:
        # Only a non-author needs users.info; the rights themselves are checked at the change below.
        is_admin = tip is not None and tip.author_id != actor_id and deps.users.is_admin(actor_id, team_id)
        with deps.db.transaction() as session:
            tips.delete(session, team_id, number, actor_id, is_admin, request_key)
            done = tips.deletion_for_request(session, team_id, request_key)
        assert done is not None
        log.info("tip deleted team=%s user=%s tip=%s number=%s", team_id, actor_id, done.tip_id, number)
    if done.channel_id and done.message_ts:
        if done.source in ("command", "modal"):
            failed = deps.slack.delete_message(done.channel_id, done.message_ts)
        else:  # someone's own message: leave it, take back the bot's mark
            failed = deps.slack.remove_reaction(done.channel_id, done.message_ts, deps.tip_emoji)
        if failed:
            log.warning("tip %s deleted but its Slack message stays: %s", done.tip_id, failed.error)
    return done
