"""Block Kit for mentoring: the profile modal and its reader, `/mentor find` and `/mentor me`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.kit import (
    MAX_MODAL_TITLE,
    MAX_OPTION_TEXT,
    Block,
    context,
    mrkdwn_section,
    plain,
    usage_blocks,
)
from bot.pairing.commands import USAGE
from bot.pairing.people import Level
from bot.pairing.profiles import MAX_AVOIDED, MAX_CAPACITY, MAX_SKILLS, OPEN_TO, Profile, ProfileForm
from bot.text import escape_mrkdwn

PROFILE_MODAL = "mentor_profile"
LEVEL_LABELS = {
    Level.NEW: "New to the field",
    Level.JUNIOR: "Junior",
    Level.MID: "Mid-level",
    Level.SENIOR: "Senior",
    Level.LEAD: "Lead / principal",
}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, MAX_OPTION_TEXT), "value": value}


def _text_input(block_id: str, label: str, value: str, hint: str, *, optional: bool = True) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": block_id, "max_length": 600}
    if value:
        element["initial_value"] = value
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, 2000),
        "hint": plain(hint, 2000),
        "element": element,
    }


def profile_modal(profile: Profile | None) -> dict[str, Any]:
    """The profile form, showing what is saved (re-opening it shows the saved values)."""
    p = profile or Profile(user_id="")
    level: dict[str, Any] = {
        "type": "static_select",
        "action_id": "level",
        "placeholder": plain("Your experience", 150),
        "options": [_option(level.value, label) for level, label in LEVEL_LABELS.items()],
    }
    if p.level is not None:
        level["initial_option"] = _option(p.level.value, LEVEL_LABELS[p.level])
    open_options = [_option(key, label) for key, label in OPEN_TO.items()]
    chosen = [
        key
        for key, on in (("mentoring", p.open_to_mentoring), ("mentee", p.open_to_mentee), ("coffee", p.open_to_coffee))
        if on
    ]
    open_to: dict[str, Any] = {"type": "checkboxes", "action_id": "open_to", "options": open_options}
    if chosen:
        open_to["initial_options"] = [_option(key, OPEN_TO[key]) for key in chosen]
    avoids: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": "avoids",
        "max_selected_items": MAX_AVOIDED,
        "placeholder": plain("Nobody", 150),
    }
    if p.avoids:
        avoids["initial_users"] = list(p.avoids)
    return {
        "type": "modal",
        "callback_id": PROFILE_MODAL,
        "title": plain("Mentoring profile", MAX_MODAL_TITLE),
        "submit": plain("Save", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "blocks": [
            _text_input(
                "teaches",
                "Skills I can teach",
                " ".join(p.teaches),
                f"Up to {MAX_SKILLS}, separated by spaces or commas, e.g. postgres python",
            ),
            _text_input("learns", "Skills I want to learn", " ".join(p.learns), f"Up to {MAX_SKILLS}, e.g. rust k8s"),
            {
                "type": "input",
                "block_id": "level",
                "optional": True,
                "label": plain("Experience", 2000),
                "element": level,
            },
            _text_input(
                "team", "Team or department", p.team or "", "People from other teams meet in cross-team rounds"
            ),
            {
                "type": "input",
                "block_id": "open_to",
                "optional": True,
                "label": plain("I'm open to", 2000),
                "element": open_to,
            },
            _text_input(
                "capacity",
                "Mentees per round",
                str(p.capacity),
                f"As a mentor, how many people a round (0 to {MAX_CAPACITY})",
                optional=False,
            ),
            {
                "type": "input",
                "block_id": "avoids",
                "optional": True,
                "label": plain("Rather not be paired with", 2000),
                "hint": plain("Only the matcher sees this; nobody is told.", 2000),
                "element": avoids,
            },
            context("Your time zone comes from your Slack profile."),
        ],
    }


def read_profile_form(values: object) -> ProfileForm:
    """The submitted values, as typed; `profiles.read_profile` checks them. Missing blocks, and
    values of a shape Slack never sends (a forged submission), read as empty."""

    def field(block: str) -> dict[str, Any]:
        outer = values.get(block) if isinstance(values, dict) else None
        found = outer.get(block) if isinstance(outer, dict) else None
        return found if isinstance(found, dict) else {}

    def text(block: str) -> str:
        value = field(block).get("value")
        return value if isinstance(value, str) else ""

    def listed(block: str, key: str) -> list[Any]:
        found = field(block).get(key)
        return found if isinstance(found, list) else []

    level = field("level").get("selected_option") or {}
    selected = listed("open_to", "selected_options")
    users = listed("avoids", "selected_users")
    return ProfileForm(
        teaches=text("teaches"),
        learns=text("learns"),
        level=level.get("value") if isinstance(level, dict) and isinstance(level.get("value"), str) else None,
        team=text("team"),
        open_to=tuple(o["value"] for o in selected if isinstance(o, dict) and isinstance(o.get("value"), str)),
        capacity=text("capacity") or "1",
        avoids=tuple(u for u in users if isinstance(u, str)),
    )


def help_blocks(problem: str | None = None, usage: str | None = None) -> list[Block]:
    """The whole help, or with `usage` only the problem and the one usage line that fixes it."""
    if usage is not None:
        return usage_blocks(f"Usage: {usage}", problem)
    return usage_blocks("\n".join(["*Mentoring and pairing*", *(f"• {line}" for line in USAGE.values())]), problem)


@dataclass(frozen=True)
class Helper:
    """One line of `/mentor find`: a person and why they are listed."""

    user_id: str
    teaches: bool
    level: Level | None
    tips: int
    helpful: int
    met_pairings: int


def find_results(skill: str, helpers: list[Helper], suggestions: list[str], viewer: str | None = None) -> list[Block]:
    """Who can help with `skill`; the person asking, when among them, is marked "(you)"."""
    shown = escape_mrkdwn(skill)
    if not helpers:
        hint = ""
        if suggestions:
            hint = " Did you mean " + ", ".join(f"`{escape_mrkdwn(s)}`" for s in suggestions) + "?"
        return [mrkdwn_section(f"Nobody I know of teaches or has shared tips on *{shown}* yet.{hint}")]
    lines = [f"*Who can help with {shown}*"]
    for helper in helpers:
        you = " (you)" if helper.user_id == viewer else ""
        lines.append(f"• <@{helper.user_id}>{you} — {why_listed(skill, helper)}")
    blocks = [mrkdwn_section("\n".join(lines))]
    blocks.append(context("Ranked by what people teach, their tips on it and how helpful those were."))
    return blocks


def why_listed(skill: str, helper: Helper) -> str:
    shown = escape_mrkdwn(skill)
    reasons = []
    if helper.teaches:
        level = f" ({LEVEL_LABELS[helper.level].lower()})" if helper.level else ""
        reasons.append(f"teaches {shown}{level}")
    if helper.tips:
        reasons.append(
            f"{helper.tips} tip{'s' if helper.tips != 1 else ''} on #{shown}"
            + (f", {helper.helpful} found them helpful" if helper.helpful else "")
        )
    if helper.met_pairings:
        count = helper.met_pairings
        reasons.append(f"met {count} {'person' if count == 1 else 'people'} to pair on it")
    return " · ".join(reasons)


OUTCOME_WORDS = {
    "pending": "no answer yet",
    "met": "you met",
    "not_yet": "not met yet",
    "skipped": "skipped",
    "unknown": "no answer",
}


def matches_section(matches: list[Any]) -> list[Block]:
    """Your current match and past ones (service.Match values), newest first."""
    if not matches:
        return []
    lines = []
    for match in matches:
        people = ", ".join(f"<@{u}>" for u in match.others) or "nobody"
        stamp = int(match.when.timestamp())
        when = f"<!date^{stamp}^{{date_short}}|{match.when:%Y-%m-%d}>"
        label = "*Now*" if match.current else when
        outcome = OUTCOME_WORDS.get(match.outcome, match.outcome)
        lines.append(f"{label} in <#{match.channel_id}> with {people}: {outcome}")
    return [mrkdwn_section("*Your pairings*\n" + "\n".join(lines))]


def profile_summary(profile: Profile | None, pause_text: str | None) -> list[Block]:
    if profile is None:
        return [mrkdwn_section("You have no mentoring profile yet. `/mentor profile` makes one in a minute.")]
    lines = ["*Your mentoring profile*"]
    lines.append("Teaches: " + (", ".join(escape_mrkdwn(s) for s in profile.teaches) or "—"))
    lines.append("Wants to learn: " + (", ".join(escape_mrkdwn(s) for s in profile.learns) or "—"))
    lines.append("Experience: " + (LEVEL_LABELS[profile.level] if profile.level else "—"))
    lines.append("Team: " + (escape_mrkdwn(profile.team) if profile.team else "—"))
    open_to = [label for key, label in OPEN_TO.items() if getattr(profile, f"open_to_{key}")]
    lines.append("Open to: " + (", ".join(open_to).lower() or "nothing for now"))
    if profile.open_to_mentoring:
        lines.append(f"Mentees per round: {profile.capacity}")
    if pause_text:
        lines.append(f":double_vertical_bar: {pause_text}")
    return [mrkdwn_section("\n".join(lines)), context("Change it with `/mentor profile`.")]
