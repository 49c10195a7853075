"""`/peerlearn my-data`: everything Peerlearn holds about the person asking, as a JSON file in their DM.

One section per kind of data, each filled by its capability's reader (SECTIONS: a capability that
keeps something about people adds its section here). Tips are streamed, and the file is written a
piece at a time, so a prolific author's data is never in memory whole.

Not in the file, and why: request keys (a hash of Slack's id for a click or command, kept 10
minutes, naming nobody), erasure receipts (counts only), logs and failed jobs (kept for operators,
deleted after 14 days). Workspace settings a person made (schedules, custom prompts, circles they
own) are in it: they name the person as who set them up.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from bot.circles.rules import questions_of
from bot.people.files import Delivered, FileToSend, deliver
from bot.services import Services
from bot.slack.results import Failed
from storage import home as home_queries
from storage import pairing as profile_queries
from storage import people_data as queries
from storage import questions as question_queries

log = logging.getLogger(__name__)

Collect = Callable[[Session, str, str], Iterable[Any] | dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    name: str  # the key in the JSON file
    collect: Collect  # (session, team_id, user_id) -> a list's items (streamed), or one object


def _tips(session: Session, team_id: str, user_id: str) -> Iterator[dict[str, Any]]:
    for row in queries.tips_of(session, team_id, user_id):
        number, _author, text, tags, channel, created, helpful, permalink, source, posted_in, ts = row
        yield {
            "number": number,  # as the workspace sees it ("Tip #3")
            "text": text,
            "tags": tags.split(),
            "shared_in": channel,
            "created": _iso(created),
            "helpful_votes": helpful,
            "shared_as": source,
            "posted_in": posted_in,
            "message_ts": ts,
            "permalink": permalink,
        }


def _profile(session: Session, team_id: str, user_id: str) -> dict[str, Any] | None:
    row = profile_queries.profile(session, team_id, user_id)
    if row is None:
        return None
    skills = profile_queries.skills_of(session, team_id, user_id)
    return {
        "teaches": skills.get(profile_queries.TEACH, []),
        "learns": skills.get(profile_queries.LEARN, []),
        "level": row.level,
        "team": row.team_name,
        "open_to_mentoring": row.open_to_mentoring,
        "open_to_being_mentored": row.open_to_mentee,
        "open_to_coffee": row.open_to_coffee,
        "mentees_per_round": row.capacity,
        "rather_not_paired_with": row.avoids.split(),
        "paused_until": _iso(row.paused_until),
        "out_of_pairing": row.opted_out,
        "rounds_missed_in_a_row": row.missed_rounds,
        "deactivated_at": _iso(row.deactivated_at),
        "created": _iso(row.created_at),
        "updated": _iso(row.updated_at),
    }


def _circles(session: Session, team_id: str, user_id: str) -> Iterator[dict[str, Any]]:
    for circle, member in queries.memberships_of(session, team_id, user_id):
        yield {
            "circle": circle.name,
            "channel": circle.channel_id,
            "joined": _iso(member.joined_at),
            "streak": member.streak,
            "rounds_to_sit_out": member.skip_rounds,
            "last_answered": _iso(member.last_answered_at),
        }


def _circles_owned(session: Session, team_id: str, user_id: str) -> Iterator[dict[str, Any]]:
    for circle in queries.circles_owned_by(session, team_id, user_id):
        yield {"circle": circle.name, "channel": circle.channel_id, "created": _iso(circle.created_at)}


def _checkins(session: Session, team_id: str, user_id: str) -> Iterator[dict[str, Any]]:
    for circle, round_, participant in queries.checkins_of(session, team_id, user_id):
        answers = json.loads(participant.answers) if participant.answers else []
        questions = questions_of(circle)
        yield {
            "circle": circle.name,
            "round": round_.period,
            "status": participant.status.value,
            "answers": [
                {"question": questions[i] if i < len(questions) else None, "answer": answer}
                for i, answer in enumerate(answers)
                if answer
            ],
            "answered": _iso(participant.answered_at),
        }


def _pairings(session: Session, team_id: str, user_id: str) -> Iterator[dict[str, Any]]:
    for round_, group in queries.pairings_of(session, team_id, user_id):
        yield {
            "channel": round_.channel_id,
            "round_started": _iso(round_.created_at),
            "mode": round_.mode,
            "with": [member for member in group.members.split() if member != user_id],
            "mentor": group.mentor_id,
            "skills": group.skills.split(),
            "outcome": group.outcome,
            "answered_by_you": group.answered_by == user_id,
        }
    for round_, left in queries.left_out_of(session, team_id, user_id):
        yield {"channel": round_.channel_id, "round_started": _iso(round_.created_at), "left_out": left.reason}


def _tips_activity(session: Session, team_id: str, user_id: str) -> dict[str, Any]:
    votes = queries.votes_of(session, team_id, user_id)
    reactions = queries.reactions_of(session, team_id, user_id)
    deletions = queries.tip_deletions_by(session, team_id, user_id)
    return {
        "helpful_votes_given": [{"tip": tip, "at": _iso(at)} for tip, at in votes],
        "reactions_on_tips": [{"tip": tip, "reaction": name, "at": _iso(at)} for tip, name, at in reactions],
        "messages_you_saved_as_tips": queries.tips_saved_by(session, team_id, user_id),
        "tips_you_deleted": [{"tip": tip, "at": _iso(at)} for tip, at in deletions],
    }


def _home(session: Session, team_id: str, user_id: str) -> dict[str, Any] | None:
    visit = home_queries.visit_of(session, team_id, user_id)
    return None if visit is None else {"first_opened": _iso(visit.first_seen_at)}


def _settings(session: Session, team_id: str, user_id: str) -> dict[str, Any]:
    return {
        "schedules_you_set": [
            {"channel": s.channel_id, "kind": s.kind, "cadence": s.cadence, "at": s.at_time, "zone": s.zone}
            for s in queries.schedules_set_by(session, team_id, user_id)
        ],
        "prompts_you_added": [
            {"number": p.number, "text": p.text, "created": _iso(p.created_at), "removed": _iso(p.removed_at)}
            for p in queries.prompts_added_by(session, team_id, user_id)
        ],
        "posts_you_asked_for": [
            {"channel": p.channel_id, "kind": p.kind, "status": p.status, "at": _iso(p.created_at)}
            for p in queries.posts_requested_by(session, team_id, user_id)
        ],
        "files_sent_to_you": [
            {"kind": d.kind, "asked": _iso(d.created_at), "sent": _iso(d.shared_at)}
            for d in queries.files_sent_to(session, team_id, user_id)
        ],
    }


SECTIONS: tuple[Section, ...] = (
    Section("tips", _tips),
    Section("tip_activity", _tips_activity),
    Section("mentoring_profile", _profile),
    Section("circles", _circles),
    Section("circles_you_own", _circles_owned),
    Section("check_ins", _checkins),
    Section("pairings", _pairings),
    Section("workspace_settings", _settings),
    Section("home", _home),
    Section("questions", question_queries.questions_data_of),
)


def write_my_data(session: Session, team_id: str, user_id: str, now: datetime, out: BinaryIO) -> None:
    """The JSON document, written section by section (lists item by item)."""
    about = {"workspace": team_id, "user": user_id, "generated": _iso(now), "by": "Peerlearn (/peerlearn my-data)"}
    out.write(b'{\n"about": ' + _json(about))
    for section in SECTIONS:
        out.write(b",\n" + _json(section.name) + b": ")
        collected = section.collect(session, team_id, user_id)
        if collected is None or isinstance(collected, dict):
            out.write(_json(collected))
            continue
        out.write(b"[")
        for index, item in enumerate(collected):
            out.write((b",\n  " if index else b"\n  ") + _json(item))
        out.write(b"\n]")
    out.write(b"\n}\n")


def send_my_data(services: Services, *, team_id: str, user_id: str, key: str) -> Delivered | Failed:
    """The person's own data, in their DM, once per request. Anyone may ask for their own; only theirs."""
    now = services.clock()

    def write(out: BinaryIO) -> None:
        with services.db.snapshot() as session:
            write_my_data(session, team_id, user_id, now, out)

    day = now.astimezone(UTC).strftime("%Y-%m-%d")
    file = FileToSend(
        kind="my_data",
        filename=f"peerlearn-my-data-{day}.json",
        title=f"Your Peerlearn data, {day}",
        comment="Here is everything Peerlearn holds about you (`/peerlearn my-data`). "
        "`/peerlearn forget-me` deletes it.",
        write=write,
    )
    return deliver(services, team_id=team_id, user_id=user_id, key=key, file=file)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
