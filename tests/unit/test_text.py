"""bot/text.py: escaping user text for Slack, reading Slack markup back, tags and search words."""

from __future__ import annotations

import re

import pytest

from bot.text import (
    escape_mrkdwn,
    extract_tags,
    parse_tags,
    search_words,
    slack_to_plain,
    truncate,
    truncate_escaped,
)

ENTITY = re.compile(r"&(?:amp|lt|gt);")


def unescape(mrkdwn: str) -> str:
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# -- escape_mrkdwn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a & b", "a &amp; b"),
        ("1 < 2 > 0", "1 &lt; 2 &gt; 0"),
        ("<!channel>", "&lt;!channel&gt;"),
        (
            "<@U123> <#C1|general> <https://evil.example|click>",
            "&lt;@U123&gt; &lt;#C1|general&gt; &lt;https://evil.example|click&gt;",
        ),
        ("", ""),
    ],
)
def test_escape_mrkdwn_escapes_ampersand_and_angle_brackets(text: str, escaped: str) -> None:
    assert escape_mrkdwn(text) == escaped


def test_escape_mrkdwn_leaves_every_other_character_alone() -> None:
    text = "*bold* _italic_ ~strike~ `code` ```block``` :bulb: @here #tag \"quoted\" 'single' | ^ ! 🎉\n"
    assert escape_mrkdwn(text) == text


def test_escaped_channel_mention_has_no_angle_brackets_left() -> None:
    escaped = escape_mrkdwn("Everyone look: <!channel> <!here> <!everyone>")
    assert "<" not in escaped
    assert ">" not in escaped
    assert unescape(escaped) == "Everyone look: <!channel> <!here> <!everyone>"


def test_escape_mrkdwn_is_a_single_escape_not_idempotent() -> None:
    # Text that already looks escaped is user text too: a tip about HTML entities must show them.
    assert escape_mrkdwn("&amp;") == "&amp;amp;"
    assert escape_mrkdwn(escape_mrkdwn("<&>")) == "&amp;lt;&amp;amp;&amp;gt;"


# -- slack_to_plain ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("thanks <@U123|alice>!", "thanks @alice!"),
        ("thanks <@U123>!", "thanks @U123!"),
        ("see <#C42|general>", "see #general"),
        ("see <#C42>", "see #C42"),
        ("see <#C42|>", "see #C42"),
        ("<!channel> hello", "@channel hello"),
        ("<!here> hello", "@here hello"),
        ("<!everyone> hello", "@everyone hello"),
        ("<!here|here> hello", "@here hello"),
        ("ask <!subteam^S123|@backend>", "ask @backend"),
        ("ask <!subteam^S123>", "ask @group"),
        ("due <!date^1392734382^{date_short}|Feb 18, 2014>", "due Feb 18, 2014"),
        ("read <https://example.com/docs>", "read https://example.com/docs"),
        ("read <https://example.com/docs|the docs>", "read the docs (https://example.com/docs)"),
        ("read <https://example.com|https://example.com>", "read https://example.com"),
        ("mail <mailto:bob@example.com|bob@example.com>", "mail bob@example.com"),
        ("mail <mailto:bob@example.com>", "mail bob@example.com"),
        ("mail <mailto:bob@example.com|Bob>", "mail Bob"),
    ],
)
def test_slack_to_plain_turns_markup_into_readable_text(slack: str, plain: str) -> None:
    assert slack_to_plain(slack) == plain


def test_slack_to_plain_leaves_no_live_mention() -> None:
    plain = slack_to_plain("<!channel> <!here> <!everyone> <@U1> <!subteam^S1|@team> <#C1>")
    assert "<" not in plain
    assert ">" not in plain


def test_slack_to_plain_asks_the_resolver_for_unlabelled_user_mentions() -> None:
    names = {"U1": "alice", "U2": "bob"}
    plain = slack_to_plain("<@U1> pairs with <@U2> and <@U3>", names.get)
    assert plain == "@alice pairs with @bob and @U3"


def test_slack_to_plain_prefers_the_label_over_the_resolver() -> None:
    assert slack_to_plain("<@U1|alice>", lambda _user_id: "someone else") == "@alice"


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("a &lt; b &gt; c &amp; d", "a < b > c & d"),
        # The person typed the characters `<!channel>`; Slack sent them entity-encoded.
        ("do not type &lt;!channel&gt;", "do not type <!channel>"),
        # The person typed `&lt;` literally: it must come back as `&lt;`, not `<`.
        ("write &amp;lt; in HTML", "write &lt; in HTML"),
        ("Q&amp;A", "Q&A"),
        ("<https://example.com/?a=1&amp;b=2|A &amp; B>", "A & B (https://example.com/?a=1&b=2)"),
    ],
)
def test_slack_to_plain_unescapes_entities_once(slack: str, plain: str) -> None:
    assert slack_to_plain(slack) == plain


def test_slack_to_plain_strips_surrounding_whitespace_only() -> None:
    assert slack_to_plain("  line one\n  line two \n") == "line one\n  line two"


def test_plain_text_round_trips_through_escape() -> None:
    typed = "if a < b && c > d: print('<!channel>')"
    assert slack_to_plain(escape_mrkdwn(typed)) == typed


