"""Fixed texts the app writes: no placeholder Slack would swallow as a link, all within limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.cadence import Cadence
from bot.schedules.blocks import custom_prompt_list, digest_post, peerlearn_help, prompt_post, schedule_lines
from bot.schedules.digests import CirclesRecap, Digest, PromptRecap
from bot.schedules.prompt_bank import BUILTIN_PROMPTS, Prompt
from bot.schedules.results import ScheduleEntry
from bot.tips.blocks import help_blocks
from sandbox.block_kit import block_kit_problems
from storage.models import CustomPrompt, Tip

# What Slack reads inside <…>: mentions, channels, dates, links. Anything else is a swallowed placeholder.
SLACK_MARKUP = re.compile(r"<(?:@U|#C|!date\^|https?://)[^<>]*>")


@pytest.mark.parametrize(
    "blocks",
    [
        help_blocks(),
        help_blocks("`yesterday` is not a window"),
        peerlearn_help(),
        custom_prompt_list([], len(BUILTIN_PROMPTS)),
        schedule_lines([]),
    ],
)
def test_fixed_texts_show_their_angle_brackets(blocks: list[dict[str, object]]) -> None:
    assert "<" not in SLACK_MARKUP.sub("", str(blocks))
    assert block_kit_problems(blocks, 50) == []


def test_every_builtin_prompt_posts_within_limits() -> None:
    assert len(BUILTIN_PROMPTS) >= 40
    assert len({p.key for p in BUILTIN_PROMPTS}) == len(BUILTIN_PROMPTS)
    for prompt in BUILTIN_PROMPTS:
        assert block_kit_problems(prompt_post(prompt, "bulb")[1], 50) == []


def test_a_custom_prompt_is_escaped() -> None:
    text, blocks = prompt_post(Prompt("custom:1", "Ping <!channel> & see", "custom"), "bulb")

    assert "<!channel>" not in text + str(blocks)
    assert "&lt;!channel&gt; &amp; see" in str(blocks)


def test_schedule_listing_never_passes_fifty_blocks() -> None:
    daily = Cadence("daily", time(9, 0), "America/Argentina/ComodRivadavia")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    entries = [
        ScheduleEntry("digest", f"C{n:010d}", daily, daily.next_after(now), None, channel_only=True)
        for n in range(2000)
    ]

    blocks = schedule_lines(entries)

    assert block_kit_problems(blocks, 50) == []
    assert "and 1550 more" in str(blocks[-1])


def test_quiet_digest_encourages_and_names_the_tip_emoji() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    quiet = Digest(now - timedelta(days=7), now, False, [], 0, 0, [], None, None)

    text, blocks = digest_post(quiet, "star-struck")

    assert "This week in peer learning" in str(blocks) and "A quiet stretch" in str(blocks)
    assert "react with :star-struck: to a message that taught you something" in str(blocks)
    assert "<" not in SLACK_MARKUP.sub("", str(blocks))
    assert text == "This week in peer learning: 0 tips shared by 0 people"


def test_digest_wording_counts_in_the_singular_too() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    tip = Tip(id=7, number=1, author_id="U1", text="Pin your versions", helpful_count=1, permalink=None)
    single = Digest(
        now - timedelta(days=7), now, False, [tip], 1, 1, [("U1", 1)], PromptRecap("What did you learn?", 1, None), None
    )

    text, blocks = digest_post(single, "bulb")

    shown = str(blocks)
    assert "*1 tip* shared by *1 person*." in shown
    assert "1 person found it helpful" in shown
    assert "1 reply in its thread." in shown
    assert text == "This week in peer learning: 1 tip shared by 1 person"
    assert "#1 ·" in shown  # the tip by its number in the workspace


@pytest.mark.parametrize(
    ("recap", "expected"),
    [
        (CirclesRecap(1, 0, 3, 1, []), "1 check-in round, 1 of 3 check-ins answered."),
        (CirclesRecap(2, 1, 4, 3, []), "2 check-in rounds (1 still open), 3 of 4 check-ins answered."),
        (CirclesRecap(1, 1, 0, 0, []), "1 check-in round (still open), no check-ins answered yet."),
    ],
)
def test_open_rounds_are_not_counted_as_unanswered(recap: CirclesRecap, expected: str) -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    digest = Digest(now - timedelta(days=7), now, False, [], 0, 0, [], None, None, recap)

    assert f"*Learning circles*: {expected}" in str(digest_post(digest, "bulb")[1])


def test_one_custom_prompt_is_not_these_one() -> None:
    one = CustomPrompt(id=3, number=1, text="Why?", team_id="T", created_by="U1")

    listing = str(custom_prompt_list([one], 47))
    assert "plus this one of your own:" in listing
    assert "`1` Why?" in listing and "`3`" not in listing  # its number in the workspace, not its id


def test_a_full_listing_of_paused_schedules_keeps_every_section_whole() -> None:
    odd = Cadence("biweekly", time(23, 59), "America/Argentina/ComodRivadavia", weekday=2)
    reason = "invalid: " + "&<>" * 70
    entries = [ScheduleEntry("digest", f"C{n:010d}", odd, None, reason, channel_only=True) for n in range(600)]

    blocks = schedule_lines(entries)

    assert block_kit_problems(blocks, 50) == []
    assert all(len(b["text"]["text"]) < 3000 for b in blocks if b["type"] == "section")
