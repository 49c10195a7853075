"""The App Home tab: your tips, votes and streaks, the week's most helpful tips, your circles and
pairing, the buttons that start things, a welcome on the first visit, and for admins their part
(bot/home/admin_blocks.py). Every list is capped, so the view stays under Slack's 100 blocks
whatever the data: at most 49 blocks here and 46 in the admins' part."""

from __future__ import annotations

from typing import Any

from bot.circles.messages import CHECKIN_ACTION
from bot.circles.rules import schedule_of
from bot.home.admin import AdminSummary
from bot.home.admin_blocks import admin_blocks
from bot.home.summary import CircleOnHome, HomeSummary, MatchOnHome
from bot.kit import (
    MAX_VIEW_BLOCKS,
    Block,
    button,
    context,
    divider,
    header,
    local_time,
    mrkdwn_section,
    user_text_excerpt,
)
from bot.pairing.round_blocks import answer_buttons
from bot.questions.blocks import home_questions
from bot.schedules.kinds import plural
from bot.tips.blocks import tip_line

SHARE_FROM_HOME = "home_share_tip"
SEARCH_FROM_HOME = "home_search_tips"
BROWSE_FROM_HOME = "home_browse_circles"
PROFILE_FROM_HOME = "home_edit_profile"
ASK_FROM_HOME = "home_ask_question"
QUESTIONS_SHOWN = 5  # in one section

# The first visit's welcome: each part of Peerlearn in a line, with what starts it.
WELCOME = (
    ":bulb: *Tips* — something you learned, in a few sentences, for everyone to find. "
    "*Share a tip* above, or `/tip &lt;what you learned&gt;` anywhere; react to the tips that help you.",
    ":busts_in_silhouette: *Learning circles* — a few people who check in every week: what they learned, "
    "where they're stuck, what they can teach. *Browse circles* above, or `/circle create &lt;name&gt;`.",
    ":seedling: *Prompts and digests* — a weekly question to answer in a channel's thread, and the week's "
    "most helpful tips. Admins start them: `/peerlearn prompts #channel mon 09:00`.",
    ":handshake: *Pairing* — coffee or mentoring with a colleague, a round at a time. *Edit my profile* says "
    "what you can teach and want to learn; admins start rounds: `/peerlearn pairing #channel mon 10:00`.",
    ":raising_hand: *Questions* — ask the workspace: first the tips that answer it, then the colleagues who "
    "know the topic. *Ask a question* above, or `/ask &lt;your question&gt;` anywhere.",
)


def home_view(
    summary: HomeSummary,
    admin: AdminSummary | None = None,
    *,
    first_visit: bool = False,
    notice: str | None = None,
    near: str | None = None,
) -> dict[str, Any]:
    """The Home. `notice` (what came of the person's last click) goes under the admin row `near`
    names (a schedule's or circle's target, where they clicked) when it is shown, else on top."""
    shown_near = admin is not None and near is not None and near in {i.target for i in admin.schedules + admin.circles}
    blocks: list[Block] = []
    if notice and not shown_near:
        blocks.append(mrkdwn_section(notice))
    blocks += [
        mrkdwn_section(f"Hi <@{summary.user_id}>! Share what you learned, find what colleagues know, learn together."),
        {
            "type": "actions",
            "block_id": "home_actions",
            "elements": [
                button(SHARE_FROM_HOME, "Share a tip", primary=True),
                button(SEARCH_FROM_HOME, "Search tips"),
                button(BROWSE_FROM_HOME, "Browse circles"),
                button(PROFILE_FROM_HOME, "Edit my profile"),
                button(ASK_FROM_HOME, "Ask a question"),
            ],
        },
    ]
    if first_visit:
        blocks += [
            header("Welcome to Peerlearn :wave:"),
            mrkdwn_section("\n".join(WELCOME)),
            context("This welcome shows on your first visit. `/peerlearn help` lists every command, any time."),
        ]
    blocks += _your_tips(summary)
    blocks += _most_helpful(summary)
    blocks += _your_circles(summary)
    blocks += [divider(), header("Your open questions"), *home_questions(summary.open_questions, QUESTIONS_SHOWN)]
    if summary.match is not None:
        blocks += [divider(), header("Your pairing"), *match_blocks(summary.match)]
    if admin is not None:
        blocks += admin_blocks(admin, summary.zone, (near, notice) if shown_near and notice and near else None)
    # The caps keep this far under the limit; were they ever outgrown, the end is cut, never the view refused.
    blocks = blocks[: MAX_VIEW_BLOCKS - 1]
    blocks.append(
        context("Every command: `/peerlearn help` · `/tip help` · `/circle help` · `/mentor help` · `/ask help`")
    )
    return {"type": "home", "blocks": blocks}


