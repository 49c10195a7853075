"""The bot's introduction when it is added to a channel: what it does there and the commands that
matter, posted once per channel, ever.

The channel's row (storage/models/home.py `ChannelIntro`) is claimed by the request of the join
that first saw it, in its own transaction, before anything is posted; the post carries message
metadata naming the channel, and its ts is kept. A rerun of that request's job looks in the channel
for the post before posting; a later join finds the ts and says nothing. A claim whose job never
posted (it failed for good) is taken over by the next join after an hour, which looks first too.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from bot.kit import Block, context, fallback_text, mrkdwn_section
from bot.services import Services
from bot.slack.results import Failed, Posted
from storage import home as queries

log = logging.getLogger(__name__)

INTRO_EVENT = "peerlearn_intro"
TAKE_OVER_AFTER = timedelta(hours=1)  # far past a job's last retry (about 4 minutes)
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{1,31}")  # public and private channels; never a DM


def intro_message(tip_emoji: str) -> tuple[str, list[Block]]:
    lines = [
        ":wave: *Hi, I'm Peerlearn.* I help this channel learn from each other:",
        "• `/tip &lt;what you learned&gt;` shares a tip here, and everyone can find it with `/tip search`",
        f"• React with :{tip_emoji}: to a message that taught you something: it becomes a tip. "
        "React to the tips that helped you, and the most helpful rise to the top of `/tip top`",
        "• `/circle create &lt;name&gt;` starts a learning circle: a few people who check in here every week",
    ]
    note = (
        "Admins: `/peerlearn prompts #channel mon 09:00` posts a weekly learning prompt here. "
        "Everything I do: `/peerlearn help`; your own page: *Peerlearn* → *Home*."
    )
    blocks = [mrkdwn_section("\n".join(lines)), context(note)]
    return fallback_text("Hi, I'm Peerlearn: I help this channel learn from each other."), blocks


def introduce(services: Services, *, team_id: str, channel_id: str, key: str) -> Posted | Failed | None:
    """Post the intro in the channel unless it was posted there before: the post, the failure, or
    None when there was nothing to do (posted before, or another join's job has it in hand)."""
    if not CHANNEL_ID.fullmatch(channel_id):
        return None
    now = services.clock()
    with services.db.transaction() as session:
        intro, inserted = queries.claim_intro(session, team_id, channel_id, key, now)
        if intro.message_ts is not None:
            return None
        ours = inserted or intro.request_key == key
        if not ours and intro.claimed_at < now - TAKE_OVER_AFTER:
            ours = queries.take_over_intro(session, team_id, channel_id, intro.request_key, key, now)
    if not ours:
        return None
    if not inserted:  # a rerun, or a claim taken over: the earlier run may have posted and died
        found = services.slack.find_by_metadata(channel_id, INTRO_EVENT, "channel_id", channel_id)
        if isinstance(found, Posted):
            _record(services, team_id, channel_id, found.ts)
            return None
        if isinstance(found, Failed):  # couldn't look: better no intro now than two
            log.warning("intro not checked team=%s channel=%s error=%s", team_id, channel_id, found.error)
            return found
    text, blocks = intro_message(services.tip_emoji)
    metadata = {"event_type": INTRO_EVENT, "event_payload": {"channel_id": channel_id}}
    posted = services.slack.post(channel_id, text, blocks, metadata=metadata)
    if isinstance(posted, Posted):
        _record(services, team_id, channel_id, posted.ts)
        log.info("introduced team=%s channel=%s", team_id, channel_id)
    else:
        # A courtesy nobody asked for: logged, not told (the inviter sees the channel as it is).
        log.warning("intro not posted team=%s channel=%s error=%s", team_id, channel_id, posted.error)
    return posted


def _record(services: Services, team_id: str, channel_id: str, ts: str) -> None:
    with services.db.transaction() as session:
        queries.record_intro(session, team_id, channel_id, ts, services.clock())
