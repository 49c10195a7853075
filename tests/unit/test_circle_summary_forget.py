"""forget-me and a closed round's summary: the person's quoted answer and streak taken out of the
posted blocks, everyone else's left as posted; the summary found by its metadata, or (posted before
it carried any) as the app's "Check-in closed" reply."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.circles.closing import forget_in_summary
from bot.circles.messages import CLOSED_EVENT, round_summary, summary_without
from bot.circles.rules import DEFAULT_QUESTIONS
from bot.slack.gateway import SlackGateway
from bot.slack.results import Failed
from storage.models import Circle

CIRCLE = Circle(name="Rust learners", questions=json.dumps(list(DEFAULT_QUESTIONS)))
ANSWERS = {
    "U2": ["", "Lifetimes\nand the borrow checker", ""],
    "U3": ["", "Macros: • <@U2>: not a mention", ""],  # escaped when drawn: &lt;@U2&gt;
    "U4": ["", "Async traits", ""],
}


def summary(streaks: dict[str, int]) -> list[dict[str, Any]]:
    return round_summary(CIRCLE, ["U2", "U3", "U4", "U5"], ANSWERS, streaks, set(ANSWERS))[1]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["text"]["text"] for block in blocks]


def test_their_quote_every_line_of_it_and_their_streak_leave_the_others_stay() -> None:
    posted = summary({"U2": 5, "U3": 3, "U4": 1})

    kept = summary_without(posted, "U2")

    assert kept is not None
    assert texts(kept) == [
        ":white_check_mark: Check-in closed: *3 of 4* checked in.",  # counts name nobody: kept
        "*Can you help?*\n• <@U3>: Macros: • &lt;@U2&gt;: not a mention\n• <@U4>: Async traits",
        ":fire: *Streaks*: <@U3> 3 in a row",
    ]
    assert summary_without(kept, "U2") is None  # a rerun has nothing left to change


def test_sections_left_empty_go() -> None:
    posted = round_summary(CIRCLE, ["U2", "U3"], {"U2": ANSWERS["U2"]}, {"U2": 4}, {"U2"})[1]

    kept = summary_without(posted, "U2")

    assert kept is not None and texts(kept) == [":white_check_mark: Check-in closed: *1 of 2* checked in."]


def test_a_summary_not_naming_them_is_left_alone() -> None:
    assert summary_without(summary({"U3": 3}), "U5") is None
    assert summary_without(summary({"U3": 3}), "U1") is None


class Thread:
    """What forget_in_summary asks of the gateway: one thread's replies, and the edits made."""

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        self.replies = replies
        self.updated: list[tuple[str, str, str, list[dict[str, Any]]]] = []

    def find_in_thread(
        self, channel: str, thread_ts: str, wanted: Callable[[dict[str, Any]], bool], *, oldest: str | None = None
    ) -> dict[str, Any] | Failed | None:
        return next((reply for reply in self.replies if wanted(reply)), None)

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Failed | None:
        self.updated.append((channel, ts, text, blocks))
        return None


def forget_u2(thread: Thread, round_id: int = 7) -> Failed | None:
    slack: SlackGateway = thread  # type: ignore[assignment]
    return forget_in_summary(slack, "C1", "100.0", round_id, "U2")


def reply(ts: str, text: str, blocks: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"ts": ts, "text": text, "blocks": blocks, **more}


def test_the_summary_is_found_by_its_metadata_and_edited() -> None:
    posted = summary({"U2": 5})
    thread = Thread(
        [
            reply("101.0", "Check-in from a circle member: Lifetimes", [], bot_id="B1"),
            reply("102.0", "Check-in closed: 3 of 4 checked in", posted, bot_id="B1",
                  metadata={"event_type": CLOSED_EVENT, "event_payload": {"round_id": 7}}),
        ]
    )  # fmt: skip

    assert forget_u2(thread) is None

    ((channel, ts, text, blocks),) = thread.updated
    assert (channel, ts, text) == ("C1", "102.0", "Check-in closed: 3 of 4 checked in")
    assert "<@U2>" not in str(blocks) and "<@U3>" in str(blocks)


def test_a_summary_posted_before_it_carried_metadata_is_found_as_the_apps_closing_reply() -> None:
    posted = summary({"U2": 5})
    thread = Thread(
        [
            reply("101.0", "Check-in closed: a member's own words", posted),  # not the app's: no bot_id
            reply("102.0", "Check-in closed: 3 of 4 checked in", posted, bot_id="B1"),
        ]
    )

    assert forget_u2(thread) is None

    assert [ts for _, ts, _, _ in thread.updated] == ["102.0"]


def test_another_rounds_summary_is_not_touched() -> None:
    posted = summary({"U2": 5})
    metadata = {"event_type": CLOSED_EVENT, "event_payload": {"round_id": 8}}
    thread = Thread([reply("102.0", "Check-in closed: 3 of 4 checked in", posted, bot_id="B1", metadata=metadata)])

    assert forget_u2(thread, round_id=7) is None and thread.updated == []
