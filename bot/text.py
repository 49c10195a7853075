"""User text in and out of Slack.

Tips are stored as the plain text a person reads. Slack markup that arrives (mentions, channel
links, URLs, entity-escaped characters) is turned into readable text on the way in, and every
character that Slack would read as markup is escaped on the way out, so a tip that says
`<!channel>` shows those characters and pings nobody.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MARKUP = re.compile(r"<([^<>]*)>")
# A tag starts with a letter or digit of any script (`#日本語`, `#über-tag`) and may go on with
# letters, digits, `_`, `-`, `+` (`#c++`) and inner dots (`#node.js`, but not a sentence's full stop).
_TAG = re.compile(r"(?<![\w#&])#([^\W_][\w+-]*(?:\.[\w+-]+)*)")
MAX_TAG_LENGTH = 50
# C0/C1 controls (NUL included) and lone surrogates: PostgreSQL refuses NUL in text and no database
# stores a lone surrogate as UTF-8; none of them is anything a reader sees. Newline and tab stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_WORD = re.compile(r"\w+")

UserName = Callable[[str], str | None]


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's parser reads as markup, and nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_to_plain(text: str, user_name: UserName | None = None) -> str:
    """Slack-formatted message text -> what a reader sees, with no live mentions left."""

    def readable(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            name = label or (user_name(target[1:]) if user_name else None) or target[1:]
            return "@" + name
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!date^"):
            return label
        if target.startswith("!"):
            return "@" + target[1:]
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        return f"{label} ({target})" if label and label != target else target

    plain = _MARKUP.sub(readable, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def without_control_characters(text: str) -> str:
    """`text` without NUL and other control characters (newline and tab kept; CRLF read as a newline)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def extract_tags(text: str) -> list[str]:
    """`#words` in order of first appearance, lower-cased, without duplicates, at most 50 characters."""
    seen: dict[str, None] = {}
    for match in _TAG.finditer(text):
        tag = match.group(1).lower()[:MAX_TAG_LENGTH].rstrip(".-")
        seen.setdefault(tag, None)
    return list(seen)


def parse_tags(text: str) -> list[str]:
    """Tags typed in a field: `#python, sql testing` -> ['python', 'sql', 'testing']."""
    words = re.split(r"[\s,]+", text)
    return extract_tags(" ".join("#" + word.lstrip("#") for word in words if word.strip("#")))


# PostgreSQL's english text search configuration drops these; SQLite's FTS5 does not, and an OR of
# "how" and "to" matches nearly every tip. Dropping them here makes both engines agree, and fast.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can did do does doing don down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself
    no nor not now of off on once only or other our ours ourselves out over own s same she should so some
    such t than that the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with you your yours yourself
    yourselves""".split()
)


def search_words(text: str, limit: int = 12) -> list[str]:
    """Distinct words for a full-text query: letters and digits only (no operator reaches the
    database), lower-cased, without stop words; all of them if the query is nothing but stop words."""
    words = list(dict.fromkeys(word.lower() for word in _WORD.findall(text)))
    meaningful = [word for word in words if word not in STOPWORDS]
    return (meaningful or words)[:limit]


def truncate(text: str, limit: int, suffix: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(suffix))].rstrip() + suffix


def truncate_escaped(text: str, limit: int) -> str:
    """Escape `text` and cut it to `limit` characters without splitting an entity like `&amp;`."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"
