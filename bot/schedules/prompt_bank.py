"""The built-in learning prompts. Keys are stable: the ledger remembers which a channel has seen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str
    theme: str


_BANK: dict[str, list[str]] = {
    "learned": [
        "What's one thing you learned this week that you wish you'd known a month ago?",
        "What surprised you at work this week? What did it teach you?",
        "Which mistake taught you the most recently, and what would you do differently now?",
        "What did you figure out this week by reading code, docs or a log rather than asking?",
        "What's a small habit you picked up recently that is already paying off?",
        "Which question did you ask this week that unlocked something for you?",
        "What did you learn from a customer, user or support ticket lately?",
    ],
    "teach_back": [
        "Teach-back: explain something you learned recently in three sentences, as if to a new colleague.",
        "Pick a concept from your field that confuses newcomers. Explain it in three sentences.",
        "What is one rule of thumb from your work that you'd put on a sticky note for the team?",
        "Explain the last bug you fixed so that someone outside your team understands why it happened.",
        "What would you put in the first hour of onboarding for your role, and why?",
        "Share a diagram, sketch or analogy that finally made something click for you.",
    ],
    "tough_situation": [
        "Describe a tough situation from the last few weeks and how you handled it. What would you keep?",
        "When did you last disagree with someone at work productively? What made it work?",
        "What's a decision you made with incomplete information recently? How did you make it?",
        "Share a time a plan fell apart this month. What did you do in the first hour?",
        "How do you handle it when you're blocked and the person who can unblock you is busy?",
        "What's a piece of feedback you received that was hard to hear but useful?",
    ],
    "tools": [
        "Share a tool, shortcut or command that saves you time every week.",
        "What's in your editor, terminal or browser setup that colleagues keep asking about?",
        "Which keyboard shortcut would you teach everyone in the company if you could?",
        "What do you automate that others still do by hand?",
        "Share a template, checklist or snippet you reuse all the time.",
        "Which search trick helps you find answers faster (in code, docs, Slack or the web)?",
        "What's one setting or configuration change that made your day-to-day noticeably better?",
    ],
    "cross_team": [
        "What does your team do that other teams don't know about but could borrow?",
        "What's one thing other teams often misunderstand about your team's work?",
        "Which team did you work with recently that taught you something? What was it?",
        "What's a question you'd love to ask another team? Ask it here and tag a colleague who might know.",
        "Share a ritual or practice from your team that makes work better (retros, docs, demos, anything).",
        "What handoff between teams could be smoother, and what have you tried?",
    ],
    "who_helped": [
        "Who helped you grow recently, and how? Give them a shout-out.",
        "Who is the person you go to when you're stuck on something, and what makes them good at helping?",
        "What's the best piece of advice a colleague gave you, and when did you use it?",
        "Who explained something to you so well that you still remember it? What did they do?",
        "Which colleague's work quietly made yours easier this month?",
    ],
    "ask_for_help": [
        "What's a question you'd like help with this week? Ask it in the thread.",
        "What are you trying to get better at right now? Maybe someone here can help.",
        "What's something you've been meaning to learn but haven't started? What's in the way?",
        "Which skill would you trade an hour of your expertise for? Say what you can teach in return.",
        "What topic would you like someone here to run a 20-minute session on?",
        "Where did you get stuck recently and never quite got unstuck?",
    ],
    "reflection": [
        "If you could redo one piece of work from the last quarter, what would you change?",
        "What do you know now about your job that you didn't know a year ago?",
        "What did you stop doing recently that made you more effective?",
        "Which book, talk, article or podcast changed how you work? One sentence on why.",
    ],
}

BUILTIN_PROMPTS: tuple[Prompt, ...] = tuple(
    Prompt(key=f"builtin:{theme}:{index + 1:02d}", text=text, theme=theme)
    for theme, texts in _BANK.items()
    for index, text in enumerate(texts)
)
