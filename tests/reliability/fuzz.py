"""A small seeded generator of hostile input (hypothesis is not installed, and a fixed seed with
bounded counts keeps the suite's time and its failures reproducible): malformed, huge, non-finite,
forged, NUL and control characters, Unicode of every kind, and Slack's own markup."""

from __future__ import annotations

import random
from typing import Any

NUMBERS = [
    "0", "-1", "1", "7", "12", "13", "52", "53", "2147483647", "2147483648", "9223372036854775808",
    "99999999999999999999999", "1e309", "-1e309", "1e9", "inf", "-inf", "nan", "NaN", "Infinity", "0x10",
    "1_000", "٣", "²", "１２", "3.5", "-0", "+4", "00000000000000000000001", "#42", "#", "1.", ".5", "4e-400",
]  # fmt: skip
WORDS = [
    "search", "top", "mine", "delete", "help", "create", "join", "leave", "list", "info", "pause", "checkin",
    "now", "edit", "archive", "prompts", "prompt", "digest", "digests", "schedules", "add", "remove", "off",
    "profile", "find", "me", "resume", "daily", "weekdays", "weekly", "biweekly", "mon", "fri", "sun", "09:00",
    "24:00", "99:99", "23:59", "Europe/Berlin", "UTC", "Mars/Olympus", "../../etc/passwd", "channel-only", "week",
    "month", "all", "Rust", "learners", "#git", "#日本語", "#über-tag", "#c++", "<#C1|general>", "<#C1>",
    "<#CZZZ|x>", "#general", "<@U1>", "<!channel>", "<!here>", "&lt;", "&gt;", "&amp;", "<http://x.y|x>",
    "`code`", "*bold*", "_it_", "~s~", "hourly", "'; DROP TABLE tips; --", "{\"circle_id\": 1}", "null", "[]",
]  # fmt: skip
ODD_CHARACTERS = [
    "\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\r", "\r\n", "\t", "\u2028", "\u202e", "\u200b", "\ufeff",
    "\ud800", "\udfff", "\U0001f600", "\u0301", "日本語", "ü", "ﷺ", "𝔘𝔫𝔦", "\u00a0", " ", "\\", '"', "'", "<", ">",
    "&",
]  # fmt: skip


class Fuzz:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def pick(self, items: list[Any]) -> Any:
        return self.random.choice(items)

    def text(self, words: list[str] | None = None) -> str:
        """A line of hostile text: words, numbers, odd characters; sometimes huge."""
        roll = self.random.random()
        if roll < 0.05:
            return self.pick(ODD_CHARACTERS) * self.random.choice([1_000, 10_000, 100_000])
        if roll < 0.10:
            return "x" * self.random.choice([2_999, 3_000, 3_001, 5_000, 200_000])
        if roll < 0.13:
            return ""
        pool = (words or []) + WORDS
        parts = []
        for _ in range(self.random.randint(1, 8)):
            kind = self.random.random()
            if kind < 0.45:
                parts.append(self.pick(pool))
            elif kind < 0.70:
                parts.append(self.pick(NUMBERS))
            elif kind < 0.90:
                parts.append(self.pick(ODD_CHARACTERS))
            else:
                parts.append("".join(chr(self.random.randint(0, 0x2FFFF)) for _ in range(self.random.randint(1, 12))))
        return self.pick([" ", "  ", "\t", ""]).join(parts)

    def command(self, keywords: list[str]) -> str:
        """Text for a slash command: mostly starting with one of its keywords, so parsing goes deep."""
        head = self.pick(keywords) if self.random.random() < 0.8 else ""
        return f"{head} {self.text(keywords)}" if head else self.text(keywords)

    def value(self, depth: int = 0) -> Any:
        """Any JSON value Slack could be made to carry (and a few floats JSON cannot)."""
        roll = self.random.random()
        if roll < 0.25 or depth > 2:
            return self.pick([None, True, False, 0, -1, 2**31, 2**63, 10**30, 1.5, float("inf"), float("nan")])
        if roll < 0.6:
            return self.text()
        if roll < 0.8:
            return [self.value(depth + 1) for _ in range(self.random.randint(0, 3))]
        return {self.pick(["value", "selected_option", "selected_options", "selected_conversation",
                           "selected_time", "selected_users", "type"]): self.value(depth + 1)
                for _ in range(self.random.randint(0, 3))}  # fmt: skip

    def form(self, fields: dict[str, str], good: dict[str, Any], action: str | None = None) -> dict[str, Any]:
        """A view's state.values: each block of `fields` (block id -> its value key) kept as a good
        value (`good`: block id -> its state), dropped, or given an odd value in the right place or a
        wrong shape altogether. Each block's state sits under its action id (`action`, else the block id)."""
        values: dict[str, Any] = {}
        for block_id, key in fields.items():
            inner = action or block_id
            roll = self.random.random()
            if roll < 0.1:
                continue
            if roll < 0.2:
                values[block_id] = self.value()
            elif roll < 0.4:
                values[block_id] = {inner: good[block_id]}
            elif roll < 0.5:
                values[block_id] = {inner: self.value()}
            elif key == "selected_option":
                values[block_id] = {inner: {key: {"value": self.pick([self.text(), *NUMBERS, *WORDS])}}}
            elif key in ("selected_options", "selected_users"):
                values[block_id] = {inner: {key: [self.value() for _ in range(self.random.randint(0, 30))]}}
            else:
                values[block_id] = {inner: {key: self.pick([self.text(), self.pick(NUMBERS), self.value()])}}
        return values