# -- extract_tags / parse_tags -------------------------------------------------------------------


def test_extract_tags_in_order_lowercased_without_duplicates() -> None:
    text = "Try #Python with #SQL; #python again, then #Testing and #sql"
    assert extract_tags(text) == ["python", "sql", "testing"]


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("(#git) and #docker.", ["git", "docker"]),
        ("#foo-bar_baz", ["foo-bar_baz"]),
        ("#first line\n#second", ["first", "second"]),
        ("C# and F# are languages", []),
        ("entity &#123; and &#x41;", []),
        ("word#inside", []),
        ("##double", []),
        ("# spaced", []),
        ("#-dash #_under", []),
        ("", []),
    ],
)
def test_extract_tags_only_takes_standalone_hash_words(text: str, tags: list[str]) -> None:
    assert extract_tags(text) == tags


def test_extract_tags_keeps_a_fifty_character_tag_whole() -> None:
    word = "a" * 50
    assert extract_tags(f"#{word} is long") == [word]


def test_extract_tags_never_returns_a_tag_longer_than_fifty() -> None:
    tags = extract_tags("#" + "b" * 80 + " #" + "c" * 51)
    assert tags
    assert all(len(tag) <= 50 for tag in tags)


@pytest.mark.parametrize(
    ("typed", "tags"),
    [
        ("#python, sql testing", ["python", "sql", "testing"]),
        ("a,b,c", ["a", "b", "c"]),
        ("Python PYTHON #python", ["python"]),
        ("##git,,  , #  ", ["git"]),
        ("  ", []),
        ("", []),
    ],
)
def test_parse_tags_reads_words_separated_by_spaces_or_commas(typed: str, tags: list[str]) -> None:
    assert parse_tags(typed) == tags


# -- search_words --------------------------------------------------------------------------------


def test_search_words_lowercases_and_drops_punctuation() -> None:
    assert search_words("Docker, build-CACHE!") == ["docker", "build", "cache"]


def test_search_words_neutralises_full_text_operators() -> None:
    query = 'docker "cache" OR layer* NEAR(build, 2) -slow col:value AND NOT x^y +z'
    words = search_words(query, limit=50)
    assert words == [
        "docker",
        "cache",
        "layer",
        "near",
        "build",
        "2",
        "slow",
        "col",
        "value",
        "x",
        "y",
        "z",
    ]
    assert not any(set(word) & set("\"*():-^+{}|&!<>'") for word in words)
    assert not {"OR", "AND", "NOT", "NEAR"} & set(words)


def test_search_words_drop_stop_words_and_repeats_unless_nothing_else_is_left() -> None:
    assert search_words("How to rebase, how to squash") == ["rebase", "squash"]
    assert search_words("to be or not to be") == ["to", "be", "or", "not"]


def test_search_words_keeps_letters_of_any_script() -> None:
    assert search_words("Café 東京 ÜBER") == ["café", "東京", "über"]


def test_search_words_stops_at_the_limit() -> None:
    text = " ".join(f"w{i}" for i in range(20))
    assert search_words(text) == [f"w{i}" for i in range(12)]
    assert search_words(text, limit=3) == ["w0", "w1", "w2"]


@pytest.mark.parametrize("text", ["", "   ", '"" * () - : ^ + !'])
def test_search_words_of_punctuation_only_is_empty(text: str) -> None:
    assert search_words(text) == []


# -- truncate / truncate_escaped -----------------------------------------------------------------


def test_truncate_leaves_text_within_the_limit_alone() -> None:
    assert truncate("hello", 5) == "hello"
    assert truncate("", 5) == ""


def test_truncate_cuts_and_adds_an_ellipsis() -> None:
    assert truncate("hello world", 8) == "hello w…"
    assert truncate("hello world", 7) == "hello…"  # no dangling space before the ellipsis
    assert truncate("hello world", 8, suffix="...") == "hello..."


@pytest.mark.parametrize("limit", [1, 2, 10, 149, 150, 3000])
def test_truncate_is_never_longer_than_the_limit(limit: int) -> None:
    assert len(truncate("x" * 4000, limit)) <= limit


def test_truncate_escaped_escapes_short_text_without_cutting() -> None:
    assert truncate_escaped("a & <b>", 100) == "a &amp; &lt;b&gt;"


def test_truncate_escaped_drops_an_entity_rather_than_split_it() -> None:
    assert truncate_escaped("ab&cd", 7) == "ab…"  # "ab&am" would be next: cut before the entity


@pytest.mark.parametrize("text", ["&" * 50, "<>" * 25, "a&b<c>d " * 10, "&amp;" * 10, "🎉&" * 25])
@pytest.mark.parametrize("limit", range(1, 60))
def test_truncate_escaped_never_splits_an_entity_or_passes_the_limit(text: str, limit: int) -> None:
    result = truncate_escaped(text, limit)
    assert len(result) <= limit
    assert "&" not in ENTITY.sub("", result)
    assert "<" not in result
    assert ">" not in result
    body = result.removesuffix("…")
    assert escape_mrkdwn(text).startswith(body)
