"""Short messages to one person about something that did not go as asked."""

from __future__ import annotations

from bot.text import truncate_escaped

_POST_FAILURES = {
    "not_in_channel": ("I'm not a member of that conversation. Invite me with `/invite @Peerlearn` and try again."),
    "channel_not_found": (
        "I can't post in this conversation (a private channel or DM I'm not part of). "
        "Invite me with `/invite @Peerlearn`, or share in a public channel."
    ),
    "is_archived": "That channel is archived, so I can't post there.",
    "ratelimited": "Slack is rate-limiting me right now, so I couldn't post.",
    "restricted_action": "This workspace doesn't allow me to post there.",
}


def post_failure(error: str, channel_id: str | None = None) -> str:
    if error in ("channel_not_found", "not_in_channel") and channel_id and channel_id.startswith("D"):
        return "Direct messages between people are theirs alone, so I don't post there."
    if error in _POST_FAILURES:
        return _POST_FAILURES[error]
    if error.startswith("http_5") or error == "connection_failed":
        return "Slack didn't answer in time, so I couldn't post."
    return f"Slack refused the post ({error})."


def tip_saved_not_posted(number: int, error: str, channel_id: str | None = None) -> str:
    """`number`: the tip's number in the workspace, as people see it."""
    return (
        f":white_check_mark: Tip #{number} is saved — it shows up in `/tip search` and `/tip top`. "
        f"{post_failure(error, channel_id)}"
    )


def tip_not_shared(reason: str, text: str) -> str:
    """A composed tip refused before it was stored: why, and the text back, so nothing typed is lost."""
    quoted = "\n".join(f">{line}" for line in truncate_escaped(text, 2500).splitlines())
    return f":warning: Your tip wasn't shared: {reason} Here it is, to share again:\n{quoted}"


def something_went_wrong() -> str:
    return ":warning: Sorry, something went wrong on my side. Nothing you shared was lost; please try again."


def could_not_do_it() -> str:
    """A failure before anything was stored (while acknowledging): the person should simply retry."""
    return ":warning: Sorry, something went wrong on my side, so I couldn't do that. Please try again in a moment."


def form_not_saved() -> str:
    """The same, shown under a form's first field: the form stays open with what was typed."""
    return "Sorry, something went wrong on my side and nothing was saved. Please submit again in a moment."
