"""Which learning prompt a channel gets next, and the workspace's own prompts."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from sqlalchemy.orm import Session

from bot.schedules.commands import ADD_USAGE
from bot.schedules.prompt_bank import BUILTIN_PROMPTS, Prompt
from bot.schedules.rules import ScheduleInputError
from storage import events
from storage import schedules as queries
from storage.db import Database
from storage.models import CustomPrompt

MAX_PROMPT_LENGTH = 500


class PromptRejected(ScheduleInputError):
    """Why a prompt's text can't be used, with the usage line of `/peerlearn prompt add`."""

    def __init__(self, message: str) -> None:
        super().__init__(message, usage=ADD_USAGE)


def workspace_bank(session: Session, team_id: str) -> list[Prompt]:
    custom = [
        Prompt(key=f"custom:{p.id}", text=p.text, theme="custom") for p in queries.custom_prompts(session, team_id)
    ]
    return [*BUILTIN_PROMPTS, *custom]


def choose(bank: list[Prompt], used: set[str], cycle: int, channel_id: str) -> tuple[Prompt, int]:
    """The next prompt for a channel: none repeats until the whole bank has been used.

    The order is a fixed shuffle per channel, so neighbouring channels don't ask the same thing
    on the same day, and a retried post picks the same prompt.
    """
    available = [prompt for prompt in bank if prompt.key not in used]
    if not available:
        cycle, available = cycle + 1, bank
    chosen = min(available, key=lambda prompt: hashlib.sha256(f"{channel_id}:{prompt.key}".encode()).digest())
    return chosen, cycle


def next_for_channel(
    session: Session, team_id: str, channel_id: str, bank: list[Prompt] | None = None
) -> tuple[Prompt, int]:
    """The channel's next prompt from `bank` (by default, the workspace's, read now) and its cycle."""
    cycle, used = queries.prompt_keys_in_cycle(session, team_id, channel_id)
    return choose(workspace_bank(session, team_id) if bank is None else bank, used, cycle, channel_id)


def text_of(session: Session, team_id: str, key: str | None) -> str | None:
    if key is None:
        return None
    if key.startswith("custom:"):
        number = key.removeprefix("custom:")
        prompt = queries.custom_prompt(session, team_id, int(number)) if re.fullmatch(r"[0-9]{1,9}", number) else None
        return prompt.text if prompt else None
    return next((prompt.text for prompt in BUILTIN_PROMPTS if prompt.key == key), None)


def prompt_text(text: str) -> str:
    """The text of a new prompt, or PromptRejected: not empty, not over-long, no control characters
    (SQLite would store a NUL that PostgreSQL refuses, and Slack shows none of them)."""
    text = text.replace("\t", " ").strip()
    if not text:
        raise PromptRejected("Give the prompt's text, e.g. `/peerlearn prompt add What did you automate this week?`")
    if len(text) > MAX_PROMPT_LENGTH:
        raise PromptRejected(f"That prompt is {len(text):,} characters; the limit is {MAX_PROMPT_LENGTH}.")
    bad = next((ch for ch in text if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs")), None)
    if bad is not None:
        raise PromptRejected(
            f"That prompt contains an invisible control character (U+{ord(bad):04X}); type it again without it."
        )
    return text


def add(session: Session, team_id: str, text: str, user_id: str) -> CustomPrompt:
    return queries.add_custom_prompt(session, team_id, prompt_text(text), user_id)


def remove(session: Session, team_id: str, number: int) -> bool:
    """Remove the workspace's prompt numbered `number`, as `/peerlearn prompt list` shows it."""
    return queries.remove_custom_prompt(session, team_id, number)


def custom(session: Session, team_id: str) -> list[CustomPrompt]:
    return queries.custom_prompts(session, team_id)


def is_prompt_thread(db: Database, team_id: str, channel_id: str, thread_ts: str) -> bool:
    """Whether a thread is one of our prompts: one indexed read, decided before anything is stored."""
    with db.reading() as connection:
        return queries.is_prompt_post(connection, team_id, channel_id, thread_ts)


def record_reply(db: Database, team_id: str, channel_id: str, thread_ts: str, event_id: str | None) -> bool:
    """Count a reply in a prompt's thread, once per delivery; False when the thread is no prompt."""
    with db.transaction() as session:
        if not queries.is_prompt_post(session, team_id, channel_id, thread_ts):
            return False
        if event_id is not None and not events.claim_event(session, team_id, event_id):
            return True
        return queries.count_reply(session, team_id, channel_id, thread_ts)
