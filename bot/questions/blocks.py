"""Messages about questions: tips that may answer one, the question's post in its thread, the DM to
the people asked, the asker's choices, `/ask mine`, and the measures. Pure and within Slack's limits;
user text escaped everywhere (bot.kit)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from bot.kit import (
    MAX_BUTTON_TEXT,
    MAX_MODAL_TITLE,
    Block,
    context,
    fallback_text,
    link,
    mrkdwn_section,
    plain,
    slack_date,
    usage_blocks,
    user_text_excerpt,
    user_text_sections,
)
from bot.questions.commands import MAX_ID, USAGE
from bot.questions.results import Asked, Refused, Routed, Suggested, TipsOnly
from bot.questions.rules import (
    ANSWERED,
    ANSWERED_BY_TIP,
    CLOSED,
    EXAMPLE,
    MAX_QUESTION_LENGTH,
    QuestionRejected,
    check_question,
)
from bot.text import escape_mrkdwn, truncate, truncate_escaped
from bot.tips.blocks import tip_line
from storage.models import Question, QuestionReply, Tip

# action_ids: the asker's, on tips and on the question's post
ANSWERED_BY_TIP_ACTION = "question_tip_answered"
NEED_HELP = "question_need_help"
MARK_ANSWERED = "question_answered"
PICK_REPLY = "question_pick_reply"
CLOSE = "question_close"
SAVE_AS_TIP = "question_save_tip"
# ... and the people asked, in their DM
CAN_HELP = "question_can_help"
NOT_ME = "question_not_me"

# The *Ask a question* form (the App Home's button)
ASK_FORM = "question_ask_form"

_ID = re.compile(r"[1-9][0-9]{0,9}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{1,31}")
SLACK_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
EXCERPT = 500
MAX_PICKS = 5
DONE = {
    ANSWERED: "That question is answered already.",
    ANSWERED_BY_TIP: "That question was answered by a tip already.",
    CLOSED: "That question is closed.",
}
PRIVATE = (
    "This conversation is private, so I won't take your question to colleagues outside it. "
    "Ask in a public channel to reach the people who know."
)


def read_question_id(value: object) -> int | None:
    """A question id from a button's value, strictly (values are input from the network)."""
    text = str(value or "")
    return int(text) if _ID.fullmatch(text) and int(text) <= MAX_ID else None


def read_question_and_tip(value: object) -> tuple[int, int] | None:
    """`<question id>:<tip id>` from *This answered it*'s value, strictly (both 32-bit ids)."""
    first, _, rest = str(value or "").partition(":")
    question_id, tip_id = read_question_id(first), read_question_id(rest)
    return (question_id, tip_id) if question_id is not None and tip_id is not None else None


def read_question_and_reply(value: object) -> tuple[int, str] | None:
    """`<question id>:<reply ts>` from a reply's button, strictly."""
    first, _, rest = str(value or "").partition(":")
    question_id = read_question_id(first)
    return (question_id, rest) if question_id is not None and SLACK_TS.fullmatch(rest) else None


def help_blocks(problem: str | None = None) -> list[Block]:
    return usage_blocks(USAGE, problem)


def _button(text: str, action_id: str, value: str, style: str | None = None, url: str | None = None) -> Block:
    button: Block = {"type": "button", "text": plain(text, MAX_BUTTON_TEXT), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    if url:
        button["url"] = url
    return button


def _actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons)}


def topics_text(topics: str) -> str:
    return ", ".join(f"#{escape_mrkdwn(t)}" for t in topics.split())


# -- tips that may answer it ---------------------------------------------------------------------


def suggestions(question: Question, tips: list[Tip], *, in_thread: bool) -> tuple[str, list[Block]]:
    """Up to 3 tips, each with *This answered it*, and *Still need help* under them."""
    whom = f"<@{question.asker_id}>, these" if in_thread else "These"
    blocks: list[Block] = [mrkdwn_section(f":bulb: {whom} tips from colleagues may answer your question:")]
    for tip in tips:
        blocks += tip_line(tip)
        blocks.append(_actions(_button("This answered it", ANSWERED_BY_TIP_ACTION, f"{question.id}:{tip.id}")))
    blocks.append(_actions(_button("Still need help", NEED_HELP, str(question.id), style="primary")))
    blocks.append(context("*Still need help* asks the colleagues who know the topic."))
    return fallback_text("Tips that may answer your question"), blocks


