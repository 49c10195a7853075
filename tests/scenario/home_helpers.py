"""Driving the App Home as a person does: open the tab, click its buttons, fill the forms it opens."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from sandbox.workspace import View
from tests.slack_double import TEAM_ID, SlackDouble
from tests.slack_sender import SlackSender


def open_home(sender: SlackSender, user: str, tab: str = "home", **event: Any) -> None:
    sender.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": tab, **event})


def home_of(slack: SlackDouble, user: str) -> dict[str, Any]:
    """The Home view last published for `user`."""
    published = [call for call in slack.calls_to("views.publish") if call["user_id"] == user]
    assert published, f"no Home published for {user}"
    view = published[-1]["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def home_text(slack: SlackDouble, user: str) -> str:
    return json.dumps(home_of(slack, user), ensure_ascii=False)


def shown_view(slack: SlackDouble, user: str, kind: str = "modal") -> dict[str, Any]:
    """The view on the person's screen as Slack keeps it (with its id): their top modal, or their Home."""
    with slack.workspace.session() as session:
        rows = session.scalars(select(View).where(View.user_id == user, View.kind == kind)).all()
        assert rows, f"no {kind} open for {user}"
        return dict(json.loads(max(rows, key=lambda row: row.position).body))


def click(sender: SlackSender, user: str, view: dict[str, Any], action_id: str, value: str | None = None) -> None:
    """A button in a view (the Home or a modal), as Slack sends its block_actions."""
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "block_id": "b"}
    if value is not None:
        action["value"] = value
    sender.interaction(
        {
            "type": "block_actions",
            "user": {"id": user, "team_id": TEAM_ID},
            "trigger_id": sender.double.trigger_id(user),
            "container": {"type": "view", "view_id": view.get("id", "VHOME")},
            "view": {**view, "state": {"values": {}}},
            "actions": [action],
        }
    )


def click_on_home(sender: SlackSender, slack: SlackDouble, user: str, action_id: str, value: str | None = None) -> None:
    click(sender, user, shown_view(slack, user, "home"), action_id, value)


def submit(sender: SlackSender, user: str, view: dict[str, Any], values: dict[str, Any]) -> Any:
    """Submit a modal as it stands on the screen (its real id: the app may update it)."""
    return sender.interaction(
        {
            "type": "view_submission",
            "user": {"id": user, "team_id": TEAM_ID},
            "trigger_id": sender.double.trigger_id(user),
            "view": {**view, "state": {"values": values}},
        }
    ).json()


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a view, in order: in actions blocks and as section accessories."""
    found = []
    for block in view["blocks"]:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found.append(element)
    return found
