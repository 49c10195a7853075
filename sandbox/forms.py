"""A modal's `state.values`, built as Slack's client builds it from what is in the form.

The page builds the same shape in JavaScript; this Python twin fills forms for the seed and tests.
"""

from __future__ import annotations

from typing import Any


def element_value(element: dict[str, Any], chosen: str | None) -> dict[str, Any]:
    """One input's state: `chosen` is what was typed or picked (None: leave it as the form shows it)."""
    kind = element.get("type")
    if kind == "plain_text_input":
        value = chosen if chosen is not None else element.get("initial_value")
        return {"type": kind, "value": value or None}
    if kind == "static_select":
        options = element.get("options") or []
        if chosen is None:
            picked = element.get("initial_option")
        else:
            picked = next((o for o in options if o["value"] == chosen), None)
        return {"type": kind, "selected_option": picked}
    if kind == "checkboxes":  # `chosen`: the ticked options' values, comma-separated
        if chosen is None:
            return {"type": kind, "selected_options": element.get("initial_options") or []}
        ticked = set(chosen.split(","))
        return {"type": kind, "selected_options": [o for o in element.get("options") or [] if o["value"] in ticked]}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": chosen or element.get("initial_conversation")}
    if kind == "channels_select":
        return {"type": kind, "selected_channel": chosen or element.get("initial_channel")}
    if kind == "users_select":
        return {"type": kind, "selected_user": chosen or element.get("initial_user")}
    if kind == "multi_users_select":  # `chosen`: the picked user ids, comma-separated
        picked = element.get("initial_users") or [] if chosen is None else [u for u in chosen.split(",") if u]
        return {"type": kind, "selected_users": picked}
    if kind == "timepicker":
        return {"type": kind, "selected_time": chosen or element.get("initial_time")}
    if kind == "datepicker":
        return {"type": kind, "selected_date": chosen or element.get("initial_date")}
    return {"type": kind}


def form_values(view: dict[str, Any], filled: dict[str, str] | None = None) -> dict[str, Any]:
    """`state.values` for a view: every input block, with `filled` (block_id -> value) typed in."""
    filled = filled or {}
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        values[block["block_id"]] = {element["action_id"]: element_value(element, filled.get(block["block_id"]))}
    return values
