"""What admins and the digest see of questions: the measures' one line, `/peerlearn stats`, the
digest's questions and *Can you help?*, and the questions channels."""

from __future__ import annotations

from datetime import timedelta

from bot.kit import Block, context, link, mrkdwn_section, user_text_excerpt
from bot.questions.rules import Measures
from bot.tips.blocks import plural
from storage.models import Question


def duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def measures_line(measures: Measures) -> str:
    """One line: asked, answered from tips and by people, the median first reply, escalations, saved."""
    parts = [
        f"{plural(measures.asked, 'question')} asked",
        f"{measures.answered_by_tips} answered from tips",
        f"{measures.answered_by_people} by colleagues",
    ]
    if measures.median_first_reply is not None:
        parts.append(f"first reply in {duration(measures.median_first_reply)} (median)")
    parts.append(f"{measures.escalated} escalated")
    parts.append(f"{measures.saved_as_tips} saved as tips")
    return " · ".join(parts)


def stats_blocks(measures: Measures, window: str, channels: list[str]) -> list[Block]:
    period = {"week": "the last 7 days", "month": "the last 30 days", "quarter": "the last 91 days"}
    title = f"*Questions, {period.get(window, 'all time')}*"
    blocks = [mrkdwn_section(f"{title}\n{measures_line(measures)}")]
    where = ", ".join(f"<#{c}>" for c in channels) or "none (`/peerlearn questions #channel on`)"
    blocks.append(context(f"Questions channels: {where}"))
    return blocks


def digest_section(measures: Measures, open_questions: list[Question]) -> Block:
    lines = [f":raising_hand: *Questions*: {measures_line(measures)}"]
    if open_questions:
        lines.append("*Can you help?*")
        for question in open_questions:
            where = link(question.permalink, "answer in the thread")
            lines.append(f"• <@{question.asker_id}>: {user_text_excerpt(question.text, 200)} {where}".rstrip())
    return mrkdwn_section("\n".join(lines))


def channel_list(channels: list[str]) -> str:
    if not channels:
        return "No questions channels yet. `/peerlearn questions #channel on` makes one."
    return "Questions are answered in " + ", ".join(f"<#{c}>" for c in channels) + "."
