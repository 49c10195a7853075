"""Tips: sharing, capturing, helpful votes, and finding the best ones. No Slack in here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.text import extract_tags, search_words, without_control_characters
from storage import events
from storage import tips as queries
from storage.models import Tip, TipDeletion
from storage.search import search_tip_ids

MAX_TIP_LENGTH = 3000  # a modal's text input holds no more, and a tip post's sections stay under 50 blocks
MAX_TAGS = 10
MAX_TIP_NUMBER = 2**31 - 1  # tips.number is a 32-bit integer on PostgreSQL
RESULTS_LIMIT = 10
MINE_LIMIT = 20
WINDOWS = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}


class TipRejected(ValueError):
    """A tip that cannot be saved; the message is shown to the person as-is, at `field` in a form."""

    def __init__(self, message: str, field: str = "text") -> None:
        super().__init__(message)
        self.field = field


class TipNotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True)
class TipDraft:
    text: str
    tags: tuple[str, ...]


def clean_text(text: str) -> str:
    """What is stored of a person's text: no NUL or control characters, no surrounding whitespace."""
    return without_control_characters(text).strip()


def draft_tip(text: str, extra_tags: Iterable[str] = ()) -> TipDraft:
    """Validate a tip's text and gather its tags (`#words` in the text, at most 10, then `extra_tags`).

    Tags typed in a form's field (`extra_tags`) past the tenth are refused there; `#words` past the
    tenth stay words of the text (searchable all the same).
    """
    text = clean_text(text)
    if not text:
        raise TipRejected("A tip needs some text. Example: `/tip Use git bisect to find the commit that broke a test`")
    if len(text) > MAX_TIP_LENGTH:
        raise TipRejected(
            f"That tip is {len(text):,} characters; the limit is {MAX_TIP_LENGTH:,}. "
            "Trim it, or share the gist and link to the details."
        )
    extra = list(dict.fromkeys(extra_tags))
    if len(extra) > MAX_TAGS:
        raise TipRejected(f"Give at most {MAX_TAGS} tags ({len(extra)} given).", field="tags")
    tags = list(dict.fromkeys(extract_tags(text)))[:MAX_TAGS]
    tags = list(dict.fromkeys([*tags, *extra]))[:MAX_TAGS]
    return TipDraft(text=text, tags=tuple(tags))


@dataclass(frozen=True)
class Started:
    tip: Tip
    created: bool  # False: an earlier run of the same request made it


def share_tip(
    session: Session,
    *,
    team_id: str,
    author_id: str,
    draft: TipDraft,
    source: str,
    origin_channel_id: str | None,
    request_key: str | None = None,
) -> Tip:
    """Store a shared tip (made by the request `request_key`, when the caller has one)."""
    if request_key is not None:
        return share_tip_once(
            session,
            team_id=team_id,
            author_id=author_id,
            draft=draft,
            source=source,
            origin_channel_id=origin_channel_id,
            request_key=request_key,
        ).tip
    tip = Tip(
        team_id=team_id,
        author_id=author_id,
        text=draft.text,
        tags=" ".join(draft.tags),
        source=source,
        origin_channel_id=origin_channel_id,
    )
    session.add(tip)
    session.flush()
    return tip


def share_tip_once(
    session: Session,
    *,
    team_id: str,
    author_id: str,
    draft: TipDraft,
    source: str,
    origin_channel_id: str | None,
    request_key: str,
) -> Started:
    """The tip this request shares: made now, or found when an earlier run of the request made it."""
    tip, created = queries.insert_tip_once(
        session,
        team_id=team_id,
        author_id=author_id,
        text=draft.text,
        tags=" ".join(draft.tags),
        source=source,
        origin_channel_id=origin_channel_id,
        request_key=request_key,
    )
    return Started(tip, created)


def record_post(session: Session, tip: Tip, channel_id: str, message_ts: str, permalink: str | None) -> Tip:
    tip = session.merge(tip)
    tip.channel_id, tip.message_ts, tip.permalink = channel_id, message_ts, permalink
    return tip


@dataclass(frozen=True)
class Capture:
    tip: Tip
    created: bool  # made by this request (now, or by an earlier run of it)


def capture_message(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    message_ts: str,
    author_id: str,
    saved_by_id: str,
    draft: TipDraft,
    source: str,
    permalink: str | None,
    request_key: str | None = None,
) -> Capture:
    """Make an existing message a tip, once: a second capture returns the first one's tip.

    A rerun of the request that captured it finds its own tip (created=True again, so the person
    hears the same answer); another request finds someone else's capture (created=False).
    """
    if request_key is not None and (own := queries.tip_for_request(session, team_id, request_key)) is not None:
        return Capture(own, created=True)
    tip = queries.insert_tip_for_message(
        session,
        team_id=team_id,
        author_id=author_id,
        saved_by_id=saved_by_id,
        text=draft.text,
        tags=" ".join(draft.tags),
        source=source,
        origin_channel_id=channel_id,
        channel_id=channel_id,
        message_ts=message_ts,
        permalink=permalink,
        request_key=request_key,
    )
    if tip is not None:
        return Capture(tip, created=True)
    existing = queries.tip_for_message(session, team_id, channel_id, message_ts)
    assert existing is not None, "insert conflicted, so the tip exists"
    return Capture(existing, created=request_key is not None and existing.request_key == request_key)


