"""Bolt listeners: acknowledge, parse, call bot/, render. No domain logic and no SQL here."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    capture,
    circles,
    errors,
    home,
    mentor,
    onboarding,
    pairing,
    peerlearn,
    people,
    prompt_replies,
    questions,
    tips,
    workspace_lifecycle,
)
from handlers.deps import Deps


def register_all(app: App, deps: Deps) -> None:
    errors.register(app, deps)
    tips.register(app, deps)
    capture.register(app, deps)
    questions.register(app, deps)  # before peerlearn: it takes `/peerlearn questions|stats`
    peerlearn.register(app, deps)
    circles.register(app, deps)
    prompt_replies.register(app, deps)
    home.register(app, deps)
    mentor.register(app, deps)
    pairing.register(app, deps)
    people.register(app, deps)
    workspace_lifecycle.register(app, deps)
    onboarding.register(app, deps)
    prompt_replies.ignore_chatter(app)  # last: the messages no listener above wanted
