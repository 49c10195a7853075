"""Who knows what a question is about: the people to ask, best first, and why each was picked.

Evidence per topic is `/mentor find`'s (bot/pairing/service.helpers_on: teaching the skill and how
experienced, tips tagged with it and the helpful votes they got, pairings met on it; paused,
opted-out and deactivated people left out), plus answers of theirs the askers accepted on questions
about it. Scores add up over the question's topics, with `/mentor find`'s weights (helper_rank).
Then: never the asker or anyone asked already, nobody with MAX_OPEN open questions or asked about
MAX_ASKS_PER_DAY in the last day, and people whose working hours (their Slack time zone) include now
ahead of equals who are off.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.pairing.blocks import Helper, why_listed
from bot.pairing.service import helper_rank, helpers_on
from bot.questions.rules import in_working_hours
from bot.slack.users import Person
from bot.text import escape_mrkdwn, truncate
from storage import questions as queries
from storage.db import Database

MAX_OPEN = 3  # open questions one person is asked about at once
# Questions one person is DMed about in a day, open or closed: MAX_OPEN alone let an asker who closes
# each question at once (`/ask …` then `/ask close N`, in a loop) DM the same experts without end.
# Two a working morning and afternoon and a couple more is as much interruption as helping should
# cost the best-known people; past it the next who know are asked, and the question is still posted.
MAX_ASKS_PER_DAY = 6
DAY = timedelta(days=1)
DM_STATES = ("pending", "asked", "helping", "declined")  # asks whose DM went (or is going) out
PER_TOPIC = 30  # people considered per topic (a wave asks 3; escalations and "Not me" the next)
SHORTLIST = 20  # looked up in Slack (time zone, still there) — one users.info each at most
ACCEPTED_WEIGHT = 30  # an accepted answer on the topic: stronger than a tip, like a pairing met on it
OFF_HOURS = 0.5  # the score of someone outside their working hours right now
MAX_REASONS = 300

Lookup = Callable[[Collection[str]], Mapping[str, Person]]


@dataclass
class Evidence:
    """What the workspace knows about people on each topic of one question."""

    topics: tuple[str, ...]
    helpers: dict[str, dict[str, Helper]] = field(default_factory=dict)  # person → topic → their evidence
    accepted: dict[tuple[str, str], int] = field(default_factory=dict)  # (person, topic) → accepted answers

    def people(self) -> set[str]:
        return set(self.helpers) | {user for user, _ in self.accepted}

    def scores(self) -> dict[str, int]:
        """Everyone's score: `/mentor find`'s over each topic, plus ACCEPTED_WEIGHT an accepted answer."""
        found = {user: sum(helper_rank(h) for h in topics.values()) for user, topics in self.helpers.items()}
        for (user, _), count in self.accepted.items():
            found[user] = found.get(user, 0) + ACCEPTED_WEIGHT * count
        return found

    def reasons(self, user_id: str) -> str:
        """Why they were picked, e.g. "teaches postgres (senior) · 5 tips on #postgres, 23 found them helpful"."""
        parts = []
        for topic in self.topics:
            helper = self.helpers.get(user_id, {}).get(topic)
            said = why_listed(topic, helper) if helper is not None else ""
            if accepted := self.accepted.get((user_id, topic), 0):
                answers = "answer" if accepted == 1 else "answers"
                said = " · ".join(filter(None, [said, f"{accepted} accepted {answers} on {escape_mrkdwn(topic)}"]))
            if said:
                parts.append(said)
        return truncate("; ".join(parts), MAX_REASONS)


def gather(session: Session, team_id: str, topics: tuple[str, ...], now: datetime) -> Evidence:
    evidence = Evidence(topics)
    for topic, helpers in helpers_on(session, team_id, topics, now, PER_TOPIC).items():
        for helper in helpers:
            evidence.helpers.setdefault(helper.user_id, {})[topic] = helper
    evidence.accepted = queries.accepted_answers(session, team_id, topics, now)  # without people on a break
    return evidence


@dataclass(frozen=True)
class Expert:
    user_id: str
    score: float
    in_hours: bool
    reasons: str = ""  # filled in for the people chosen (bot.questions.experts.choose)


def rank(
    evidence: Evidence,
    *,
    now: datetime,
    zones: Mapping[str, str | None] | None,
    load: Mapping[str, int],
    exclude: Collection[str],
    among: Collection[str] | None = None,
) -> list[Expert]:
    """Everyone the evidence names (or those of them `among`) who may be asked, best first (pure:
    tested without a database). With `zones` None, working hours are not known yet and count for nobody."""
    experts = []
    for user_id, base in evidence.scores().items():
        if base <= 0 or user_id in exclude or load.get(user_id, 0) >= MAX_OPEN:
            continue
        if among is not None and user_id not in among:
            continue
        in_hours = zones is None or in_working_hours(now, zones.get(user_id))
        experts.append(Expert(user_id, base * (1.0 if in_hours else OFF_HOURS), in_hours))
    experts.sort(key=lambda e: (-e.score, e.user_id))
    return experts


def choose(
    db: Database,
    team_id: str,
    topics: tuple[str, ...],
    *,
    now: datetime,
    exclude: Collection[str],
    lookup: Lookup,
) -> list[Expert]:
    """The people to ask about a question on `topics`, best first: up to SHORTLIST of them, each
    checked with Slack (`lookup`: still there, not a bot, their time zone)."""
    if not topics:
        return []
    # By evidence alone first: the best few are checked for their load, the best of those with room
    # looked up in Slack, and only those ranked with their working hours. One read for all of it.
    with db.snapshot() as session:
        evidence = gather(session, team_id, topics, now)
        first = rank(evidence, now=now, zones=None, load={}, exclude=exclude)
        head = [e.user_id for e in first[: SHORTLIST * 3]]
        load = queries.open_load(session, team_id, head)
        today = queries.asks_since(session, team_id, head, now - DAY, DM_STATES)
    capped = {u for u in head if today.get(u, 0) >= MAX_ASKS_PER_DAY}
    shortlist = [u for u in head if load.get(u, 0) < MAX_OPEN and u not in capped][:SHORTLIST]
    people = lookup(shortlist)
    gone = {u for u in shortlist if (p := people.get(u)) is None or p.deleted or p.is_bot}
    zones = {u: p.timezone for u, p in people.items()}
    ranked = rank(evidence, now=now, zones=zones, load=load, exclude={*exclude, *gone}, among=shortlist)
    return [replace(e, reasons=evidence.reasons(e.user_id)) for e in ranked]


def add_ask_within_caps(session: Session, values: dict[str, Any]) -> bool:
    """Record that `values["user_id"]` is asked about a question, if they still have room: fewer
    than MAX_OPEN open questions and MAX_ASKS_PER_DAY asks in the last day, counted now, under their
    lock, in the transaction that adds the ask. `choose` read their load beforehand, outside it:
    concurrent routings (two job threads, two workers) could each see room and all add. False: no
    room (ask the next person), or they were asked about this question before."""
    team_id, user_id = str(values["team_id"]), str(values["user_id"])
    since = values["created_at"] - DAY
    queries.hold_asked(session, team_id, user_id)
    if queries.open_load(session, team_id, [user_id]).get(user_id, 0) >= MAX_OPEN:
        return False
    if queries.asks_since(session, team_id, [user_id], since, DM_STATES).get(user_id, 0) >= MAX_ASKS_PER_DAY:
        return False
    return queries.add_ask(session, values)
