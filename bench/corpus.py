"""Realistic synthetic tips and search queries, deterministic for a given seed.

Words follow a Zipf-Mandelbrot distribution over a vocabulary of a few thousand words ranked like
real text: English function words first (Slack users write sentences, and SQLite's FTS5 indexes
stopwords), then everyday tech words, then a long tail of made-up but pronounceable words.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


def _words(text: str) -> list[str]:
    return text.split()


STOPWORDS = _words(
    "the to a and of in is you for it that with on this can be your use if when i we or not are from "
    "by an as do at have so instead but all just more it's will my need run one how what before after "
    "then than get there only also up out new make don't always"
)

TECH_WORDS = _words(
    "git commit branch rebase merge test tests python docker container image cache build deploy "
    "review query index database sql postgres sqlite api request response error log logs debug config "
    "file files script shell bash terminal command flag option version release staging production "
    "server client timeout retry latency memory cpu profile profiler benchmark lint format type types "
    "mypy ruff pytest fixture mock stub coverage pipeline ci job workflow secret token key auth oauth "
    "permission role user users team slack channel thread message emoji reaction search filter sort "
    "page pagination schema migration table column row join transaction lock deadlock queue worker "
    "thread threads async await future promise callback event events handler hook middleware router "
    "route endpoint http https header cookie session browser css html javascript typescript react "
    "component state props render layout grid flex mobile ios android kotlin swift rust cargo crate "
    "go module package dependency lockfile upgrade downgrade rollback feature toggle experiment "
    "metric metrics dashboard alert incident oncall pager runbook postmortem outage backup restore "
    "snapshot volume disk network dns proxy load balancer kubernetes pod node cluster helm terraform "
    "aws gcp azure bucket lambda function class method variable constant loop recursion iterator "
    "generator decorator closure regex string bytes unicode encoding json yaml csv parser compiler "
    "interpreter runtime garbage collector heap stack pointer reference copy clone diff patch blame "
    "bisect stash cherry pick tag remote origin upstream fork pull push hotfix refactor rename "
    "extract inline readme docs documentation comment comments naming convention style guide pairing "
    "standup retro sprint estimate ticket backlog roadmap design spec prototype demo feedback mentor "
    "onboarding interview meeting calendar focus notes vim emacs vscode editor shortcut keyboard "
    "alias dotfiles homebrew apt venv pip poetry conda notebook pandas numpy plot chart report excel "
    "spreadsheet figma screenshot video recording"
)

TAGS = _words(
    "python git docker sql testing kubernetes aws frontend react css security performance "
    "productivity debugging design review postgres linux bash vim vscode oncall onboarding career "
    "writing meetings data ml api golang rust terraform ci observability mobile ios android "
    "accessibility docs"
)

_SYLLABLES = _words(
    "ka ri to ne mo la zu pe shi da vo ra ki mu ten sol var lin dor bex qua fi nor tal gri pon sek ul "
    "ar en ix om tro bla chu dre fen gol har jun kel mir nap ost pru rel sim tor vex wil"
)

TIP_KEYWORDS = ("help", "search", "top", "mine", "delete")  # bot/tip_commands.py
TEAM_ID = "T0TEST"  # tests.slack_double.TEAM_ID: the workspace the bench queries
OTHER_TEAM_ID = "T0OTHER"  # a second workspace in the same database, as in a multi-workspace install
TIP_CHANNELS = ("C1", "C2", "C3", "C4", "C5")


def build_vocabulary(size: int, rng: random.Random) -> list[str]:
    """Words in frequency rank order: function words, tech words, then made-up tail words."""
    words = list(dict.fromkeys([*STOPWORDS, *TECH_WORDS]))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words[:size]


def zipf_cum_weights(size: int, exponent: float = 1.07, shift: float = 2.7) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights 1/(rank+shift)^exponent, for random.choices."""
    return list(itertools.accumulate(1.0 / (rank + shift) ** exponent for rank in range(1, size + 1)))