# What a slash command or shortcut payload names a conversation only its members can read.
_PRIVATE_NAMES = ("directmessage", "privategroup")


def looks_private(channel_id: str, name_hint: str | None = None) -> bool:
    """True when the id or the payload's name says DM, group DM or private channel (`D…`, `G…`,
    `directmessage`, `privategroup`, `mpdm-…`); False says only "not known to be private"."""
    name = name_hint or ""
    return channel_id.startswith(("D", "G")) or name in _PRIVATE_NAMES or name.startswith("mpdm-")


def tip_for_request(session: Session, team_id: str, request_key: str) -> Tip | None:
    return queries.tip_for_request(session, team_id, request_key)


def tip_for_message(session: Session, team_id: str, channel_id: str, message_ts: str) -> Tip | None:
    return queries.tip_for_message(session, team_id, channel_id, message_ts)


def tip_for_id(session: Session, team_id: str, tip_id: int) -> Tip | None:
    """The team's tip by its database id (from a button or metadata; people see its number)."""
    return queries.get_tip(session, team_id, tip_id)


def tip_by_number(session: Session, team_id: str, number: int) -> Tip | None:
    """The team's tip by the number people see and type."""
    return queries.tip_by_number(session, team_id, number)


def first_delivery(session: Session, team_id: str, event_id: str | None) -> bool:
    """Claim an Events API delivery; False when it was handled before (a Slack retry)."""
    return event_id is None or events.claim_event(session, team_id, event_id)


def add_reaction(session: Session, tip: Tip, user_id: str, reaction: str) -> bool:
    """Record a reaction on a tip; returns True when it made the person's helpful vote count."""
    queries.add_reaction(session, tip, user_id, reaction)
    return vote_helpful(session, tip, user_id)


def vote_helpful(session: Session, tip: Tip, user_id: str) -> bool:
    """The person's "this helped me" on a tip, once; never the author's own. True when it counted now."""
    if user_id == tip.author_id:
        return False
    return queries.add_vote(session, tip, user_id)


def remove_reaction(session: Session, tip: Tip, user_id: str, reaction: str) -> bool:
    """Forget a reaction; returns True when it was the person's last one, taking their vote back."""
    if not queries.remove_reaction(session, tip, user_id, reaction):
        return False
    if queries.has_reactions(session, tip, user_id):
        return False
    return queries.remove_vote(session, tip, user_id)


def search(session: Session, team_id: str, query: str) -> list[Tip]:
    ids = search_tip_ids(session, team_id, search_words(query), RESULTS_LIMIT)
    return queries.tips_by_ids(session, team_id, ids)


def top(session: Session, team_id: str, window: str, now: datetime) -> list[Tip]:
    span = WINDOWS[window]
    since = None if span is None else now - span
    return queries.most_helpful(session, team_id, since, RESULTS_LIMIT)


def mine(session: Session, team_id: str, user_id: str) -> tuple[list[Tip], int]:
    return queries.tips_by_author(session, team_id, user_id, MINE_LIMIT)


def may_delete(tip: Tip, actor_id: str, actor_is_admin: bool) -> bool:
    return tip.author_id == actor_id or actor_is_admin


def delete(
    session: Session,
    team_id: str,
    number: int,
    actor_id: str,
    actor_is_admin: bool,
    request_key: str | None = None,
) -> Tip:
    """Delete the team's tip numbered `number` (as people see it) if the actor wrote it or is an admin,
    checked here, in the deleting transaction; with `request_key` the deletion is noted under it.
    Returns the tip's last state."""
    tip = queries.tip_by_number(session, team_id, number)
    if tip is None:
        if queries.was_deleted(session, team_id, number):
            raise TipNotFound(f"Tip #{number} was already deleted.")
        raise TipNotFound(f"There is no tip #{number} in this workspace.")
    if not may_delete(tip, actor_id, actor_is_admin):
        raise NotAllowed(f"Only the author of tip #{number} or a Peerlearn admin can delete it.")
    if request_key is not None:
        queries.record_deletion(session, tip, request_key, actor_id)
    queries.delete_tip(session, tip)
    return tip


def deletion_for_request(session: Session, team_id: str, request_key: str) -> TipDeletion | None:
    return queries.deletion_for_request(session, team_id, request_key)
