"""Values from Slack's forms and buttons, read as untrusted input: shapes checked, never assumed."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

_ID = re.compile(r"[0-9]{1,9}")
HOURS_TEXT = 12  # characters; a number of hours needs no more


@dataclass(frozen=True)
class FieldErrors:
    errors: dict[str, str]  # by the modal's block ids, as `response_action: errors` wants them


def parse_id(value: object) -> int | None:
    """A row id from a button value or form metadata: digits only, within an INTEGER column."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 2**31 else None
    if isinstance(value, str) and _ID.fullmatch(value):
        return int(value) or None
    return None


def parse_metadata(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, str) or len(raw) > 3000:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def state(values: object, block_id: str) -> dict[str, Any]:
    block = values.get(block_id) if isinstance(values, dict) else None
    found = block.get("value") if isinstance(block, dict) else None
    return found if isinstance(found, dict) else {}


def text_value(values: object, block_id: str) -> str:
    value = state(values, block_id).get("value")
    return value if isinstance(value, str) else ""


def choice(values: object, block_id: str, allowed: tuple[str, ...]) -> tuple[str | None, bool]:
    """(the picked option's value, whether it is one offered); (None, True) when nothing is picked."""
    option = state(values, block_id).get("selected_option")
    if option is None:
        return None, True
    value = option.get("value") if isinstance(option, dict) else None
    return (value, True) if isinstance(value, str) and value in allowed else (None, False)


def hours_value(text: str, bounds: tuple[float, float]) -> float | str:
    low, high = bounds
    problem = f"A number of hours from {low:g} to {high:g}, e.g. 4 or 1.5."
    try:
        hours = float(text.strip()) if len(text) <= HOURS_TEXT else math.nan
    except ValueError:
        return problem
    return hours if math.isfinite(hours) and low <= hours <= high else problem