def _your_tips(summary: HomeSummary) -> list[Block]:
    blocks = [divider(), header("Your tips")]
    if not summary.own_total:
        nothing = (
            "You haven't shared a tip yet. *Share a tip* above, or try `/tip &lt;something you learned this week&gt;`."
        )
        return [*blocks, mrkdwn_section(nothing)]
    facts = [
        f"You have shared *{plural(summary.own_total, 'tip')}*",
        f"*{plural(summary.votes_this_month, 'helpful vote')}* this month",
        f"*{summary.votes_received:,}* all time",
    ]
    lines = [" · ".join(facts)]
    if streak := _streak_line(summary.tip_week_streak, summary.tipped_this_week):
        lines.append(streak)
    blocks.append(mrkdwn_section("\n".join(lines)))
    for tip in summary.own_tips:
        blocks.extend(tip_line(tip))
    return blocks


def _streak_line(weeks: int, this_week: bool) -> str | None:
    if weeks >= 2:
        more = "Keep it going!" if this_week else "Share one this week to keep it going."
        return f":fire: A tip every week for {weeks} weeks in a row. {more}"
    if weeks == 1:
        if this_week:
            return ":seedling: You shared a tip this week; one next week starts a streak."
        return ":seedling: You shared a tip last week; one this week starts a streak."
    return None


def _most_helpful(summary: HomeSummary) -> list[Block]:
    blocks = [divider(), header("Most helpful this week")]
    if not summary.top_this_week:
        line = "No colleague's tip from this week has a helpful vote yet. React to the ones that helped you!"
        return [*blocks, mrkdwn_section(line)]
    for tip in summary.top_this_week:
        blocks.extend(tip_line(tip))
    return blocks


def _your_circles(summary: HomeSummary) -> list[Block]:
    blocks = [divider(), header("Your learning circles")]
    if not summary.circles:
        line = "You're not in a circle yet. *Browse circles* above to join one, or `/circle create &lt;name&gt;`."
        return [*blocks, mrkdwn_section(line)]
    blocks += [_circle_line(shown, summary.zone) for shown in summary.circles]
    if summary.circles_total > len(summary.circles):
        blocks.append(context(f"…and {summary.circles_total - len(summary.circles)} more: `/circle list`."))
    return blocks


def _circle_line(shown: CircleOnHome, zone: str | None) -> Block:
    circle = shown.circle
    cadence = schedule_of(circle)
    facts = [f"*{user_text_excerpt(circle.name, 80)}* in <#{circle.channel_id}>"]
    if circle.paused_reason:
        facts.append(f":pause_button: paused ({user_text_excerpt(circle.paused_reason, 120)})")
    elif shown.next_check_in is not None:
        # In the reader's own zone (Slack dates); the fallback too, for clients that can't show them.
        facts.append(f"next check-in {local_time(shown.next_check_in, zone or circle.zone)}")
    if cadence is not None:
        facts.append(cadence.describe())
    if shown.streak >= 2:
        facts.append(f":fire: {shown.streak} check-ins in a row")
    block = mrkdwn_section(" · ".join(facts))
    if shown.open_round_id is not None:
        label = "Edit my answers" if shown.answered else "Check in"
        block["accessory"] = button(CHECKIN_ACTION, label, str(shown.open_round_id), primary=not shown.answered)
    return block


def match_blocks(match: MatchOnHome) -> list[Block]:
    people = ", ".join(f"<@{user}>" for user in match.others) or "nobody"
    line = f"This round in <#{match.channel_id}> you're paired with {people}."
    if match.outcome in ("met", "skipped"):
        said = "you met" if match.outcome == "met" else "you're skipping this one"
        return [mrkdwn_section(f"{line} Thanks for telling me {said}.")]
    return [mrkdwn_section(line + " Did you meet?"), answer_buttons(match.group_id)]
