"""What Slack learns from the app's manifest.yml: its commands, shortcuts, events, scopes and App Home tabs.

The sandbox reads the same file Slack reads, so a command missing from the manifest is as unknown
in the sandbox as it would be in Slack, and events the app did not subscribe to are never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    usage_hint: str
    should_escape: bool


@dataclass(frozen=True)
class Shortcut:
    name: str
    callback_id: str
    kind: str  # message | global
    description: str


@dataclass(frozen=True)
class Manifest:
    app_name: str
    commands: dict[str, Command]
    shortcuts: list[Shortcut]
    bot_events: frozenset[str]
    bot_scopes: frozenset[str]  # what the installed bot token is granted
    home_tab: bool
    messages_tab: bool
    messages_read_only: bool  # the Messages tab shows the app's DMs but takes no typing

    @classmethod
    def load(cls, path: Path = PROJECT_MANIFEST) -> Manifest:
        data: dict[str, Any] = yaml.safe_load(path.read_text())
        features = data.get("features") or {}
        home = features.get("app_home") or {}
        subscriptions = (data.get("settings") or {}).get("event_subscriptions") or {}
        return cls(
            app_name=(features.get("bot_user") or {}).get("display_name") or data["display_information"]["name"],
            commands={
                item["command"]: Command(
                    name=item["command"],
                    description=item.get("description", ""),
                    usage_hint=item.get("usage_hint", ""),
                    should_escape=bool(item.get("should_escape", False)),
                )
                for item in features.get("slash_commands") or []
            },
            shortcuts=[
                Shortcut(item["name"], item["callback_id"], item["type"], item.get("description", ""))
                for item in features.get("shortcuts") or []
            ],
            bot_events=frozenset(subscriptions.get("bot_events") or []),
            bot_scopes=frozenset(((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []),
            home_tab=bool(home.get("home_tab_enabled")),
            messages_tab=bool(home.get("messages_tab_enabled", True)),
            messages_read_only=bool(home.get("messages_tab_read_only_enabled", False))
            or not home.get("messages_tab_enabled", True),
        )

    def subscribed(self, event_type: str, channel_type: str) -> bool:
        """Whether Slack would send this event: `message` events are subscribed per kind of channel."""
        if event_type == "message":
            suffix = {"channel": "channels", "group": "groups", "im": "im", "mpim": "mpim"}[channel_type]
            return f"message.{suffix}" in self.bot_events
        return event_type in self.bot_events

    def as_json(self) -> dict[str, Any]:
        return {
            "app_name": self.app_name,
            "commands": [vars(command) for command in self.commands.values()],
            "shortcuts": [vars(shortcut) for shortcut in self.shortcuts],
            "home_tab": self.home_tab,
            "messages_tab": self.messages_tab,
            "messages_read_only": self.messages_read_only,
        }
