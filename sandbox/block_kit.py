"""Block Kit as Slack checks it: the limits and required fields that make Slack refuse a message
or a view. The Web API emulation refuses with these problems (`invalid_blocks`, `invalid_arguments`)
and the sandbox shows them on its page.

Two judges, both must pass: slack_sdk's own models (`Block.parse`, `View`, their `validate_json()`,
applied to every nested object through `to_dict()`), which follow Slack's published rules, and our
checks below for what those models let through (options, initial values, unique block ids, ...).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# Block.parse logs and skips a block type it does not know; our own check names it instead.
logging.getLogger("slack_sdk.models.blocks.blocks").setLevel(logging.ERROR)
_MODEL_ERRORS = (SlackObjectFormationError, TypeError, KeyError, AttributeError, ValueError)


def sdk_block_problems(blocks: Any) -> list[str]:
    """What slack_sdk's Block Kit models refuse in a list of blocks."""
    if not isinstance(blocks, list):
        return []
    problems = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        try:
            parsed = Block.parse(block)
            if parsed is None:
                problems.append(f"blocks[{index}]: slack_sdk knows no block of type {block.get('type')!r}")
                continue
            parsed.validate_json()
            parsed.to_dict()  # validates every nested element and text object too
        except _MODEL_ERRORS as error:
            problems.append(f"blocks[{index}]: {error} (slack_sdk)")
    return problems


def sdk_view_problems(view: Any) -> list[str]:
    """What slack_sdk's View model refuses (title, submit, close, private_metadata, 1 to 100 blocks)."""
    if not isinstance(view, dict) or not isinstance(view.get("type"), str):
        return []
    try:
        model = View(**{key: value for key, value in view.items() if key != "blocks"}, blocks=[])
        model.blocks = view.get("blocks") or []  # checked block by block by sdk_block_problems
        model.validate_json()
    except _MODEL_ERRORS as error:
        return [f"view: {error} (slack_sdk)"]
    return []


def _text_problems(where: str, obj: Any, limit: int, *, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        return [f"{where}: must be a text object of type {'/'.join(kinds)}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: text must be a non-empty string"]
    if len(text) > limit:
        return [f"{where}: text is {len(text)} characters, more than {limit}"]
    return []


def _element_problems(where: str, element: Any) -> list[str]:
    if not isinstance(element, dict) or "type" not in element:
        return [f"{where}: element needs a type"]
    problems = []
    if len(str(element.get("action_id", ""))) > 255:
        problems.append(f"{where}: action_id longer than 255")
    if element["type"] == "button":
        problems += _text_problems(f"{where}.text", element.get("text"), 75, kinds=("plain_text",))
        if len(str(element.get("value", ""))) > 2000:
            problems.append(f"{where}: button value longer than 2000")
        if "url" in element and len(element["url"]) > 3000:
            problems.append(f"{where}: url longer than 3000")
    options = element.get("options") or []
    for index, option in enumerate(options):
        if not isinstance(option, dict):
            problems.append(f"{where}.options[{index}]: must be an object")
            continue
        problems += _text_problems(f"{where}.options[{index}]", option.get("text"), 75)
        if not isinstance(option.get("value"), str) or not 1 <= len(option["value"]) <= 150:
            problems.append(f"{where}.options[{index}]: value must be 1 to 150 characters")
    if element["type"] in ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"):
        if not options and not element.get("option_groups"):
            problems.append(f"{where}: {element['type']} needs options")
        if len(options) > 100:
            problems.append(f"{where}: more than 100 options")
        initial = element.get("initial_option")
        if initial is not None and initial not in options:
            problems.append(f"{where}: initial_option must be one of the options, exactly")
    if element["type"] == "plain_text_input":
        initial_value = str(element.get("initial_value", ""))
        if int(element.get("max_length", 3000)) > 3000 or len(initial_value) > int(element.get("max_length", 3000)):
            problems.append(f"{where}: max_length over 3000, or initial_value longer than max_length")
    clock = str(element.get("initial_time", "00:00"))
    if element["type"] == "timepicker" and not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", clock):
        problems.append(f"{where}: initial_time must be HH:mm, 24-hour")
    if element["type"] == "image" and (not element.get("image_url") or not element.get("alt_text")):
        problems.append(f"{where}: image needs image_url and alt_text")
    return problems


def block_kit_problems(blocks: Any, limit: int) -> list[str]:
    """Every reason Slack would answer `invalid_blocks` to these blocks (empty when it would accept)."""
    return _own_block_problems(blocks, limit) + sdk_block_problems(blocks)


def _own_block_problems(blocks: Any, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks, more than {limit}")
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict):
            problems.append(f"{where}: must be an object")
            continue
        kind = block.get("type")
        if len(str(block.get("block_id", ""))) > 255:
            problems.append(f"{where}: block_id longer than 255")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: section needs text or fields")
            if "text" in block:
                problems += _text_problems(f"{where}.text", block["text"], 3000)
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"{where}: more than 10 fields")
            for field_index, item in enumerate(fields):
                problems += _text_problems(f"{where}.fields[{field_index}]", item, 2000)
            if "accessory" in block:
                problems += _element_problems(f"{where}.accessory", block["accessory"])
        elif kind == "header":
            problems += _text_problems(f"{where}.text", block.get("text"), 150, kinds=("plain_text",))
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}: context needs 1 to 10 elements, has {len(elements)}")
            for element_index, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                    problems += _text_problems(f"{where}.elements[{element_index}]", element, 3000)
                else:
                    problems += _element_problems(f"{where}.elements[{element_index}]", element)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                problems.append(f"{where}: actions needs 1 to 25 elements")
            for element_index, element in enumerate(elements):
                problems += _element_problems(f"{where}.elements[{element_index}]", element)
        elif kind == "input":
            problems += _text_problems(f"{where}.label", block.get("label"), 2000, kinds=("plain_text",))
            problems += _element_problems(f"{where}.element", block.get("element"))
        elif kind == "image":
            if not block.get("image_url") or not block.get("alt_text"):
                problems.append(f"{where}: image needs image_url and alt_text")
        elif kind not in ("divider", "rich_text"):
            problems.append(f"{where}: unknown block type {kind!r}")
    return problems


def view_problems(view: Any) -> list[str]:
    """Every reason Slack would answer `invalid_arguments` to this view (empty when it would accept)."""
    if not isinstance(view, dict):
        return ["view must be an object"]
    return _own_view_problems(view) + sdk_view_problems(view) + sdk_block_problems(view.get("blocks", []))


def _own_view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    problems = []
    if view.get("type") not in ("modal", "home"):
        problems.append("view type must be modal or home")
    if view.get("type") == "modal":
        problems += _text_problems("title", view.get("title"), 24, kinds=("plain_text",))
        for key in ("submit", "close"):
            if key in view:
                problems += _text_problems(key, view[key], 24, kinds=("plain_text",))
        has_inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_inputs and "submit" not in view:
            problems.append("a modal with input blocks needs a submit button")
    if "blocks" not in view:
        problems.append("view needs blocks")
    block_ids = [b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        problems.append("block_id values must be unique within a view")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata longer than 3000")
    if len(view.get("callback_id", "")) > 255:
        problems.append("callback_id longer than 255")
    return problems + _own_block_problems(view.get("blocks", []), 100)