@dataclass(frozen=True)
class Corpus:
    vocabulary: list[str]
    cum_weights: list[float]
    tag_cum_weights: list[float]

    @classmethod
    def build(cls, vocabulary_size: int = 4000, seed: int = 7) -> Corpus:
        rng = random.Random(seed)
        vocabulary = build_vocabulary(vocabulary_size, rng)
        return cls(vocabulary, zipf_cum_weights(len(vocabulary)), zipf_cum_weights(len(TAGS), 0.9, 1.0))

    def words(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=count)

    def tags(self, rng: random.Random) -> list[str]:
        count = rng.choices((0, 1, 2, 3), weights=(40, 35, 18, 7))[0]
        return list(dict.fromkeys(rng.choices(TAGS, cum_weights=self.tag_cum_weights, k=count)))

    def tip_text(self, rng: random.Random) -> tuple[str, list[str]]:
        """A 10-60 word tip, capitalised, with its #tags written in it as people do with /tip."""
        words = self.words(rng, rng.randint(10, 60))
        while words[0] in TIP_KEYWORDS:  # "/tip search …" would be a search, not a tip
            words[0] = self.words(rng, 1)[0]
        words[0] = words[0].capitalize()
        tags = self.tags(rng)
        text = " ".join(words) + "."
        if tags:
            text += " " + " ".join(f"#{tag}" for tag in tags)
        return text, tags

    def query(self, rng: random.Random) -> tuple[str, str]:
        """(category, query) for /tip search, mixed like real use."""
        vocabulary = self.vocabulary
        tech_end = len(STOPWORDS) + len(TECH_WORDS)
        category = rng.choices(("common", "rare", "multi", "question", "tag", "miss"), weights=(30, 20, 25, 15, 5, 5))[
            0
        ]
        if category == "common":  # one of the 60 most frequent tech words
            return category, rng.choice(vocabulary[len(STOPWORDS) : len(STOPWORDS) + 60])
        if category == "rare":  # a tail word: a handful of tips have it
            return category, rng.choice(vocabulary[max(tech_end, len(vocabulary) // 2) :])
        if category == "multi":  # 2-4 content words, mostly frequent ones
            content = vocabulary[len(STOPWORDS) :]
            ranks = [min(int(rng.paretovariate(0.8)) - 1, len(content) - 1) for _ in range(rng.randint(2, 4))]
            return category, " ".join(content[rank] for rank in ranks)
        if category == "question":  # how people type into a search box: with function words
            subject = " ".join(rng.sample(vocabulary[len(STOPWORDS) : tech_end], rng.randint(1, 2)))
            return category, rng.choice(
                (
                    f"how to {subject}",
                    f"how do I {subject}",
                    f"what is the best way to {subject}",
                    f"{subject} in the ci",
                    f"why is my {subject} slow",
                )
            )
        if category == "tag":
            return category, rng.choice(TAGS)
        return category, f"zzq{rng.randint(0, 10**6)}x"  # matches nothing


def tip_rows(
    corpus: Corpus,
    count: int,
    *,
    seed: int = 1,
    now: datetime | None = None,
    authors: int = 200,
    other_team_share: float = 0.1,
) -> Iterator[dict[str, Any]]:
    """`tips` rows, oldest first (ids grow with time), spread over the last year.

    Votes pile up with age: two thirds of tips never get one, the rest get a few more the longer
    they have been around, and about 1% are hits with dozens to hundreds.
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    year = timedelta(days=365).total_seconds()
    ages = sorted((rng.random() * year for _ in range(count)), reverse=True)
    for index, age in enumerate(ages):
        created_at = now - timedelta(seconds=age)
        team_id = OTHER_TEAM_ID if rng.random() < other_team_share else TEAM_ID
        author = f"U{rng.randint(1, authors)}"
        text, tags = corpus.tip_text(rng)
        source = rng.choices(("command", "modal", "reaction", "shortcut"), weights=(60, 10, 20, 10))[0]
        channel = rng.choice(TIP_CHANNELS)
        ts = f"{int(created_at.timestamp())}.{index % 1_000_000:06d}"
        roll = rng.random()
        if roll < 0.66:
            helpful = 0
        elif roll < 0.99:
            helpful = 1 + int(rng.expovariate(1.0 / (1.0 + 6.0 * age / year)))
        else:
            helpful = int(rng.randint(20, 300) * (0.1 + 0.9 * age / year))
        yield {
            "team_id": team_id,
            "author_id": author,
            "saved_by_id": None if source in ("command", "modal") else f"U{rng.randint(1, authors)}",
            "text": text,
            "tags": " ".join(tags),
            "source": source,
            "origin_channel_id": channel,
            "channel_id": channel,
            "message_ts": ts,
            "permalink": f"https://peerlearn-test.slack.com/archives/{channel}/p{ts.replace('.', '')}",
            "helpful_count": helpful,
            "created_at": created_at,
        }


@dataclass(frozen=True)
class KnownQuery:
    """A search whose answer a person knows: `best` must come first. The near misses are what
    ranking could wrongly prefer: more helpful tips holding fewer of the words, an equal tip with
    fewer votes, a closer match in another workspace."""

    query: str
    best: str
    best_votes: int
    near_misses: tuple[tuple[str, int, str], ...] = ()  # (text, helpful votes, workspace)


# Written as people write tips; the words are the corpus's own common ones (git, branch, docker,
# test, …: in thousands of its tips) unless a case is about a rare one.
KNOWN_QUERIES = (
    KnownQuery(
        "rebase branch",
        "Rebase your branch on main before review: a rebased branch shows only your change in the diff. #git",
        12,
        (
            ("Name every branch after its ticket so anyone can find the work.", 240, TEAM_ID),
            ("Never rebase what you already pushed to a shared remote.", 60, TEAM_ID),
        ),
    ),
    KnownQuery(
        "docker build cache",
        "Order Dockerfile steps from least to most often changed so docker build reuses its layer cache."
        " #docker #performance",
        20,
        (
            ("Clear the pip cache in CI when a wheel is corrupted.", 300, TEAM_ID),
            ("A docker image per commit makes a rollback one command.", 150, TEAM_ID),
        ),
    ),
    KnownQuery(
        "git branch commit merge",
        "Merge with git merge --no-ff so a branch's commits stay grouped under one merge commit. #git",
        25,
        (
            ("Commit early on a branch of your own and merge it back often.", 280, TEAM_ID),
            ("git commit --fixup and an autosquash rebase keep history clean.", 200, TEAM_ID),
        ),
    ),
    KnownQuery(  # the tip about it, against a more helpful one that mentions it in passing
        "pagination",
        "Paginate with a cursor, not an offset: offset pagination skips rows when new ones arrive. #api #pagination",
        20,
        (
            (
                "Our API reference lists every endpoint with its parameters, errors, rate limits and an example"
                " request and response, from authentication to pagination: read it before you write a client.",
                250,
                TEAM_ID,
            ),
        ),
    ),
    KnownQuery(
        "how do I squash commits",
        "Squash fixup commits before merging: git rebase -i --autosquash main. #git",
        9,
        (("Small commits make review easy: one idea per commit.", 120, TEAM_ID),),
    ),
    KnownQuery(
        "bisect",
        "git bisect run pytest finds the commit that broke a test while you get coffee. #git #bisect",
        30,
    ),
    KnownQuery(
        "caching dependencies in ci",
        "Cache dependencies in CI keyed on the lockfile hash: builds go from minutes to seconds. #ci",
        15,
        (("Pin every one of your dependencies in a lockfile.", 90, TEAM_ID),),
    ),
    KnownQuery(  # the same words and length: the votes decide
        "flaky test quarantine",
        "Quarantine each flaky test at once and file a ticket to fix it.",
        30,
        (("Quarantine a flaky test at once and file a ticket to fix it.", 0, TEAM_ID),),
    ),
    KnownQuery(  # a closer match elsewhere must not show
        "terraform state lock",
        "Terraform state lock stuck? Check nobody is applying, then terraform force-unlock the lock id.",
        15,
        (("Terraform state lock: terraform state lock, terraform state lock.", 300, OTHER_TEAM_ID),),
    ),
)


def known_query_rows(now: datetime) -> Iterator[dict[str, Any]]:
    """The `tips` rows of KNOWN_QUERIES' best tips and near misses, a month to a year old."""
    for number, case in enumerate(KNOWN_QUERIES):
        planted = [(case.best, case.best_votes, TEAM_ID), *case.near_misses]
        for index, (text, votes, team_id) in enumerate(planted):
            created_at = now - timedelta(days=30 + 37 * number + index)
            ts = f"{int(created_at.timestamp())}.{900_000 + 10 * number + index:06d}"
            yield {
                "team_id": team_id,
                "author_id": f"U{number + 1}",
                "saved_by_id": None,
                "text": text,
                "tags": " ".join(word[1:].lower() for word in text.split() if word.startswith("#")),
                "source": "command",
                "origin_channel_id": "C1",
                "channel_id": "C1",
                "message_ts": ts,
                "permalink": f"https://peerlearn-test.slack.com/archives/C1/p{ts.replace('.', '')}",
                "helpful_count": votes,
                "created_at": created_at,
            }


def any_word_ranking(session: Any, team_id: str, words: list[str], limit: int = -1) -> list[int]:
    """Every tip of the workspace holding any of `words`, best first, as /tip search ranked them
    before word levels (relevance and helpfulness alone): what the relevance checks compare with.
    `limit` -1: all of them."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        statement = """
            SELECT id FROM tips_search, to_tsquery('english', :query) AS query
            WHERE team_id = :team_id AND search_vector @@ query
            ORDER BY ts_rank(search_vector, query) * (1.0 + helpful_count::float / (helpful_count + 4)) DESC,
                     id DESC
            LIMIT NULLIF(:limit, -1)"""
        query = " | ".join(words)
    else:
        statement = """
            SELECT tips.id FROM tips_fts CROSS JOIN tips ON tips.id = tips_fts.rowid
            WHERE tips_fts MATCH :query AND tips.team_id = :team_id
            ORDER BY bm25(tips_fts) * (1.0 + tips.helpful_count * 1.0 / (tips.helpful_count + 4)), tips.id DESC
            LIMIT :limit"""
        query = " OR ".join(f'"{word}"' for word in words)
    return list(session.scalars(text(statement), {"query": query, "team_id": team_id, "limit": limit}))


@dataclass(frozen=True)
class SeedReport:
    tips: int
    seconds: float


def seed_tips(engine: Any, rows: Iterator[dict[str, Any]], batch: int = 5000) -> SeedReport:
    """Bulk-insert rows with SQLAlchemy Core executemany (FTS triggers / generated columns apply).

    Each tip is numbered in its workspace here (the model's default would take the workspace's
    counter once per row), and the counters are set to match at the end."""
    from sqlalchemy import delete, func, insert, select

    from storage.models import Tip, WorkspaceCounter

    statement = insert(Tip)
    started = time.perf_counter()
    total = 0
    with engine.begin() as connection:
        last = dict(connection.execute(select(Tip.team_id, func.max(Tip.number)).group_by(Tip.team_id)).all())
        while chunk := list(itertools.islice(rows, batch)):
            for row in chunk:
                last[row["team_id"]] = row["number"] = last.get(row["team_id"], 0) + 1
            connection.execute(statement, chunk)
            total += len(chunk)
        connection.execute(delete(WorkspaceCounter).where(WorkspaceCounter.kind == "tip"))
        if last:
            connection.execute(
                insert(WorkspaceCounter), [{"team_id": t, "kind": "tip", "last": n} for t, n in last.items()]
            )
    return SeedReport(total, time.perf_counter() - started)


def tip_targets(engine: Any, team_id: str, limit: int) -> Sequence[tuple[str, str, str]]:
    """(channel_id, message_ts, author_id) of the newest posted tips: what people react to."""
    from sqlalchemy import select

    from storage.models import Tip

    query = (
        select(Tip.channel_id, Tip.message_ts, Tip.author_id)
        .where(Tip.team_id == team_id, Tip.message_ts.is_not(None))
        .order_by(Tip.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [(str(c), str(ts), str(a)) for c, ts, a in connection.execute(query)]
