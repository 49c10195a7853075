"""Prompt and digest posts, and the answers of /peerlearn."""

from __future__ import annotations

from datetime import timedelta
from typing import assert_never

from bot.help import everything
from bot.kit import (
    Block,
    author_mention,
    context,
    divider,
    fallback_text,
    header,
    link,
    local_time,
    mrkdwn_section,
    slack_date,
    user_text_excerpt,
)
from bot.questions.admin_blocks import digest_section
from bot.schedules.digests import CirclesRecap, Digest
from bot.schedules.kinds import Delivery, PostKind, command_word, describe_kind, one_post, plural
from bot.schedules.prompt_bank import Prompt
from bot.schedules.results import (
    PAUSING_ERRORS,
    Changed,
    Configured,
    Delivered,
    NoSuchPrompt,
    NothingToTurnOff,
    PostedNow,
    PromptAdded,
    PromptRemoved,
    ScheduleEntry,
    TurnedOff,
)
from bot.text import escape_mrkdwn
from storage.models import CustomPrompt, Tip

DIGEST_EXCERPT = 280
LINES_PER_SECTION = 10
LISTED_SECTIONS = 45


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
    votes = f"{plural(tip.helpful_count, 'person', 'people')} found it helpful"
    facts = [f"#{tip.number}", author_mention(tip.author_id), votes]
    if view := link(tip.permalink, "view post"):
        facts.append(view)
    return [mrkdwn_section(user_text_excerpt(tip.text, DIGEST_EXCERPT)), context(" · ".join(facts))]


def digest_post(digest: Digest, emoji: str) -> tuple[str, list[Block]]:
    title = _period_title(digest)
    dates = f"{slack_date(digest.start)} – {slack_date(digest.end)}"
    scope = "tips shared in this channel" if digest.channel_only else "tips from the whole workspace"
    blocks: list[Block] = [header(title), context(f"{dates} · {scope}")]
    if digest.quiet:
        blocks.append(
            mrkdwn_section(
                ":seedling: A quiet stretch — no new tips yet. What's one thing you learned recently? "
                "Share it with `/tip &lt;what you learned&gt;`, "
                f"or react with :{emoji}: to a message that taught you something."
            )
        )
    else:
        people = plural(digest.sharers, "person", "people")
        blocks.append(mrkdwn_section(f":bar_chart: *{plural(digest.tips_shared, 'tip')}* shared by *{people}*."))
    if digest.best:
        blocks += [divider(), mrkdwn_section("*Most helpful tips*")]
        for tip in digest.best:
            blocks += _tip_entry(tip)
    if digest.teachers:
        names = ", ".join(f"<@{teacher}> ({votes})" for teacher, votes in digest.teachers)
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
                f"{plural(replies, 'reply', 'replies')} in its thread."
            ),
        ]
    if digest.circles is not None:
        recap = digest.circles
        lines = [f":busts_in_silhouette: *Learning circles*: {_circles_summary(recap)}"]
        if recap.asks:
            lines.append("*Can you help?*")
            lines += [
                f"• <@{user}> ({user_text_excerpt(circle, 60)}): {user_text_excerpt(text, 200)}"
                for user, text, circle in recap.asks[:8]
            ]
        blocks += [divider(), mrkdwn_section("\n".join(lines))]
    if digest.connections is not None:
        met, crossed = digest.connections.met, digest.connections.cross_team
        line = f":handshake: *Connections made*: {plural(met, 'pairing')} met"
        line += f", {crossed / met:.0%} across teams." if met else "."
        blocks += [divider(), mrkdwn_section(line)]
    if digest.questions is not None:
        blocks += [divider(), digest_section(digest.questions.measures, digest.questions.open_questions)]
    if digest.resurfaced is not None:
        blocks += [
            divider(),
            mrkdwn_section("*From the archive* :card_file_box:"),
            *_tip_entry(digest.resurfaced),
        ]
    summary = f"{title}: {plural(digest.tips_shared, 'tip')} shared by {plural(digest.sharers, 'person', 'people')}"
    return fallback_text(summary), blocks


def _circles_summary(recap: CirclesRecap) -> str:
    rounds = plural(recap.rounds, "check-in round")
    if recap.still_open:
        rounds += f" ({recap.still_open} still open)" if recap.rounds > 1 else " (still open)"
    if recap.invited:
        return f"{rounds}, {recap.answered} of {plural(recap.invited, 'check-in')} answered."
    return f"{rounds}, no check-ins answered yet."


def peerlearn_help(problem: str | None = None) -> list[Block]:
    """`/peerlearn help`: every Peerlearn command, not only /peerlearn's (see bot/help.py)."""
    return everything(problem)


def schedule_line(entry: ScheduleEntry) -> str:
    where = f"<#{entry.channel_id}>"
    try:
        kind = describe_kind(PostKind(entry.kind))
    except ValueError:
        kind = "unknown kind"
    if entry.cadence is None:
        return f"{where} — {kind} · its settings can't be read: set it again"
    if entry.paused_reason:
        state = f"paused ({user_text_excerpt(entry.paused_reason, 120)})"
    else:
        assert entry.next_at is not None
        state = f"next {local_time(entry.next_at, entry.cadence.zone, mark_yours=True)}"
    scope = " · channel tips only" if entry.kind == PostKind.DIGEST and entry.channel_only else ""
    return f"{where} — {kind}, {entry.cadence.describe()} · {state}{scope}"


