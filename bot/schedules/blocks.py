"""Prompt and digest posts, and the answers of /peerlearn."""

from __future__ import annotations

from datetime import timedelta

from bot.kit import (
    Block,
    context,
    divider,
    fallback_text,
    header,
    link,
    mrkdwn_section,
    slack_date,
    usage_blocks,
    user_text_excerpt,
)
from bot.schedules.digests import Digest
from bot.schedules.prompt_bank import Prompt
from storage.models import CustomPrompt, Tip

DIGEST_EXCERPT = 280


def prompt_post(prompt: Prompt, emoji: str) -> tuple[str, list[Block]]:
    blocks = [
        context(":seedling: *Learning prompt*"),
        mrkdwn_section(f"*{user_text_excerpt(prompt.text, 2900)}*"),
        context(
            f":thread: Answer in the thread. A reply that teaches something? React with :{emoji}: "
            "and it becomes a tip everyone can find with `/tip search`."
        ),
    ]
    return fallback_text(f"Learning prompt: {prompt.text}"), blocks


def _period_title(digest: Digest) -> str:
    span = digest.end - digest.start
    if span <= timedelta(days=1, hours=1):
        return "Today in peer learning"
    if span <= timedelta(days=7, hours=1):
        return "This week in peer learning"
    return "These weeks in peer learning"


def _tip_entry(tip: Tip) -> list[Block]:
    votes = f"{tip.helpful_count} found it helpful"
    facts = [f"#{tip.id}", f"<@{tip.author_id}>", votes]
    if view := link(tip.permalink, "view post"):
        facts.append(view)
    return [mrkdwn_section(user_text_excerpt(tip.text, DIGEST_EXCERPT)), context(" · ".join(facts))]


def digest_post(digest: Digest) -> tuple[str, list[Block]]:
    title = _period_title(digest)
    dates = (
        f"{slack_date(digest.start.timestamp(), digest.start.strftime('%Y-%m-%d'))} – "
        f"{slack_date(digest.end.timestamp(), digest.end.strftime('%Y-%m-%d'))}"
    )
    scope = "tips shared in this channel" if digest.channel_only else "tips from the whole workspace"
    blocks: list[Block] = [header(title), context(f"{dates} · {scope}")]
    if digest.quiet:
        blocks.append(
            mrkdwn_section(
                ":seedling: A quiet stretch — no new tips yet. What's one thing you learned recently? "
                "Share it with `/tip &lt;what you learned&gt;`, "
                "or react with a tip emoji to a message that taught you something."
            )
        )
    else:
        people = f"{digest.sharers} {'person' if digest.sharers == 1 else 'people'}"
        tips = f"{digest.tips_shared} tip{'s' if digest.tips_shared != 1 else ''}"
        blocks.append(mrkdwn_section(f":bar_chart: *{tips}* shared by *{people}*."))
    if digest.best:
        blocks += [divider(), mrkdwn_section("*Most helpful tips*")]
        for tip in digest.best:
            blocks += _tip_entry(tip)
    if digest.teachers:
        names = ", ".join(f"<@{author}> ({votes})" for author, votes in digest.teachers)
        blocks += [
            divider(),
            mrkdwn_section(f":mortar_board: *Top teachers* (helpful votes received): {names}"),
        ]
    if digest.prompt is not None:
        replies = digest.prompt.replies
        blocks += [
            divider(),
            mrkdwn_section(
                f":speech_balloon: *The prompt:* {user_text_excerpt(digest.prompt.text, 600)}\n"
                f"{replies} repl{'y' if replies == 1 else 'ies'} in its thread."
            ),
        ]
    if digest.circles is not None:
        recap = digest.circles
        lines = [
            f":busts_in_silhouette: *Learning circles*: {recap.rounds} "
            f"check-in round{'s' if recap.rounds != 1 else ''}, {recap.answered} of {recap.invited} check-ins answered."
        ]
        if recap.asks:
            lines.append("*Can you help?*")
            lines += [
                f"• <@{user}> ({user_text_excerpt(circle, 60)}): {user_text_excerpt(text, 200)}"
                for user, text, circle in recap.asks[:8]
            ]
        blocks += [divider(), mrkdwn_section("\n".join(lines))]
    if digest.resurfaced is not None:
        blocks += [
            divider(),
            mrkdwn_section("*From the archive* :card_file_box:"),
            *_tip_entry(digest.resurfaced),
        ]
    summary = f"{title}: {digest.tips_shared} tips shared by {digest.sharers} people"
    return fallback_text(summary), blocks


def peerlearn_help(problem: str | None = None) -> list[Block]:
    usage = "\n".join(
        [
            "*Schedules* (admins):",
            "• `/peerlearn prompts #channel mon 09:00 Europe/Berlin` — weekly learning prompts",
            "• `/peerlearn digest #channel fri 16:00` — a digest of the week's best tips (your time zone)",
            "• `&lt;when&gt;` is `daily`, `weekdays`, a weekday (`mon`…`sun`) or `biweekly fri`; "
            "add `channel-only` to a digest to count only tips shared in that channel",
            "• `/peerlearn prompts #channel off` · `/peerlearn digest #channel off`",
            "• `/peerlearn prompt now [#channel]` · `/peerlearn digest now [#channel]` — post right away",
            "*Prompts*:",
            "• `/peerlearn prompt add What did you automate this week?` (admins) · "
            "`/peerlearn prompt list` · `/peerlearn prompt remove 3` (admins)",
            "*For everyone*: `/peerlearn schedules` — what is scheduled, and when it posts next",
        ]
    )
    return usage_blocks(usage, problem)


def schedule_lines(lines: list[str]) -> list[Block]:
    if not lines:
        return [
            mrkdwn_section("Nothing is scheduled yet. An admin can start with `/peerlearn prompts #channel mon 09:00`.")
        ]
    blocks = [header("Peerlearn schedules")]
    # One section per 20 lines keeps each under 3000 characters and the message under 50 blocks.
    for start in range(0, min(len(lines), 40 * 20), 20):
        blocks.append(mrkdwn_section("\n".join(lines[start : start + 20])))
    return blocks


def custom_prompt_list(prompts: list[CustomPrompt], builtin_count: int) -> list[Block]:
    intro = f"{builtin_count} built-in prompts rotate in every channel"
    if not prompts:
        return [mrkdwn_section(f"{intro}. No custom prompts yet: `/peerlearn prompt add &lt;text&gt;` (admins).")]
    lines = [f"`{p.id}` {user_text_excerpt(p.text, 200)}" for p in prompts]
    blocks = [mrkdwn_section(f"{intro}, plus these {len(prompts)} of your own:")]
    for start in range(0, min(len(lines), 45 * 10), 10):
        blocks.append(mrkdwn_section("\n".join(lines[start : start + 10])))
    return blocks
