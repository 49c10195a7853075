"""Telling a round's people, each exactly once: the group DMs, who was left out and why, the admin.

Each group DM: the conversation is recorded before the post, the post carries metadata naming the
group, and a rerun that finds a conversation without a post looks for that message before posting.
One group's trouble never stops the others; a DM that cannot be opened skips that group, and the
admin who set the round up is told how many.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.pairing import round_blocks
from bot.pairing.service import profile_from_row
from bot.slack.conversations import open_group
from bot.slack.gateway import SlackGateway
from bot.slack.ratelimits import RateLimited
from bot.slack.results import Failed, Posted
from storage import pairing as profile_queries
from storage import pairing_rounds as queries
from storage.db import Database
from storage.models import MentorProfile, PairingGroup, PairingRound

log = logging.getLogger(__name__)

METADATA_TYPE = "peerlearn_pairing"
Skills = dict[str, dict[str, list[str]]]


class Delivery:
    def __init__(self, db: Database, slack: SlackGateway, *, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.slack = slack
        self.clock = clock

    def deliver(self, round_id: int) -> None:
        """Message every group not yet messaged, tell who was left out, and report to the admin once."""
        with self.db.snapshot() as session:
            round_ = session.get(PairingRound, round_id)
            assert round_ is not None
            groups = queries.groups_of(session, round_id)
            left_out = [row for row in queries.left_out_of(session, round_id) if row.told_at is None]
            skills = profile_queries.skills_of_many(
                session, round_.team_id, [m for g in groups for m in g.members.split()]
            )
            profiles = profile_queries.profiles_of(
                session, round_.team_id, [m for g in groups for m in g.members.split()]
            )
        for group in groups:
            if group.message_ts is None and group.problem is None:
                try:
                    self._message_group(round_, group, profiles, skills)
                except RateLimited:  # (in a job) the whole delivery again after the Retry-After
                    raise
                except Exception:  # one group's trouble never stops the others; its ids are logged
                    log.exception("pairing group=%s round=%s could not be messaged", group.id, round_id)
        for row in left_out:
            self.slack.tell(row.user_id, round_blocks.left_out_text(round_.channel_id, row.reason))
            with self.db.transaction() as session:
                queries.mark_told(session, round_id, row.user_id, self.clock())
        self._report(round_id)

    def _message_group(
        self, round_: PairingRound, group: PairingGroup, profiles: dict[str, MentorProfile], skills: Skills
    ) -> None:
        members = group.members.split()
        conversation = group.conversation_id
        if conversation is None:
            opened = open_group(self.slack, members)
            if isinstance(opened, Failed):
                with self.db.transaction() as session:
                    queries.set_message(session, group.id, None, None, opened.error)
                return
            conversation = opened
            with self.db.transaction() as session:  # recorded before the post: a rerun looks before posting
                queries.set_message(session, group.id, conversation, None, None)
        else:
            found = self.slack.find_by_metadata(conversation, METADATA_TYPE, "group_id", group.id)
            if isinstance(found, Posted):  # else none found, or Slack couldn't say: posted
                with self.db.transaction() as session:
                    queries.set_message(session, group.id, conversation, found.ts, None)
                return
        people = [_member(uid, profiles.get(uid), skills.get(uid, {})) for uid in members]
        text, blocks = round_blocks.group_message(
            group.id, round_.channel_id, people, group.mentor_id, tuple(group.skills.split())
        )
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"group_id": group.id}}
        posted = self.slack.post(conversation, text, blocks, metadata=metadata)
        with self.db.transaction() as session:
            if isinstance(posted, Posted):
                queries.set_message(session, group.id, conversation, posted.ts, None)
            else:
                queries.set_message(session, group.id, conversation, None, posted.error)

    def show_answer(self, group_id: int, outcome: str, user_id: str) -> None:
        """Redraw the group's own message (the one recorded, never one a request names) with the answer
        in place of its buttons."""
        with self.db.snapshot() as session:
            group = session.get(PairingGroup, group_id)
            round_ = session.get(PairingRound, group.round_id) if group else None
            if group is None or round_ is None or not group.conversation_id or not group.message_ts:
                return
            members = group.members.split()
            skills = profile_queries.skills_of_many(session, group.team_id, members)
            profiles = profile_queries.profiles_of(session, group.team_id, members)
        people = [_member(uid, profiles.get(uid), skills.get(uid, {})) for uid in members]
        _text, blocks = round_blocks.group_message(
            group.id, round_.channel_id, people, group.mentor_id, tuple(group.skills.split())
        )
        answered_text, answered_blocks = round_blocks.answered(outcome, user_id)
        blocks = [b for b in blocks if b.get("type") != "actions"] + answered_blocks
        if failed := self.slack.update(group.conversation_id, group.message_ts, answered_text, blocks):
            log.warning("pairing group=%s: its message not updated: %s", group_id, failed.error)

    def _report(self, round_id: int) -> None:
        with self.db.transaction() as session:
            round_ = queries.claim_report(session, round_id, self.clock())
            if round_ is None:
                return
            groups = queries.groups_of(session, round_id)
            left = len(queries.left_out_of(session, round_id))
        trios = sum(len(g.members.split()) > 2 for g in groups)
        unreachable = sum(g.problem is not None for g in groups)
        self.slack.tell(
            round_.configured_by, round_blocks.summary_text(round_.channel_id, len(groups), trios, left, unreachable)
        )


def _member(user_id: str, row: MentorProfile | None, skills: dict[str, list[str]]) -> round_blocks.Member:
    profile = profile_from_row(row, skills) if row is not None else None
    return round_blocks.Member(
        user_id,
        team=profile.team if profile else None,
        level=profile.level if profile else None,
        teaches=profile.teaches if profile else (),
        learns=profile.learns if profile else (),
    )
