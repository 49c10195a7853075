"""What Slack's Web API reference says of each method the app calls: the arguments it requires, the
bot scopes it needs (per conversation type where Slack decides by type), its rate tier.

Read from slack_reference.json, a copy of Slack's method reference (see its `_source`), so the
emulation answers `missing_scope` and missing arguments as Slack does rather than as we assume.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE_FILE = Path(__file__).with_name("slack_reference.json")

# Slack names a conversation scope by the type it opens: channels:history is for public channels,
# groups:history for private ones, im:history for DMs, mpim:history for group DMs.
SCOPE_PREFIX = {"public_channel": "channels", "private_channel": "groups", "im": "im", "mpim": "mpim"}


@dataclass(frozen=True)
class MethodReference:
    name: str
    required: tuple[str, ...]  # arguments Slack refuses the call without
    one_of: tuple[tuple[str, ...], ...]  # groups of arguments of which at least one must be given
    bot_scopes: tuple[str, ...]
    rate_tier: str | None

    @property
    def scoped_by_conversation_type(self) -> bool:
        """Whether the scope depends on the conversation's type (history, info, replies, open, list)."""
        prefixes = {scope.split(":")[0] for scope in self.bot_scopes}
        return len(self.bot_scopes) > 1 and prefixes <= set(SCOPE_PREFIX.values())

    def scope_for(self, kind: str) -> str | None:
        """The one scope this method needs on a conversation of `kind` (public_channel, im, ...)."""
        prefix = SCOPE_PREFIX[kind] + ":"
        return next((scope for scope in self.bot_scopes if scope.startswith(prefix)), None)


@dataclass(frozen=True)
class Reference:
    methods: dict[str, MethodReference]
    events: dict[str, tuple[str, ...]]  # event subscription -> scopes that allow it

    def method(self, name: str) -> MethodReference | None:
        return self.methods.get(name)


@cache
def slack_reference(path: Path = REFERENCE_FILE) -> Reference:
    data = json.loads(path.read_text())
    return Reference(
        methods={
            name: MethodReference(
                name=name,
                required=tuple(entry["required"]),
                one_of=tuple(tuple(group) for group in entry["one_of"]),
                bot_scopes=tuple(entry["bot_scopes"]),
                rate_tier=entry.get("rate_tier"),
            )
            for name, entry in data["methods"].items()
        },
        events={name: tuple(scopes) for name, scopes in data["events"].items()},
    )
