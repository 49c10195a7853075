"""The check-in answers form: its builder and, beside it, the typed reader of what Slack sends back.

A submission is input from the network: each answer is kept without control characters and within
its length, and the round it names is read strictly (the person's right to answer is checked at
the change, in bot/circles/checkins.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.circles.inputs import FieldErrors, parse_id, parse_metadata
from bot.circles.rules import MAX_ANSWER_LENGTH, MAX_QUESTIONS, questions_of
from bot.kit import MAX_MODAL_TITLE, Block, context, plain
from bot.text import without_control_characters
from storage.models import Circle, CircleRound

ANSWER_MODAL = "circle_answers"


@dataclass(frozen=True)
class AnswerTarget:
    round_id: int
    from_home: bool = False  # opened from the App Home, which is drawn again once answered


def answer_modal(
    circle: Circle, round_: CircleRound, previous: list[str] | None, *, from_home: bool = False
) -> dict[str, Any]:
    blocks: list[Block] = []
    for index, question in enumerate(questions_of(circle)[:MAX_QUESTIONS]):
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "answer",
            "multiline": True,
            "max_length": MAX_ANSWER_LENGTH,
        }
        if previous and index < len(previous) and previous[index]:
            element["initial_value"] = previous[index][:MAX_ANSWER_LENGTH]
        blocks.append(
            {
                "type": "input",
                "block_id": f"answer_{index}",
                "optional": True,
                "label": plain(question, 2000),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "title": plain(f"{circle.name} check-in", MAX_MODAL_TITLE),
        "submit": plain("Share", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"round_id": round_.id, **({"home": True} if from_home else {})}),
        "blocks": [context("Answer what you like — at least one question."), *blocks],
    }


def read_answers(values: object) -> list[str] | FieldErrors:
    """One answer per question (empty when skipped), at least one given, each within its length."""
    answers, errors = [], {}
    for index in range(MAX_QUESTIONS):
        block = values.get(f"answer_{index}") if isinstance(values, dict) else None
        state = block.get("answer") if isinstance(block, dict) else None
        value = state.get("value") if isinstance(state, dict) else None
        answer = without_control_characters(value).strip() if isinstance(value, str) else ""
        if len(answer) > MAX_ANSWER_LENGTH:
            errors[f"answer_{index}"] = f"Keep each answer under {MAX_ANSWER_LENGTH} characters."
        answers.append(answer)
    if errors:
        return FieldErrors(errors)
    if not any(answers):
        return FieldErrors({"answer_0": "Answer at least one question."})
    while answers and not answers[-1]:
        answers.pop()
    return answers


def read_answer_target(raw: object) -> AnswerTarget | None:
    metadata = parse_metadata(raw)
    if metadata is None:
        return None
    round_id = parse_id(metadata.get("round_id"))
    return None if round_id is None else AnswerTarget(round_id, from_home=metadata.get("home") is True)