def asked_message(outcome: Asked) -> tuple[str, list[Block] | None]:
    """What the asker (or whoever used *Ask Peerlearn*) hears after asking."""
    match outcome:
        case Suggested(question=question, tips=found, in_thread=in_thread):
            if in_thread:
                return f"I put tips that may answer <@{question.asker_id}>'s question in its thread.", None
            return suggestions(question, found, in_thread=False)
        case Routed(question=question, asked=asked):
            return routed_text(question, asked) or "", None
        case TipsOnly(tips=found):
            if not found:
                return f"I found no tips that answer it. {PRIVATE}", None
            lines: list[Block] = [mrkdwn_section(":bulb: These tips from colleagues may answer your question:")]
            for tip in found:
                lines += tip_line(tip)
            return "Tips that may answer your question", [*lines, context(PRIVATE)]
        case Refused(message=message):
            return message, None
        case _:
            assert_never(outcome)


def who_know(asked: int) -> str:
    """ "colleague who knows" or "3 colleagues who know": the verb agrees with how many were asked."""
    return "colleague who knows" if asked == 1 else f"{asked} colleagues who know"


def _given_back(text: str) -> str:
    """The question quoted back, escaped, so nothing the person typed is lost when it isn't asked."""
    return "\n".join(f">{line}" for line in truncate_escaped(text, 2500).splitlines())


def question_not_asked(reason: str, text: str) -> str:
    return f":warning: Your question wasn't asked: {reason} Here it is, to ask again:\n{_given_back(text)}"


def went_private(question: Question) -> str:
    """The asker's DM when their question's channel turned private while it waited (routing.py)."""
    channel = f"<#{question.channel_id}>"
    quoted = "\n".join(f">{line}" for line in user_text_excerpt(question.text, EXCERPT).splitlines())
    return (
        f":lock: {channel} is private now, so I won't take your question to colleagues outside it any more, "
        f"and I closed it:\n{quoted}\nPeople in {channel} can still answer in its thread. To reach the "
        "people who know, ask in a public channel."
    )


def over_quota(limit: int, again: datetime, text: str) -> str:
    """A person past their questions per hour: when they can ask again, and their question back."""
    when = slack_date(again, "{time}", f"{again:%H:%M} UTC")
    return (
        f":hourglass: You've asked {limit} questions in the last hour, as many as I take to colleagues in an "
        f"hour, so nobody is flooded with DMs. You can ask again at {when}. Here is your question, to ask "
        f"then:\n{_given_back(text)}"
    )


def tips_only_note(found: list[Tip]) -> str:
    """A private conversation's answer as one plain message (an ephemeral note in a channel): the
    tips that may answer it, each with its number to look up, and why nobody else was asked."""
    lines = [f"• tip #{tip.number}: {user_text_excerpt(tip.text, 200)}" for tip in found]
    if not lines:
        return f"I found no tips that answer your question. {PRIVATE}"
    return ":bulb: These tips from colleagues may answer your question:\n" + "\n".join(lines) + f"\n{PRIVATE}"


def routed_text(question: Question, asked: int) -> str | None:
    """What the asker hears once the question went to people (None: they were told another way)."""
    if question.state == CLOSED and question.closed_reason in ("unpostable", "private"):
        return None
    if question.state not in ("routing", "waiting", "unanswered"):
        return DONE.get(question.state, DONE[CLOSED])
    where = f"<{question.permalink}|your question>" if question.permalink else "your question"
    if asked:
        about = f" {topics_text(question.topics)}" if question.topics else " the topic"
        return (
            f":mag: I posted {where} in <#{question.channel_id}> and asked the {who_know(asked)}{about}. "
            "Replies come in its thread."
        )
    return (
        f":mag: I posted {where} in <#{question.channel_id}>; "
        "I don't know yet who knows this best, so anyone there can answer."
    )


# -- the question's post -------------------------------------------------------------------------


@dataclass(frozen=True)
class PostFacts:
    """What the question's post says besides the question: how many were asked, who replied."""

    asked: int
    replied: bool
    answered_tip: int | None = None  # the number of the tip that answered it (None: none, or deleted since)


def question_post(question: Question, facts: PostFacts, *, parent: bool) -> tuple[str, list[Block]]:
    """The thread's parent for `/ask` (with the question), or our reply under a question asked in a
    message; the asker's *Answered* (once someone replied) and *Close* while it is open."""
    blocks: list[Block] = []
    if parent:
        blocks.append(mrkdwn_section(f":question: *<@{question.asker_id}> asks:*"))
        blocks += user_text_sections(question.text, max_sections=10)
    blocks.append(mrkdwn_section(_status(question, facts)))
    if question.state not in (ANSWERED, ANSWERED_BY_TIP, CLOSED):
        buttons = [_button("Answered", MARK_ANSWERED, str(question.id), style="primary")] if facts.replied else []
        buttons.append(_button("Close", CLOSE, str(question.id)))
        blocks.append(_actions(*buttons))
        blocks.append(context(f"Only <@{question.asker_id}> can mark it answered or close it."))
    return fallback_text(f"Question: {question.text}"), blocks


