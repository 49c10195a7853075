"""The App Home tab: your tips, this week's most helpful, your circles, and a button to share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.circles import rules as circle_rules
from bot.home.summary import HomeSummary, MatchOnHome
from bot.kit import (
    MAX_BUTTON_TEXT,
    Block,
    context,
    divider,
    header,
    mrkdwn_section,
    plain,
    slack_date,
    user_text_excerpt,
)
from bot.pairing.round_blocks import answer_buttons
from bot.tips.blocks import tip_line

SHARE_FROM_HOME = "home_share_tip"
CIRCLES_SHOWN = 20  # keeps the view far under 100 blocks


def home_view(summary: HomeSummary) -> dict[str, Any]:
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"Hi <@{summary.user_id}>! Share what you learned, find what colleagues know, "
                "and learn together in small circles.",
            },
            "accessory": {
                "type": "button",
                "action_id": SHARE_FROM_HOME,
                "style": "primary",
                "text": plain("Share a tip", MAX_BUTTON_TEXT),
            },
        },
        divider(),
        header("Your tips"),
    ]
    if summary.own_total:
        plural = "s" if summary.own_total != 1 else ""
        votes = summary.votes_received
        blocks.append(
            context(
                f"You have shared {summary.own_total} tip{plural}; {votes} helpful vote{'s' if votes != 1 else ''}."
            )
        )
        for tip in summary.own_tips:
            blocks.extend(tip_line(tip))
    else:
        blocks.append(
            mrkdwn_section("You haven't shared a tip yet. Try `/tip &lt;something you learned this week&gt;`.")
        )
    blocks += [divider(), header("Most helpful this week")]
    if summary.top_this_week:
        for tip in summary.top_this_week:
            blocks.extend(tip_line(tip))
    else:
        blocks.append(
            mrkdwn_section("No tip shared this week has a helpful vote yet. React to the ones that helped you!")
        )
    blocks += [divider(), header("Your learning circles")]
    if summary.circles:
        for shown in summary.circles[:CIRCLES_SHOWN]:
            circle = shown.circle
            when = circle_rules.cadence_of(circle).describe()
            status = (
                ":pause_button: paused"
                if shown.next_check_in is None
                else f"next check-in {_date(shown.next_check_in)}"
            )
            blocks.append(
                mrkdwn_section(f"*{user_text_excerpt(circle.name, 80)}* in <#{circle.channel_id}> · {when} · {status}")
            )
    else:
        blocks.append(
            mrkdwn_section(
                "You're not in a circle yet. `/circle list` shows them; `/circle create &lt;name&gt;` starts one."
            )
        )
    if summary.match is not None:
        blocks += [divider(), header("Your pairing"), *match_blocks(summary.match)]
    blocks.append(context("More: `/tip help` · `/circle help` · `/mentor help` · `/peerlearn help`"))
    return {"type": "home", "blocks": blocks}


def _date(moment: datetime) -> str:
    return slack_date(moment, "{date_short_pretty} at {time}", f"{moment:%Y-%m-%d %H:%M} UTC")


def match_blocks(match: MatchOnHome) -> list[Block]:
    people = ", ".join(f"<@{user}>" for user in match.others) or "nobody"
    line = f"This round in <#{match.channel_id}> you're paired with {people}."
    if match.outcome in ("met", "skipped"):
        said = "you met" if match.outcome == "met" else "you're skipping this one"
        return [mrkdwn_section(f"{line} Thanks for telling me {said}.")]
    return [mrkdwn_section(line + " Did you meet?"), answer_buttons(match.group_id)]
