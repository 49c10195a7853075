"""Tips: sharing, capturing, helpful votes, and finding the best ones. No Slack in here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.text import extract_tags, search_words
from storage import events
from storage import tips as queries
from storage.models import Tip
from storage.search import search_tip_ids

MAX_TIP_LENGTH = 3000
RESULTS_LIMIT = 10
MINE_LIMIT = 20
WINDOWS = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}


class TipRejected(ValueError):
    """A tip that cannot be saved; the message is shown to the person as-is."""


class TipNotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True)
class TipDraft:
    text: str
    tags: tuple[str, ...]


def draft_tip(text: str, extra_tags: Iterable[str] = ()) -> TipDraft:
    """Validate a tip's text and gather its tags (`#words` in the text plus `extra_tags`)."""
    text = text.strip()
    if not text:
        raise TipRejected("A tip needs some text. Example: `/tip Use git bisect to find the commit that broke a test`")
    if len(text) > MAX_TIP_LENGTH:
        raise TipRejected(
            f"That tip is {len(text):,} characters; the limit is {MAX_TIP_LENGTH:,}. "
            "Trim it, or share the gist and link to the details."
        )
    tags = dict.fromkeys([*extract_tags(text), *extra_tags])
    return TipDraft(text=text, tags=tuple(tags))


def share_tip(
    session: Session,
    *,
    team_id: str,
    author_id: str,
    draft: TipDraft,
    source: str,
    origin_channel_id: str | None,
) -> Tip:
    return queries.insert_tip(
        session,
        team_id=team_id,
        author_id=author_id,
        text=draft.text,
        tags=" ".join(draft.tags),
        source=source,
        origin_channel_id=origin_channel_id,
    )


def record_post(session: Session, tip: Tip, channel_id: str, message_ts: str, permalink: str | None) -> None:
    tip = session.merge(tip)
    tip.channel_id, tip.message_ts, tip.permalink = channel_id, message_ts, permalink


@dataclass(frozen=True)
class Capture:
    tip: Tip
    created: bool


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
) -> Capture:
    """Make an existing message a tip, once: a second capture returns the first one's tip."""
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
    )
    if tip is not None:
        return Capture(tip, created=True)
    existing = queries.tip_for_message(session, team_id, channel_id, message_ts)
    assert existing is not None, "insert conflicted, so the tip exists"
    return Capture(existing, created=False)


def tip_for_message(session: Session, team_id: str, channel_id: str, message_ts: str) -> Tip | None:
    return queries.tip_for_message(session, team_id, channel_id, message_ts)


def tip_for_id(session: Session, team_id: str, tip_id: int) -> Tip | None:
    return queries.get_tip(session, team_id, tip_id)


def first_delivery(session: Session, team_id: str, event_id: str | None) -> bool:
    """Claim an Events API delivery; False when it was handled before (a Slack retry)."""
    return event_id is None or events.claim_event(session, team_id, event_id)


def add_reaction(session: Session, tip: Tip, user_id: str, reaction: str) -> bool:
    """Record a reaction on a tip; returns True when it made the person's helpful vote count."""
    queries.add_reaction(session, tip, user_id, reaction)
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


def delete(session: Session, team_id: str, tip_id: int, actor_id: str, actor_is_admin: bool) -> Tip:
    """Delete a tip if the actor wrote it or is an admin; returns the deleted tip's last state."""
    tip = queries.get_tip(session, team_id, tip_id)
    if tip is None:
        raise TipNotFound(f"There is no tip #{tip_id} in this workspace.")
    if tip.author_id != actor_id and not actor_is_admin:
        raise NotAllowed(f"Only the author of tip #{tip_id} or a Peerlearn admin can delete it.")
    queries.delete_tip(session, tip)
    return tip
