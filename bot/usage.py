"""Usage lines: a mistake is answered with the one line that fixes it, never the whole help."""

from __future__ import annotations

import difflib
from collections.abc import Mapping


def closest(word: str, keywords: Mapping[str, str]) -> str | None:
    """The keyword `word` was probably meant to be (`promts` → `prompts`), if any is close."""
    found = difflib.get_close_matches(word.lower()[:40], list(keywords), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_word(shown: str, keywords: Mapping[str, str], help_line: str) -> tuple[str, str]:
    """(the problem, the one usage line) for a word no command starts with; `shown` is the word as
    it may be shown back (escaped, cut short), `keywords` each command's usage line."""
    meant = closest(shown, keywords)
    if meant is None:
        return f"I don't know `{shown}`.", help_line
    return f"I don't know `{shown}`. Did you mean `{meant}`?", keywords[meant]
