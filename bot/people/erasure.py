"""`/peerlearn forget-me`: delete what Peerlearn holds about the person, once they confirm.

Each kind of data a capability keeps about people has its eraser (ERASERS): a function of the
session, the team and the person that removes it and says how many rows it removed. A capability
that keeps something about people adds its eraser here (and its section to bot/people/my_data.py).
All of them run in one transaction with the tips (deleted or anonymised, the person's choice), and
the counts are kept a day under the request (a receipt naming nobody), so a rerun of the job
answers the same counts, and finishes the Slack side, instead of finding nothing left to delete.

Stays, and why: schedules, custom prompts and circles the person set up belong to the workspace
(they still name them as who set them up; an admin can change them); their partners' pairing
history and others' choice not to be paired with them are the partners' own data; messages in
Slack itself (their own, and the group DMs of pairing rounds) are Slack's, not Peerlearn's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.services import Services
from bot.slack.results import Failed
from bot.tips.blocks import tip_post
from storage import home as home_queries
from storage import people_data as queries
from storage import questions as question_queries
from storage import tips as tip_queries

log = logging.getLogger(__name__)

ANONYMISED = "tips kept for your colleagues, without your name"
POSTED_BY_THE_APP = ("command", "modal")  # tip sources whose Slack message is the app's own post


class TipsChoice(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"


@dataclass(frozen=True)
class Eraser:
    what: str  # how its count reads: "helpful votes"
    erase: Callable[[Session, str, str], int]  # (session, team_id, user_id) -> rows removed


ERASERS: tuple[Eraser, ...] = (
    Eraser("mentoring profile", queries.erase_profile),
    Eraser("helpful votes you gave", queries.erase_votes),
    Eraser("check-in answers", queries.erase_checkins),
    Eraser("circle memberships", queries.leave_circles),
    Eraser("pairing rounds you were in", queries.erase_pairing_history),
    Eraser("records of files sent to you", queries.erase_file_deliveries),
    Eraser("records of your first Home visit", home_queries.erase_visit),
    # Rows: each question of theirs with its asks, replies and topics, their being asked and their replies.
    Eraser("question records (asked by you, to you, your replies)", question_queries.erase_questions_of),
)


@dataclass(frozen=True)
class Forgotten:
    choice: TipsChoice
    counts: tuple[tuple[str, int], ...]  # (what, how many), tips first
    slack_left: int = 0  # tip and question posts Slack would not let the app take away or redraw

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


def forget(services: Services, *, team_id: str, user_id: str, choice: TipsChoice, key: str) -> Forgotten:
    """Erase the person's data in one transaction, once per request; then their tips' trace in Slack."""
    with services.db.transaction() as session:
        if queries.claim_receipt(session, team_id, key, services.clock()):
            posts = queries.tip_posts_of(session, team_id, user_id)
            asked = question_queries.question_posts_of(session, team_id, user_id)
            asked += question_queries.question_dms_of(session, team_id, user_id)
            if choice is TipsChoice.DELETE:
                counts = [("tips deleted", queries.delete_tips(session, team_id, user_id))]
            else:
                counts = [(ANONYMISED, queries.anonymise_tips(session, team_id, user_id))]
            counts += [(eraser.what, eraser.erase(session, team_id, user_id)) for eraser in ERASERS]
            work = [vars(post) for post in posts if choice is TipsChoice.DELETE or post.source in POSTED_BY_THE_APP]
            stored = queries.receipt(session, team_id, key)
            assert stored is not None
            stored.counts, stored.slack_work = json.dumps(counts), json.dumps({"tips": work, "questions": asked})
            log.info("forgot team=%s user=%s choice=%s counts=%s", team_id, user_id, choice.value, dict(counts))
        else:
            stored = queries.receipt(session, team_id, key)
            assert stored is not None
            counts = [tuple(pair) for pair in json.loads(stored.counts)]
            saved = json.loads(stored.slack_work)
            # A receipt written before question posts were kept holds the tips' list alone.
            work, asked = (saved, []) if isinstance(saved, list) else (saved["tips"], saved["questions"])
            log.info("forget-me ran again team=%s: the same counts, the Slack side finished", team_id)
    left = _clean_slack(services, team_id, choice, [queries.TipPost(**post) for post in work])
    left += _delete_question_posts(services, [(str(channel), str(ts)) for channel, ts in asked])
    return Forgotten(choice, tuple((str(what), int(count)) for what, count in counts), left)


def _delete_question_posts(services: Services, posts: list[tuple[str, str]]) -> int:
    """Take away the app's posts of the person's questions ("<@them> asks: …") and its DMs that took
    them to colleagues ("<@them> asked a question…"): the questions are gone, and their words and name
    with them. Each on its own; how many Slack refused."""
    left = 0
    for channel_id, ts in posts:
        failed = services.slack.delete_message(channel_id, ts)
        if isinstance(failed, Failed) and failed.error not in ("message_not_found", "channel_not_found"):
            left += 1
            log.warning("a question's post stays in Slack: %s", failed.error)
    return left


def _clean_slack(services: Services, team_id: str, choice: TipsChoice, posts: list[queries.TipPost]) -> int:
    """Take the deleted tips' posts (or 💡 marks) away, or redraw the anonymised tips' posts; each on
    its own, so one that fails never stops the others. How many Slack refused."""
    redrawn = {}
    if choice is TipsChoice.ANONYMISE:
        with services.db.snapshot() as session:
            redrawn = {tip.id: tip for tip in tip_queries.tips_by_ids(session, team_id, [p.tip_id for p in posts])}
    left = 0
    for post in posts:
        if choice is TipsChoice.DELETE and post.source in POSTED_BY_THE_APP:
            failed = services.slack.delete_message(post.channel_id, post.message_ts)
        elif choice is TipsChoice.DELETE:  # someone's own message: leave it, take back the app's mark
            failed = services.slack.remove_reaction(post.channel_id, post.message_ts, services.tip_emoji)
        elif (tip := redrawn.get(post.tip_id)) is not None:
            text, blocks = tip_post(tip, services.tip_emoji)
            failed = services.slack.update(post.channel_id, post.message_ts, text, blocks)
        else:
            failed = None  # deleted meanwhile: nothing left to redraw
        if isinstance(failed, Failed) and failed.error not in ("message_not_found", "channel_not_found"):
            left += 1
            log.warning("tip %s: its Slack post stays as it was: %s", post.tip_id, failed.error)
    return left