def _status(question: Question, facts: PostFacts) -> str:
    if question.state == ANSWERED:
        answer = link(question.permalink and _reply_link(question.permalink, question.answer_ts), "the answer")
        return f":white_check_mark: Answered by <@{question.answered_by}>" + (f" ({answer})." if answer else ".")
    if question.state == ANSWERED_BY_TIP:
        return f":bulb: Answered by tip #{facts.answered_tip}." if facts.answered_tip else ":bulb: Answered by a tip."
    if question.state == CLOSED:
        if question.closed_reason == "private":
            return ":lock: Closed: this channel is private now, so I don't ask colleagues outside it."
        return ":lock: Closed by the asker." if question.closed_reason == "asker" else ":lock: Closed."
    if facts.asked:
        people = f"1 {who_know(1)}" if facts.asked == 1 else who_know(facts.asked)
        about = f" {topics_text(question.topics)}" if question.topics else " the topic"
        asked = f":mag: I asked {people}{about}."
    else:
        asked = ":mag: I don't know yet who knows this best: anyone?"
    if question.state == "unanswered":
        asked += " Still open: can you help?"
    return f"{asked} Answer in this thread." if not facts.replied else f"{asked} :speech_balloon: Replies below."


def _reply_link(permalink: str, ts: str | None) -> str:
    """The thread's link pointed at one reply (Slack's own shape: p<ts>?thread_ts=…)."""
    if not ts or "/p" not in permalink:
        return permalink
    base, _, _ = permalink.partition("?")
    head, _, parent = base.rpartition("/p")
    return f"{head}/p{ts.replace('.', '')}?thread_ts={parent[:10]}.{parent[10:]}"


# -- the people asked ----------------------------------------------------------------------------


def expert_dm(question: Question, reasons: str) -> tuple[str, list[Block]]:
    excerpt = user_text_excerpt(question.text, EXCERPT)
    blocks: list[Block] = [
        mrkdwn_section(f":raising_hand: <@{question.asker_id}> asked a question you may know the answer to:"),
        mrkdwn_section(f"> {excerpt}".replace("\n", "\n> ")),
    ]
    if reasons:
        blocks.append(context(f"Why you: {reasons}"))
    blocks.append(
        _actions(
            _button("I can help", CAN_HELP, str(question.id), style="primary", url=question.permalink or None),
            _button("Not me", NOT_ME, str(question.id)),
        )
    )
    return fallback_text(f"A colleague asked a question you may know: {question.text}"), blocks


def expert_dm_answered(question: Question, reasons: str, outcome: str) -> tuple[str, list[Block]]:
    """The DM once they said: the buttons give way to what they chose."""
    text, blocks = expert_dm(question, reasons)
    thread = link(question.permalink, "the thread")
    said = {
        "helping": f":raised_hands: Thanks for helping! Answer in {thread or 'the question’s thread'}.",
        "declined": ":ok_hand: No problem — I'll ask someone else.",
    }.get(outcome, ":lock: This question is closed.")
    return text, [*blocks[:-1], context(said)]


def unanswered_notice(question: Question) -> str:
    where = link(question.permalink, "your question")
    return (
        f":hourglass: Nobody has answered {where or 'your question'} yet, though I asked the colleagues who "
        "know the topic. It's in the next digest's *Can you help?*; adding details in the thread helps too."
    )


# -- the asker's choices -------------------------------------------------------------------------


def pick_reply(question: Question, replies: list[QuestionReply], names: dict[str, str]) -> list[Block]:
    """Which reply answered it, when several people replied (the latest first)."""
    buttons = []
    for reply in replies[-MAX_PICKS:][::-1]:
        name = names.get(reply.user_id, reply.user_id)
        label = truncate(f"{name}: {' '.join(reply.text.split())}", MAX_BUTTON_TEXT)
        buttons.append(_button(label, PICK_REPLY, f"{question.id}:{reply.ts}"))
    return [mrkdwn_section("Which reply answered your question?"), _actions(*buttons)]


def save_offer(question: Question, *, to_answerer: bool) -> tuple[str, list[Block]]:
    if to_answerer:
        said = (
            f":tada: <@{question.asker_id}> marked your reply as the answer to their question. "
            "Save it as a tip, so the next person who wonders finds it?"
        )
    else:
        said = (
            f":white_check_mark: Marked answered by <@{question.answered_by}>. "
            "Save their answer as a tip, so the next person who wonders finds it?"
        )
    tags = f" Tagged {topics_text(question.topics)}." if question.topics else ""
    blocks = [
        mrkdwn_section(said + tags),
        _actions(_button("Save as tip", SAVE_AS_TIP, str(question.id), style="primary")),
    ]
    return fallback_text(said), blocks