def schedule_lines(entries: list[ScheduleEntry]) -> list[Block]:
    if not entries:
        return [
            mrkdwn_section("Nothing is scheduled yet. An admin can start with `/peerlearn prompts #channel mon 09:00`.")
        ]
    lines = [schedule_line(entry) for entry in entries]
    blocks = [header("Peerlearn schedules")]
    # Lines are under 280 characters: ten to a section stay under its 3000 (a cut would break a
    # date), and 45 sections, the header and the note stay under 50 blocks.
    shown = lines[: LISTED_SECTIONS * LINES_PER_SECTION]
    for start in range(0, len(shown), LINES_PER_SECTION):
        blocks.append(mrkdwn_section("\n".join(shown[start : start + LINES_PER_SECTION])))
    if len(lines) > len(shown):
        blocks.append(context(f"…and {len(lines) - len(shown)} more."))
    return blocks


def invalid_command(problem: str, usage: str | None) -> str:
    """What was wrong, and the one usage line that fits (no whole help)."""
    return f":warning: {problem}" + (f"\nUsage: {usage}" if usage else "")


def change_message(changed: Changed) -> str:
    match changed:
        case Configured(kind=kind, channel_id=channel_id, cadence=cadence, next_at=next_at):
            scope = " It counts only tips shared in that channel." if changed.channel_only else ""
            return (
                f":calendar: {describe_kind(kind).capitalize()} for <#{channel_id}>: {cadence.describe()}. "
                f"Next post: *{local_time(next_at, cadence.zone, mark_yours=True)}*.{scope}"
            )
        case TurnedOff(kind=kind, channel_id=channel_id):
            return f":white_check_mark: No more {describe_kind(kind)} in <#{channel_id}>."
        case NothingToTurnOff(kind=kind, channel=channel):
            return f"There is no {describe_kind(kind)} schedule for {channel.mention()}; nothing changed."
        case PostedNow(kind=kind, channel_id=channel_id, delivered=delivered):
            return _posted_now(one_post(kind), channel_id, delivered)
        case PromptAdded(number=number, text=text):
            return f":seedling: Added prompt `{number}`: {escape_mrkdwn(text)} It joins every channel's rotation."
        case PromptRemoved(number=number):
            return f":wastebasket: Removed prompt `{number}`."
        case NoSuchPrompt(number=number):
            return f"There is no custom prompt `{number}`; see `/peerlearn prompt list`."
        case _:
            assert_never(changed)


def _posted_now(what: str, channel_id: str, delivered: Delivered) -> str:
    match delivered.status:
        case Delivery.POSTED:
            return f":white_check_mark: Posted a {what} in <#{channel_id}>."
        case Delivery.RETRYING:
            return f":hourglass: Slack didn't take the {what} for <#{channel_id}> yet; I'll keep trying for a while."
        case Delivery.FAILED | Delivery.PAUSED:
            error = delivered.error or "unknown error"
            reason = PAUSING_ERRORS.get(error, escape_mrkdwn(error))
            return f":warning: I couldn't post the {what} in <#{channel_id}>: {reason}."
        case unknown:
            assert_never(unknown)


def custom_prompt_list(prompts: list[CustomPrompt], builtin_count: int) -> list[Block]:
    intro = f"{builtin_count} built-in prompts rotate in every channel"
    if not prompts:
        return [mrkdwn_section(f"{intro}. No custom prompts yet: `/peerlearn prompt add &lt;text&gt;` (admins).")]
    lines = [f"`{p.number}` {user_text_excerpt(p.text, 200)}" for p in prompts]
    own = "this one" if len(prompts) == 1 else f"these {len(prompts)}"
    blocks = [mrkdwn_section(f"{intro}, plus {own} of your own:")]
    shown = lines[: LISTED_SECTIONS * LINES_PER_SECTION]  # ten lines of at most ~215 characters each
    for start in range(0, len(shown), LINES_PER_SECTION):
        blocks.append(mrkdwn_section("\n".join(shown[start : start + LINES_PER_SECTION])))
    if len(lines) > len(shown):
        blocks.append(context(f"…and {len(lines) - len(shown)} more."))
    return blocks


def pause_notice(kind: str, channel_id: str, error: str, when: str) -> str:
    post_kind = PostKind(kind)
    return (
        f":pause_button: I paused the {describe_kind(post_kind)} for <#{channel_id}>{when}: "
        f"{PAUSING_ERRORS[error]} (`{error}`).\n"
        f"To resume, fix that (e.g. `/invite @Peerlearn` there), then set it again: "
        f"`/peerlearn {command_word(post_kind)} <#{channel_id}> …`, or pick another channel."
    )


def broken_notice(kind: str, channel_id: str, problem: str) -> str:
    try:
        what, command = describe_kind(PostKind(kind)), command_word(PostKind(kind))
    except ValueError:
        what, command = "schedule", "prompts"
    return (
        f":pause_button: I paused the {what} for <#{channel_id}>: its stored settings can't be read "
        f"({escape_mrkdwn(problem)}). Set it again to resume, e.g. "
        f"`/peerlearn {command} <#{channel_id}> mon 09:00 Europe/Berlin`."
    )


def gave_up_notice(kind: str, channel_id: str, error: str) -> str:
    try:
        what = one_post(PostKind(kind))
    except ValueError:
        what = "scheduled post"
    return (
        f":warning: I couldn't post the {what} in <#{channel_id}> (`{escape_mrkdwn(error)[:100]}`) and have "
        "stopped trying for this one. The schedule stays on: the next post is due as usual. "
        "If this repeats, check the channel, or set the schedule again."
    )
