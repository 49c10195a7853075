"""What reads as a question, what can be asked, what a question is about, which tips answer it, and
working hours (weekends, evenings, daylight-saving changes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.questions.blocks import read_question_and_reply, read_question_and_tip, read_question_id
from bot.questions.commands import (
    AskHelp,
    AskQuestion,
    CloseQuestion,
    ListQuestionsChannels,
    MyQuestions,
    QuestionsAdminProblem,
    QuestionStats,
    SetQuestionsChannel,
    is_questions_admin,
    parse_ask_command,
    parse_questions_admin,
)
from bot.questions.rules import (
    QuestionRejected,
    add_working_hours,
    check_question,
    choose_topics,
    in_working_hours,
    is_good_match,
    reads_as_question,
    topic_candidates,
)


@pytest.mark.parametrize(
    "text",
    [
        "Anyone know a good postgres book?",
        "anyone?",
        "Is the VPN down",
        "how do I rebase onto main",
        "What's wrong with CI",
        "how’s the migration going",
        "<@U123> how do I rebase",
        "@bob, which linter do we use",
        "Should we pin ruff",
        "Deploys are slow (why?)",
        "Can anyone review my PR?  ",
    ],
)
def test_reads_as_a_question(text: str) -> None:
    assert reads_as_question(text)


@pytest.mark.parametrize(
    "text",
    ["Thanks all, that fixed it", "Can't wait for Friday", "Deployed v2.3 to staging", "", "   ", "<@U1>", "Whoever"],
)
def test_does_not_read_as_a_question(text: str) -> None:
    assert not reads_as_question(text)


def test_a_question_needs_two_words_and_fits_a_post() -> None:
    assert check_question("  How do I rebase?\x00 ") == "How do I rebase?"
    for text in ("", "   ", "postgres", "\x00\x01"):
        with pytest.raises(QuestionRejected, match="For example"):
            check_question(text)
    with pytest.raises(QuestionRejected, match="3,001 characters; the limit is 3,000"):
        check_question("a " * 1500 + "b")


def test_ask_commands_read_like_commands_only_when_they_are() -> None:
    assert parse_ask_command("mine") == MyQuestions()
    assert parse_ask_command("close 12") == CloseQuestion(12)
    assert parse_ask_command("close #12") == CloseQuestion(12)
    assert parse_ask_command("close the gap between what and how?") == AskQuestion(
        "close the gap between what and how?"
    )
    assert parse_ask_command("mine is slow, why?") == AskQuestion("mine is slow, why?")
    for question in (  # a number after the keyword, then a sentence: a question, not a slip
        "delete 3 rows from a postgres table without locking it?",
        "close 2 tickets at once in jira?",
    ):
        assert parse_ask_command(question) == AskQuestion(question)
    assert isinstance(parse_ask_command("close 3 please"), AskHelp)
    assert isinstance(parse_ask_command("delete 3"), AskHelp)
    assert parse_ask_command("help") == AskHelp()
    assert isinstance(parse_ask_command("close 0"), AskHelp)
    assert isinstance(parse_ask_command("close " + "9" * 1000), AskHelp)
    assert isinstance(parse_ask_command(""), AskHelp)
    assert isinstance(parse_ask_command("kubernetes"), AskHelp)


def test_peerlearn_questions_and_stats() -> None:
    assert is_questions_admin("questions #help on") and is_questions_admin("STATS")
    assert not is_questions_admin("prompts #general off") and not is_questions_admin("")
    assert parse_questions_admin("questions") == ListQuestionsChannels()
    on = parse_questions_admin("questions <#C123|help> on")
    assert isinstance(on, SetQuestionsChannel) and on.channel.id == "C123" and on.on
    assert parse_questions_admin("stats") == QuestionStats("month")
    assert parse_questions_admin("stats quarter") == QuestionStats("quarter")
    for text in ("stats year", "questions help on", "questions <#C123|help> maybe", "stats week month"):
        assert isinstance(parse_questions_admin(text), QuestionsAdminProblem)


def test_topics_are_tags_first_then_words_the_workspace_knows() -> None:
    text = "How do I speed up #CI with Docker layer caches in node.js?"
    assert topic_candidates(text)[:3] == ["ci", "speed", "docker"]
    assert {"caches", "cache"} <= set(topic_candidates(text))  # the plural and its singular
    assert "node.js" in topic_candidates(text) and "how" not in topic_candidates(text)
    known = {"docker", "node.js", "cache", "kubernetes"}
    assert choose_topics(text, known) == ("ci", "docker", "cache", "node.js")
    assert choose_topics("Why is my query slow?", known) == ()
    assert len(choose_topics(" ".join(f"#t{i}" for i in range(9)), set())) == 5


@pytest.mark.parametrize(
    ("question", "tip", "good"),
    [
        ("How do I rebase?", "Use git rebase -i to squash commits", True),
        ("How do I see why a postgres query is slow?", "EXPLAIN ANALYZE shows why a postgres query is slow", True),
        ("How do I tune autovacuum for postgres tables?", "Use EXPLAIN ANALYZE on postgres", False),
        ("How do I tune autovacuum for postgres tables?", "Tuning autovacuum: lower the scale factor #postgres", True),
        ("Where are the deploy logs?", "Deploying: logs are in Grafana", True),
        ("Where are the deploy logs?", "Deploy with make deploy", False),
    ],
)
def test_a_tip_answers_when_it_shares_enough_of_the_question(question: str, tip: str, good: bool) -> None:
    assert is_good_match(question, tip) is good


def test_working_hours_follow_the_persons_zone() -> None:
    wednesday_8_utc = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert in_working_hours(wednesday_8_utc, "Europe/Berlin")  # 09:00 there
    assert not in_working_hours(wednesday_8_utc, "America/New_York")  # 03:00 there
    assert not in_working_hours(datetime(2026, 12, 5, 12, 0, tzinfo=UTC), "Europe/Berlin")  # Saturday
    assert in_working_hours(wednesday_8_utc.replace(hour=12), None)  # unknown zone: UTC
    assert in_working_hours(wednesday_8_utc.replace(hour=12), "Not/AZone")


def test_a_window_of_working_hours_skips_evenings_and_weekends() -> None:
    berlin = "Europe/Berlin"
    wednesday_10 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert add_working_hours(wednesday_10, 4, berlin) == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    friday_16 = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 2 h left on Friday, 2 on Monday
    assert add_working_hours(friday_16, 4, berlin) == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert add_working_hours(saturday, 4, berlin) == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    night = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)
    assert add_working_hours(night, 0.5, berlin) == datetime(2026, 12, 3, 8, 30, tzinfo=UTC)


def test_working_hours_keep_the_wall_clock_across_daylight_saving() -> None:
    # Berlin moves to summer time on Sunday 2027-03-28: Friday 17:00 CET + 4 h = Monday 12:00 CEST.
    friday_17 = datetime(2027, 3, 26, 16, 0, tzinfo=UTC)
    assert add_working_hours(friday_17, 4, "Europe/Berlin") == datetime(2027, 3, 29, 10, 0, tzinfo=UTC)


def test_button_values_are_read_strictly() -> None:
    assert read_question_id("12") == 12 and read_question_id(12) == 12
    for forged in ("", "0", "-1", "012", "1 OR 1=1", "2147483648", "9" * 50, None, "1.0", "１２"):
        assert read_question_id(forged) is None
    assert read_question_and_tip("3:7") == (3, 7)
    assert read_question_and_tip("3:2147483648") is None and read_question_and_tip("3") is None
    assert read_question_and_reply("3:1700000000.000100") == (3, "1700000000.000100")
    for forged in ("3:1700000000", "3:x.1", "3:1.1.1", ":1.1", "3:" + "1" * 30 + ".1"):
        assert read_question_and_reply(forged) is None


def test_the_escalation_window_is_a_setting() -> None:
    from runtime.settings import ConfigError, Settings
    from tests.slack_double import BOT_TOKEN
    from tests.slack_sender import SIGNING_SECRET

    base = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    assert Settings.from_env(base).question_window_hours == 4.0
    assert Settings.from_env({**base, "PEERLEARN_QUESTION_HOURS": "8"}).question_window_hours == 8.0
    for bad in ("0", "-1", "soon", "nan"):
        with pytest.raises(ConfigError):
            Settings.from_env({**base, "PEERLEARN_QUESTION_HOURS": bad})