# -- /ask mine -----------------------------------------------------------------------------------

STATE_WORDS = {
    "new": "just asked",
    "suggested": "tips suggested",
    "routing": "asking colleagues",
    "waiting": "waiting for answers",  # true whether or not anyone was asked (the Home doesn't count them)
    "unanswered": "still unanswered",
    ANSWERED_BY_TIP: "answered by a tip",
    ANSWERED: "answered",
    CLOSED: "closed",
}


def question_line(question: Question, asked: int | None = None) -> str:
    """`• How do I …? — #12 · Dec 2 · 3 colleagues asked · thread`: `/ask mine`'s line (with how many
    got the DM, `asked`), and the Home's."""
    where = link(question.permalink, "thread")
    state = STATE_WORDS.get(question.state, question.state)
    if question.state == "waiting" and asked is not None:
        people = "colleague" if asked == 1 else "colleagues"
        state = f"{asked} {people} asked" if asked else "posted for anyone to answer"
    facts = " · ".join(filter(None, [f"#{question.number}", slack_date(question.asked_at), state, where]))
    return f"• {user_text_excerpt(question.text, 150)} — {facts}"


def my_questions(questions: list[Question], asked: Mapping[int, int] | None = None) -> list[Block]:
    """`/ask mine`: `asked` is how many people got each question's DM (by question id)."""
    if not questions:
        return [mrkdwn_section("You haven't asked anything yet. Try " + "`/ask How do I …?`")]
    lines = [question_line(q, None if asked is None else asked.get(q.id, 0)) for q in questions[:25]]
    blocks = [mrkdwn_section("*Your questions*\n" + "\n".join(lines))]
    blocks.append(context("`/ask close &lt;number&gt;` closes one that no longer needs an answer."))
    return blocks


# -- the *Ask a question* form ---------------------------------------------------------------------


def ask_form() -> dict[str, Any]:
    """`/ask` as a form: the question, and the channel to ask it in (its thread is where people answer)."""
    question: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "question",
        "multiline": True,
        "max_length": MAX_QUESTION_LENGTH,
        "placeholder": plain("How do I find the slow queries in postgres?", 150),
    }
    channel = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    return {
        "type": "modal",
        "callback_id": ASK_FORM,
        "title": plain("Ask a question", MAX_MODAL_TITLE),
        "submit": plain("Ask", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "blocks": [
            {"type": "input", "block_id": "question", "label": plain("Your question", 2000), "element": question},
            {
                "type": "input",
                "block_id": "channel",
                "label": plain("Ask it in", 2000),
                "hint": plain(
                    "First I look for tips that answer it; if none does, I post it there and ask the colleagues "
                    "who know. In a private channel I only look for tips.",
                    2000,
                ),
                "element": channel,
            },
        ],
    }


def read_ask_form(values: object) -> tuple[str, str] | dict[str, str]:
    """(the question as `/ask` would store it, the channel), or the field errors to show: the same
    checks as `/ask`, and untrusted input read without ever raising."""
    blocks = values if isinstance(values, dict) else {}

    def typed(block_id: str, key: str) -> object:
        block = blocks.get(block_id)
        state = block.get(block_id) if isinstance(block, dict) else None
        return state.get(key) if isinstance(state, dict) else None

    raw, channel = typed("question", "value"), typed("channel", "selected_conversation")
    errors: dict[str, str] = {}
    question = ""
    try:
        question = check_question(raw if isinstance(raw, str) else "")
    except QuestionRejected as rejected:
        errors["question"] = truncate(
            str(rejected).replace(f"For example: {EXAMPLE}", "For example: " + _plain_example()), 150
        )
    if not isinstance(channel, str) or _CHANNEL_ID.fullmatch(channel) is None:
        errors["channel"] = "Pick the channel to ask it in."
    return errors or (question, str(channel))


def _plain_example() -> str:
    """The example as a field error shows it: plain text, no backticks or escapes."""
    return EXAMPLE.strip("`").removeprefix("/ask ")


def home_questions(open_questions: list[Question], shown: int) -> list[Block]:
    """The App Home's *Your open questions*: one section (a line and a link each), and how many more."""
    if not open_questions:
        return [mrkdwn_section("No open questions. *Ask a question* above, or `/ask &lt;your question&gt;` anywhere.")]
    lines = [question_line(question) for question in open_questions[:shown]]
    blocks = [mrkdwn_section("\n".join(lines))]
    if len(open_questions) > shown:
        blocks.append(context("…and more: `/ask mine` lists them all."))
    return blocks
