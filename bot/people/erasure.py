"""`/peerlearn forget-me`: delete what Peerlearn holds about the person, once they confirm.

Each kind of data a capability keeps about people has its eraser (ERASERS): a function of the
session, the team and the person that removes it and says how many rows it removed. A capability
that keeps something about people adds its eraser here (and its section to bot/people/my_data.py).
All of them run in one transaction with the tips (deleted or anonymised, the person's choice), and
the counts are kept a day under the request (a receipt naming nobody), so a rerun of the job
answers the same counts, and finishes the Slack side, instead of finding nothing left to delete.

The Slack side: the app's own messages that carry what was erased, located in that transaction
(before the rows that knew them go) and kept in the receipt, then taken away after the commit, each
on its own (one Slack refuses is counted in the answer; a message already gone is done): tips'
posts (or redrawn, anonymised), question posts and the DMs that took the questions to colleagues,
check-in replies, and the person's lines in closed rounds' summaries (edited: they quote others too).

Stays, and why: schedules, custom prompts and circles the person set up belong to the workspace
(they still name them as who set them up; an admin can change them); their partners' pairing
history and others' choice not to be paired with them are the partners' own data; messages in
Slack itself (their own, and the group DMs of pairing rounds) are Slack's, not Peerlearn's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs

from sqlalchemy.orm import Session

from bot.circles.closing import forget_in_summary
from bot.circles.messages import ANSWERED_EVENT
from bot.services import Services
from bot.slack.results import Failed, Posted
from bot.tips.blocks import tip_post
from storage import home as home_queries
from storage import jobs as job_queries
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
    slack_left: int = 0  # posts Slack would not let the app take away or redraw (tips, questions, check-ins)

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


def forget(services: Services, *, team_id: str, user_id: str, choice: TipsChoice, key: str) -> Forgotten:
    """Erase the person's data in one transaction, once per request; then the app's posts of it in
    Slack (their locations read in that transaction, kept in the receipt for reruns)."""
    with services.db.transaction() as session:
        if queries.claim_receipt(session, team_id, key, services.clock()):
            posts = queries.tip_posts_of(session, team_id, user_id)
            asked = question_queries.question_posts_of(session, team_id, user_id)
            asked += question_queries.question_dms_of(session, team_id, user_id)
            checkins = queries.checkin_posts_of(session, team_id, user_id)
            if choice is TipsChoice.DELETE:
                counts = [("tips deleted", queries.delete_tips(session, team_id, user_id))]
            else:
                counts = [(ANONYMISED, queries.anonymise_tips(session, team_id, user_id))]
            counts += [(eraser.what, eraser.erase(session, team_id, user_id)) for eraser in ERASERS]
            work = [vars(post) for post in posts if choice is TipsChoice.DELETE or post.source in POSTED_BY_THE_APP]
            stored = queries.receipt(session, team_id, key)
            assert stored is not None
            stored.counts = json.dumps(counts)
            stored.slack_work = json.dumps({"tips": work, "questions": asked, "checkins": [vars(c) for c in checkins]})
            log.info("forgot team=%s user=%s choice=%s counts=%s", team_id, user_id, choice.value, dict(counts))
        else:
            stored = queries.receipt(session, team_id, key)
            assert stored is not None
            counts = [tuple(pair) for pair in json.loads(stored.counts)]
            saved = json.loads(stored.slack_work)
            if isinstance(saved, list):  # a receipt written before question posts were kept: the tips' alone
                saved = {"tips": saved, "questions": []}
            work, asked = saved["tips"], saved["questions"]
            checkins = [queries.CheckinPost(**post) for post in saved.get("checkins", [])]  # none in older receipts
            log.info("forget-me ran again team=%s: the same counts, the Slack side finished", team_id)
    left = _clean_slack(services, team_id, choice, [queries.TipPost(**post) for post in work])
    left += _delete_question_posts(services, [(str(channel), str(ts)) for channel, ts in asked])
    left += _clean_checkin_posts(services, user_id, checkins)
    _forget_failed_requests(services, team_id, user_id)
    return Forgotten(choice, tuple((str(what), int(count)) for what, count in counts), left)


def _forget_failed_requests(services: Services, team_id: str, user_id: str) -> int:
    """Delete the workspace's jobs that failed for good whose request names the person: a /tip or
    /ask that failed keeps its text, a shortcut the message it was used on, otherwise for 14 days
    (runtime/maintenance.py). Queued and running jobs are left to run. In the job queue's own database
    (its own file on SQLite), so after the erasure's transaction, on every run: a rerun finds none."""
    queue = services.db.queue
    with queue.snapshot() as session:
        failed = job_queries.failed_jobs_of(session, team_id)
        ids = [job.id for job in failed if request_names(job.body, job.mode, user_id)]
    if not ids:
        return 0
    with queue.transaction() as session:
        forgotten = job_queries.forget_failed(session, team_id, ids)
    log.info("forgot failed requests team=%s count=%s", team_id, forgotten)
    return forgotten


def request_names(body: str, mode: str, user_id: str) -> bool:
    """Whether a kept Slack request names the person: a value in it is their id, exactly (who acted,
    whose message a shortcut was used on or got a reaction). A body that can't be read: whether their
    id appears in it at all (a failed job, deleted when in doubt)."""
    try:
        if mode == "socket_mode" or body.lstrip().startswith("{"):  # Events API and Socket Mode: JSON
            found: object = json.loads(body)
        else:  # a slash command's form, or an interaction's form with its JSON `payload`
            form: dict[str, object] = {key: values[-1] for key, values in parse_qs(body).items()}
            if isinstance(payload := form.get("payload"), str):
                form["payload"] = json.loads(payload)
            found = form
    except ValueError:
        return user_id in body
    return any(value == user_id for value in _values(found))


def _values(found: object) -> Iterator[object]:
    stack = [found]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        else:
            yield value


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


def _clean_checkin_posts(services: Services, user_id: str, posts: list[queries.CheckinPost]) -> int:
    """Take away the app's replies that showed the person's check-in answers in round threads, and
    take them out of the closed rounds' summaries (quoted, or their streak); each on its own, so one
    that fails never stops the others. How many Slack refused (or could not be read)."""
    left = 0
    for post in posts:
        outcomes = [_delete_checkin_reply(services, user_id, post)]
        if post.summarised:
            outcomes.append(
                forget_in_summary(
                    services.slack, post.channel_id, post.thread_ts, post.round_id, user_id, oldest=post.reply_ts
                )
            )
        for failed in outcomes:
            if _refused(failed):
                left += 1
                log.warning("round %s: a check-in post still shows the person: %s", post.round_id, failed)
    return left


def _delete_checkin_reply(services: Services, user_id: str, post: queries.CheckinPost) -> Failed | None:
    reply_ts = post.reply_ts
    if reply_ts is None and post.answered:  # an earlier run may have posted it and died before keeping it
        payload = {"round_id": post.round_id, "user_id": user_id}
        found = services.slack.find_reply_by_metadata(post.channel_id, post.thread_ts, ANSWERED_EVENT, payload)
        if not isinstance(found, Posted):
            return found
        reply_ts = found.ts
    return None if reply_ts is None else services.slack.delete_message(post.channel_id, reply_ts)


def _refused(failed: Failed | None) -> bool:
    return isinstance(failed, Failed) and failed.error not in ("message_not_found", "channel_not_found")


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
