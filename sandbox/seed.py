"""First-start data, so the first look is not empty.

The workspace (people, channels, a conversation) is written directly: that is Slack's own data.
Everything Peerlearn holds (tips, votes, a circle, a prompt schedule) is made the way a person
would make it, through slash commands, reactions and a modal sent to the real app. So the seed
also checks, on every first start, that the app answers what Slack sends it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sandbox.client import SlackClient
from sandbox.forms import form_values
from sandbox.workspace import APP_ID, BOT_USER_ID, Message, Team, View, Workspace

log = logging.getLogger("peerlearn.sandbox")

ADMIN = "U0ANA"
PEOPLE = [
    # id, handle, name, title, time zone, workspace admin
    (ADMIN, "ana", "Ana Souza", "Staff engineer", "America/Sao_Paulo", True),
    ("U0BEN", "ben", "Ben Okafor", "Product designer", "Africa/Lagos", False),
    ("U0CHEN", "chen", "Chen Wei", "Data scientist", "Asia/Singapore", False),
    ("U0DANA", "dana", "Dana Kim", "Engineering manager", "America/Los_Angeles", False),
    ("U0ELI", "eli", "Eli Novak", "Junior engineer", "Europe/Berlin", False),
]
CHANNELS = [
    # id, name, topic, private, members, the app is a member
    (
        "C0GENERAL",
        "general",
        "Company-wide news, learning prompts and the weekly digest",
        False,
        ["U0ANA", "U0BEN", "U0CHEN", "U0DANA", "U0ELI"],
        True,
    ),
    ("C0ENG", "engineering", "Builds, reviews, databases", False, ["U0ANA", "U0CHEN", "U0DANA", "U0ELI"], True),
    (
        "C0DESIGN",
        "design",
        "Figma, research, critique",
        False,
        ["U0ANA", "U0BEN", "U0DANA"],
        False,
    ),
    ("G0LEADS", "leads", "Private: team leads (invite the app to use it here)", True, ["U0ANA", "U0DANA"], False),
]
CONVERSATION = [
    ("C0GENERAL", "U0DANA", "Morning all! Reminder: demo day is Thursday."),
    ("C0ENG", "U0ELI", "Anyone know how to review a PR without stashing my half-done work?"),
]
CAPTURED = (
    "C0ENG",
    "U0CHEN",
    "TIL: `git worktree add ../review origin/main` gives you a second checkout next to the first, "
    "so you can review a PR without stashing anything.",
)
TIPS = [
    (ADMIN, "C0ENG", "Run EXPLAIN ANALYZE before adding an index: measure first, then change. #postgres #performance"),
    ("U0BEN", "C0DESIGN", 'Name layers after what they show ("Empty state"), not where they are ("Frame 12"). #figma'),
    ("U0DANA", "C0GENERAL", 'In 1:1s ask "what would make next week easier?": blockers come up early. #management'),
]
HELPFUL = [("U0ELI", 0, "+1"), ("U0CHEN", 0, "raised_hands"), ("U0DANA", 1, "+1"), ("U0ELI", 2, "heart")]
SEEDED_SETTING = "seeded_app"
CIRCLE = {"name": "Postgres study group", "description": "Reading the PostgreSQL docs together, one chapter a week"}


# The second workspace (PEERLEARN_SANDBOX_WORKSPACES=2): another company, with a channel id the same
# as the first's (#general), as different workspaces' may be, so nothing but the workspace tells
# them apart. The same app, installed there through OAuth.
BETA = Team(
    id="T0BETA", name="Beta Sandbox", domain="beta-sandbox", bot_user_id=BOT_USER_ID, bot_id="B0PEERBETA", app_id=APP_ID
)
BETA_ADMIN = "U0FAY"
BETA_PEOPLE = [
    (BETA_ADMIN, "fay", "Fay Lindqvist", "Support lead", "Europe/Stockholm", True),
    ("U0GUS", "gus", "Gus Moreno", "Support engineer", "America/Mexico_City", False),
    ("U0HANA", "hana", "Hana Sato", "Technical writer", "Asia/Tokyo", False),
]
BETA_CHANNELS = [
    ("C0GENERAL", "general", "Beta's own #general", False, ["U0FAY", "U0GUS", "U0HANA"], True),
    ("C0SUPPORT", "support", "Tickets, macros, escalations", False, ["U0FAY", "U0GUS", "U0HANA"], True),
]
BETA_CONVERSATION = [("C0SUPPORT", "U0GUS", "Queue is calm today, good time to write up the refund macro.")]
BETA_TIP = "Quote the customer's own words before the fix: they know they were heard. #support"


def seed_workspace(
    workspace: Workspace,
    people: list[tuple[str, str, str, str, str, bool]] = PEOPLE,
    channels: list[tuple[str, str, str, bool, list[str], bool]] = CHANNELS,
    conversation: list[tuple[str, str, str]] = CONVERSATION,
) -> None:
    with workspace.session() as session:
        workspace.add_user(session, BOT_USER_ID, "peerlearn", real_name="Peerlearn", tz="UTC", is_bot=True)
        for user_id, handle, name, title, zone, admin in people:
            workspace.add_user(session, user_id, handle, real_name=name, title=title, tz=zone, is_admin=admin)
        for channel_id, name, topic, private, members, app_joined in channels:
            joined = [*members, BOT_USER_ID] if app_joined else members
            workspace.add_channel(session, channel_id, name, joined, topic=topic, is_private=private)
        for channel_id, user_id, text in conversation:
            workspace.add_message(session, channel_id, user_id, text)
    workspace.changed()


def seed_beta(workspace: Workspace) -> None:
    seed_workspace(workspace, BETA_PEOPLE, BETA_CHANNELS, BETA_CONVERSATION)


def seed_beta_app(workspace: Workspace, client: SlackClient) -> None:
    """Beta's own tip and prompt schedule, through the app: nothing of the first workspace's."""
    client.run_command(BETA_ADMIN, "C0SUPPORT", f"/tip {BETA_TIP}")
    _wait(partial(_tip_post, workspace, "C0SUPPORT", BETA_TIP), "Beta's tip post")
    client.run_command(BETA_ADMIN, "C0GENERAL", "/peerlearn prompts #general tue 10:00")
    client.link.drain()


def seed_app(workspace: Workspace, client: SlackClient) -> None:
    """Tips, helpful votes, a circle with members and a prompt schedule, made through the app."""
    channel_id, author, text = CAPTURED
    client.send(author, channel_id, text)
    captured_ts = _wait(lambda: _latest(workspace, channel_id, author), "the message to capture")
    client.toggle_reaction("U0ELI", channel_id, captured_ts, "bulb")

    # Ben adds the app to #design before his tip there, as a channel new to an app usually starts:
    # its introduction, then the tip. (A tip alone would make the app join, and the introduction,
    # which follows the join, would come after the tip.)
    client.add_app("U0BEN", "C0DESIGN")
    _wait(partial(_first_app_post, workspace, "C0DESIGN"), "the app's introduction in #design")

    posts: list[tuple[str, str]] = []
    for user_id, channel, tip in TIPS:
        client.run_command(user_id, channel, f"/tip {tip}")
        posts.append((channel, _wait(partial(_tip_post, workspace, channel, tip), f"the tip post in {channel}")))
    for user_id, index, emoji in HELPFUL:
        channel, ts = posts[index]
        client.toggle_reaction(user_id, channel, ts, emoji)

    client.run_command(ADMIN, "C0ENG", f"/circle create {CIRCLE['name']}")
    view_id, view = _wait(lambda: _modal_of(workspace, ADMIN), "the circle form")
    errors = client.submit_view(ADMIN, view_id, form_values(view, {"description": CIRCLE["description"]}))
    if errors:
        raise RuntimeError(f"the circle form was refused: {errors}")
    # The app saves the circle after the ack (a queued job) and then announces it: join after that.
    _wait(partial(_tip_post, workspace, "C0ENG", CIRCLE["name"]), "the circle's announcement")
    for member in ("U0CHEN", "U0ELI"):
        client.run_command(member, "C0ENG", f"/circle join {CIRCLE['name']}")

    client.run_command(ADMIN, "C0GENERAL", "/peerlearn prompts #general mon 09:30")
    client.run_command(ADMIN, "C0GENERAL", "/peerlearn digest #general fri 16:00")
    client.link.drain()


def seed_once(
    workspace: Workspace,
    client: SlackClient,
    data: Path,
    app_idle: Callable[[], bool],
    seed: Callable[[Workspace, SlackClient], None] = seed_app,
) -> None:
    """The app's part of the seed, on the first start only (a partial seed is never redone). Returns
    once the app has done the work behind every request the seed sent (`app_idle`: its job queue is
    empty), so whoever is told "ready" next finds the tips, the circle and the schedules saved."""
    with workspace.session() as session:
        if workspace.get_setting(session, SEEDED_SETTING):
            return
    log.info("first start: seeding tips, a circle and a prompt schedule through the app")
    try:
        seed(workspace, client)
        _wait(lambda: True if app_idle() else None, "end to the app's work after the seed's requests", timeout=60.0)
    except RuntimeError as error:
        # The sandbox still works without the seed; seeding again would duplicate what did land.
        log.error("seeding stopped part way (%s); the sandbox runs on. Start over with: rm -rf %s", error, data)
    with workspace.session() as session:
        workspace.set_setting(session, SEEDED_SETTING, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def _wait(probe: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(0.05)
    raise RuntimeError(f"seeding: no {what} after {timeout:.0f}s")


def _latest(workspace: Workspace, channel_id: str, user_id: str) -> str | None:
    with workspace.session() as session:
        return session.scalars(
            select(Message.ts)
            .where(Message.channel_id == channel_id, Message.user_id == user_id, Message.visible_to.is_(None))
            .order_by(Message.id.desc())
        ).first()


def _first_app_post(workspace: Workspace, channel_id: str) -> str | None:
    """The ts of the app's first post in a channel (one with message metadata: not its join notice)."""
    with workspace.session() as session:
        return session.scalars(
            select(Message.ts)
            .where(Message.channel_id == channel_id, Message.user_id == BOT_USER_ID, Message.meta.is_not(None))
            .order_by(Message.id)
        ).first()


def _tip_post(workspace: Workspace, channel_id: str, tip: str) -> str | None:
    words = tip.split()[:3]  # the post escapes the text; its first plain words are enough to find it
    with workspace.session() as session:
        for message in session.scalars(
            select(Message)
            .where(Message.channel_id == channel_id, Message.user_id == BOT_USER_ID, Message.visible_to.is_(None))
            .order_by(Message.id.desc())
        ):  # fmt: skip
            if all(word in message.blocks for word in words):
                return message.ts
    return None


def _modal_of(workspace: Workspace, user_id: str) -> tuple[str, dict[str, Any]] | None:
    with workspace.session() as session:
        view = session.scalars(select(View).where(View.user_id == user_id, View.kind == "modal")).first()
        return None if view is None else (view.id, json.loads(view.body))
