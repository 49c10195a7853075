"""Fixed texts the app writes: no placeholder Slack would swallow as a link, all within limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.schedules.blocks import custom_prompt_list, digest_post, peerlearn_help, prompt_post, schedule_lines
from bot.schedules.digests import Digest
from bot.schedules.prompt_bank import BUILTIN_PROMPTS, Prompt
from bot.tips.blocks import help_blocks
from sandbox.block_kit import block_kit_problems

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
    blocks = schedule_lines([f"<#C{n:05d}> — learning prompts, every day at 09:00 UTC · next …" for n in range(2000)])

    assert block_kit_problems(blocks, 50) == []


def test_quiet_digest_encourages() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    quiet = Digest(now - timedelta(days=7), now, False, [], 0, 0, [], None, None)

    _, blocks = digest_post(quiet)

    assert "This week in peer learning" in str(blocks) and "A quiet stretch" in str(blocks)
    assert "<" not in SLACK_MARKUP.sub("", str(blocks))
