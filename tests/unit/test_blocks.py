"""bot/blocks: every message and view stays within Block Kit's limits and shows user text inert."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.kit import (
    MAX_FALLBACK_TEXT,
    context,
    fallback_text,
    header,
    link,
    mrkdwn_section,
    plain,
    slack_date,
    user_text_excerpt,
    user_text_sections,
)
from bot.text import escape_mrkdwn, extract_tags
from bot.tips.blocks import (
    COMPOSE_CALLBACK,
    compose_modal,
    compose_origin,
    help_blocks,
    my_tips,
    plural,
    search_results,
    suggestion_blocks,
    tip_line,
    tip_post,
    too_short_blocks,
    top_tips,
)
from sandbox.block_kit import block_kit_problems, view_problems
from storage.models import Tip

ENTITY = re.compile(r"&(?:amp|lt|gt);")
# Markup the app writes itself around user text: author mentions, dates and the permalink.
APP_MARKUP = re.compile(r"<@U[A-Z0-9]+>|<!date\^\d+\^\{date_short\}\|\d{4}-\d\d-\d\d>|<https://[^<>| ]+\|view post>")

ADVERSARIAL_TEXTS = {
    "ampersands": "&" * 3000,
    "less-than": "<" * 3000,
    "greater-than": ">" * 3000,
    "channel-pings": "<!channel> " * 272,
    "mention-and-link-markup": "<@U999> <!here> <!subteam^S1> <https://evil.example|safe link> " * 40,
    "typed-entities": "&amp;" * 600,
    "one-long-word": "a" * 3000,
    "ampersand-and-space": "& " * 1500,
    "letter-and-ampersand": "x&" * 1500,
    "html-lines": '<div class="a">&nbsp;</div>\n' * 100,
    "brackets-per-line": ("<>" * 400 + "\n") * 3,
    "newlines": "line\n" * 599 + "end",
    "blank-lines-inside": "a" + "\n" * 2998 + "b",
    "emoji": "🎉" * 3000,
    "zwj-emoji": "👩‍💻" * 1000,
    "words": "word " * 599 + "end",
}
# Each cut may fall as early as half a section (at a space), so heavily escaped text with
# sparse spaces needs more than five 1500-character sections.
SPARSE_SPACES = {
    "ampersand-runs-with-sparse-spaces": ("&" * 300 + " ") * 9 + "&" * 291,
    "less-than-runs-with-sparse-spaces": ("<" * 375 + " ") * 7,
}


def make_tip(
    tip_id: int = 42,
    number: int = 3,  # the workspace's own count, shown to people; the id stays internal
    text: str = "Use git bisect to find the commit that broke a test #git",
    tags: str = "git",
    helpful_count: int = 3,
    permalink: str | None = "https://acme.slack.com/archives/C1/p1700000000000100",
) -> Tip:
    return Tip(
        id=tip_id,
        number=number,
        team_id="T1",
        author_id="U123ABC",
        text=text,
        tags=tags,
        source="command",
        helpful_count=helpful_count,
        created_at=datetime(2024, 5, 17, 9, 30, tzinfo=UTC),
        permalink=permalink,
    )


def text_objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every Block Kit text object inside blocks, elements or views."""
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            yield value
        for item in value.values():
            yield from text_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from text_objects(item)


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [obj["text"] for obj in text_objects(blocks) if obj["type"] == "mrkdwn"]


def assert_inert(mrkdwn: str) -> None:
    """Apart from the app's own mentions, dates and links, no markup and no bare `&`."""
    rest = ENTITY.sub("", APP_MARKUP.sub("", mrkdwn))
    assert "<" not in rest, mrkdwn[:200]
    assert ">" not in rest, mrkdwn[:200]
    assert "&" not in rest, mrkdwn[:200]


def assert_message_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert block_kit_problems(blocks, 50) == []
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert 1 <= len(block["text"]["text"]) <= 3000
        elif block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 1 <= len(block["text"]["text"]) <= 150
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(1 <= len(element["text"]) <= 3000 for element in block["elements"])


def unescape(mrkdwn: str) -> str:
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def reassembles(chunks: list[str], text: str) -> bool:
    """The chunks, in order, are the escaped text with only whitespace left out between them."""
    escaped, position = escape_mrkdwn(text), 0
    for chunk in chunks:
        if not escaped.startswith(chunk, position):
            return False
        position += len(chunk)
        while position < len(escaped) and escaped[position].isspace():
            position += 1
    return position == len(escaped)


# -- kit primitives ------------------------------------------------------------------------------


def test_header_is_cut_to_150_characters() -> None:
    block = header("h" * 200)
    assert block["text"]["type"] == "plain_text"
    assert len(block["text"]["text"]) == 150
    assert block["text"]["text"].endswith("…")
    assert header("Your tips")["text"]["text"] == "Your tips"


def test_context_drops_empty_parts_and_keeps_at_most_ten() -> None:
    block = context("", *[f"part {i}" for i in range(12)], "")
    assert [element["text"] for element in block["elements"]] == [f"part {i}" for i in range(10)]


def test_context_cuts_long_parts_to_3000() -> None:
    block = context("c" * 5000)
    assert len(block["elements"][0]["text"]) == 3000


def test_mrkdwn_section_cuts_to_3000() -> None:
    assert len(mrkdwn_section("m" * 4000)["text"]["text"]) == 3000
    assert mrkdwn_section("*ok*")["text"] == {"type": "mrkdwn", "text": "*ok*", "verbatim": True}


def test_plain_cuts_to_its_limit() -> None:
    assert plain("Share a tip with everyone in the channel", 24)["text"] == "Share a tip with everyo…"


@pytest.mark.parametrize(
    "url", [None, "", "https://x.example/a b", "https://x.example/<!channel>", "https://x.example/|evil"]
)
def test_link_refuses_urls_that_would_break_out_of_the_markup(url: str | None) -> None:
    assert link(url, "view post") == ""


def test_link_wraps_a_clean_url() -> None:
    assert link("https://acme.slack.com/archives/C1/p1", "view post") == (
        "<https://acme.slack.com/archives/C1/p1|view post>"
    )


def test_slack_date_has_a_fallback_for_old_clients() -> None:
    assert slack_date(datetime.fromtimestamp(1700000000.9, UTC)) == "<!date^1700000000^{date_short}|2023-11-14>"


def test_fallback_text_is_one_escaped_line_within_the_limit() -> None:
    assert fallback_text("line one\nline <two> & three") == "line one line &lt;two&gt; &amp; three"
    long = fallback_text("&\n" * 1500)
    assert len(long) <= MAX_FALLBACK_TEXT
    assert "\n" not in long
    assert_inert(long)


def test_user_text_excerpt_is_escaped_and_cut() -> None:
    excerpt = user_text_excerpt("<!channel> " * 100, 400)
    assert len(excerpt) <= 400
    assert excerpt.startswith("&lt;!channel&gt; ")
    assert_inert(excerpt)


# -- user_text_sections --------------------------------------------------------------------------


def test_user_text_sections_of_short_text_is_one_escaped_section() -> None:
    assert user_text_sections("Use <b> & </b>") == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Use &lt;b&gt; &amp; &lt;/b&gt;", "verbatim": True}}
    ]


def test_user_text_sections_of_nothing_is_nothing() -> None:
    assert user_text_sections("") == []


def test_user_text_sections_prefers_a_line_break_for_the_cut() -> None:
    sections = user_text_sections("a" * 2000 + "\n" + "b" * 2000)
    assert [section["text"]["text"] for section in sections] == ["a" * 2000, "b" * 2000]


def test_user_text_sections_cuts_hard_when_the_only_break_is_early() -> None:
    text = "a" * 100 + " " + "b" * 3500
    chunks = [section["text"]["text"] for section in user_text_sections(text)]
    assert [len(chunk) for chunk in chunks] == [3000, 601]
    assert reassembles(chunks, text)


@pytest.mark.parametrize(
    "text", [*ADVERSARIAL_TEXTS.values(), *SPARSE_SPACES.values()], ids=[*ADVERSARIAL_TEXTS, *SPARSE_SPACES]
)
def test_user_text_sections_stay_within_limits_and_never_split_an_entity(text: str) -> None:
    sections = user_text_sections(text)
    assert sections
    assert block_kit_problems(sections, 50) == []
    for section in sections:
        chunk = section["text"]["text"]
        assert 1 <= len(chunk) <= 3000
        assert_inert(chunk)  # also: every `&` starts a whole entity inside the same section


@pytest.mark.parametrize("text", ADVERSARIAL_TEXTS.values(), ids=ADVERSARIAL_TEXTS.keys())
def test_user_text_sections_keep_all_of_the_text(text: str) -> None:
    chunks = [section["text"]["text"] for section in user_text_sections(text)]
    assert reassembles(chunks, text)
    assert "".join(unescape("".join(chunks)).split()) == "".join(text.split())


@pytest.mark.parametrize("text", SPARSE_SPACES.values(), ids=SPARSE_SPACES.keys())
def test_user_text_sections_keep_all_of_heavily_escaped_text_with_sparse_spaces(text: str) -> None:
    assert len(text) <= 3000
    chunks = [section["text"]["text"] for section in user_text_sections(text)]
    assert reassembles(chunks, text)


# -- messages about tips -------------------------------------------------------------------------


def test_tip_post_shows_author_text_tags_and_how_to_vote() -> None:
    fallback, blocks = tip_post(make_tip(text="Use <b> tags & #git", tags="git sql"), "bulb")
    assert fallback == "Tip from a colleague: Use &lt;b&gt; tags &amp; #git"
    assert blocks == [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": ":bulb: *Tip #3* from <@U123ABC>", "verbatim": True}],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "Use &lt;b&gt; tags &amp; #git", "verbatim": True}},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "React to this message if it helped you · `#git` `#sql`", "verbatim": True}
            ],
        },
    ]


def test_tip_post_without_tags_has_no_dangling_separator() -> None:
    _, blocks = tip_post(make_tip(tags=""), "bulb")
    assert blocks[-1]["elements"][0]["text"] == "React to this message if it helped you"


@pytest.mark.parametrize(
    "text", [*ADVERSARIAL_TEXTS.values(), *SPARSE_SPACES.values()], ids=[*ADVERSARIAL_TEXTS, *SPARSE_SPACES]
)
def test_tip_post_of_adversarial_text_is_valid_and_inert(text: str) -> None:
    tags = " ".join(extract_tags(text)) or " ".join(f"tag{i}" for i in range(600))
    fallback, blocks = tip_post(make_tip(text=text, tags=tags), "bulb")
    assert_message_within_limits(blocks)
    assert 1 <= len(fallback) <= 3000
    assert_inert(fallback)
    for mrkdwn in mrkdwn_texts(blocks):
        assert_inert(mrkdwn)


def test_tip_post_with_hundreds_of_tags_keeps_the_footer_within_limits() -> None:
    text = " ".join(f"#t{i}" for i in range(700))[:3000]
    _, blocks = tip_post(make_tip(text=text, tags=" ".join(extract_tags(text))), "bulb")
    assert_message_within_limits(blocks)
    assert blocks[-1]["elements"][0]["text"].startswith("React to this message if it helped you · `#t0`")


def test_tip_line_is_an_excerpt_and_its_facts() -> None:
    section, facts = tip_line(make_tip(text="short & sweet", tags="git sql", helpful_count=1))
    assert section == {"type": "section", "text": {"type": "mrkdwn", "text": "short &amp; sweet", "verbatim": True}}
    assert facts["elements"][0]["text"] == (
        "#3 · <@U123ABC> · <!date^1715938200^{date_short}|2024-05-17> · 1 found it helpful"
        " · `#git` `#sql` · <https://acme.slack.com/archives/C1/p1700000000000100|view post>"
    )


def test_tip_line_without_votes_tags_or_permalink() -> None:
    _, facts = tip_line(make_tip(tags="", helpful_count=0, permalink=None))
    assert facts["elements"][0]["text"].endswith("· no helpful votes yet")


@pytest.mark.parametrize("text", ADVERSARIAL_TEXTS.values(), ids=ADVERSARIAL_TEXTS.keys())
def test_tip_line_of_adversarial_text_is_a_short_inert_excerpt(text: str) -> None:
    blocks = tip_line(make_tip(text=text, permalink="https://acme.slack.com/archives/C1/p1?x=<!channel>"))
    assert_message_within_limits(blocks)
    assert len(blocks[0]["text"]["text"]) <= 400
    for mrkdwn in mrkdwn_texts(blocks):
        assert_inert(mrkdwn)


@pytest.mark.parametrize("count", [0, 1, 24, 25, 60])
def test_tip_lists_never_pass_fifty_blocks(count: int) -> None:
    tips = [make_tip(tip_id=i, text="<!channel> " * 272, tags="a b c") for i in range(count)]
    for blocks in (
        search_results("docker", tips),
        top_tips("week", tips),
        top_tips("month", tips),
        top_tips("all", tips),
        my_tips(tips, total=count + 100),
    ):
        assert_message_within_limits(blocks)
        for mrkdwn in mrkdwn_texts(blocks):
            assert_inert(mrkdwn)


def test_a_full_tip_list_shows_as_many_tips_as_fit() -> None:
    tips = [make_tip(tip_id=i) for i in range(60)]
    assert len(search_results("git", tips)) == 1 + 2 * 24
    assert len(my_tips(tips, total=60)) == 2 + 2 * 24


@pytest.mark.parametrize(
    "query",
    ["q" * 200, "<!channel> " * 20, "&" * 160, "🎉" * 151, "word " * 40, "a\nb\n" * 50, "x"],
)
def test_search_results_header_and_empty_message_stay_within_limits(query: str) -> None:
    blocks = search_results(query, [])
    assert_message_within_limits(blocks)
    assert len(blocks) == 2
    heading = blocks[0]["text"]["text"]
    assert heading.startswith("Tips matching “")
    assert heading == f"Tips matching “{query}”" or heading.endswith("…")
    # Plain text, never parsed: the query shows as typed, `*`, `<!channel>` and all.
    assert blocks[1]["text"]["type"] == "plain_text"
    assert blocks[1]["text"]["text"].startswith("No tips match “" + query[:5])


def test_search_results_header_shows_the_query_as_typed() -> None:
    # plain_text is never parsed as markup, so the header shows the query verbatim.
    assert search_results("a < b & c", [])[0]["text"] == {
        "type": "plain_text",
        "text": "Tips matching “a < b & c”",
        "emoji": True,
    }


@pytest.mark.parametrize(
    ("window", "title", "phrase"),
    [
        ("week", "Most helpful tips — this week", "No tip shared this week has a helpful vote yet."),
        ("month", "Most helpful tips — the last 30 days", "No tip shared in the last 30 days has"),
        ("all", "Most helpful tips — all time", "No tip shared so far has a helpful vote yet."),
    ],
)
def test_top_tips_names_its_window(window: str, title: str, phrase: str) -> None:
    blocks = top_tips(window, [])
    assert blocks[0]["text"]["text"] == title
    assert blocks[1]["text"]["text"].startswith(phrase)


def test_my_tips_says_how_many_are_shown_of_how_many() -> None:
    tips = [make_tip(tip_id=i, helpful_count=2) for i in range(3)]
    note = my_tips(tips, total=30)[1]["elements"][0]["text"]
    assert note == "You have shared 30 tips. Showing the newest 3 (6 helpful votes among them)."
    assert my_tips(tips[:1], total=1)[1]["elements"][0]["text"] == "You have shared 1 tip."


def test_my_tips_without_tips_has_no_empty_context() -> None:
    blocks = my_tips([], total=0)
    assert_message_within_limits(blocks)
    assert [block["type"] for block in blocks] == ["header", "section"]
    assert "haven't shared a tip yet" in blocks[1]["text"]["text"]


@pytest.mark.parametrize(
    ("blocks", "shown"),
    [(my_tips([], total=0), "`/tip &lt;something you learned this week&gt;`")],
    ids=["mine"],
)
def test_empty_lists_show_the_usage_placeholder_with_its_angle_brackets(
    blocks: list[dict[str, Any]], shown: str
) -> None:
    empty = blocks[-1]["text"]["text"]
    assert shown in empty
    assert "<" not in empty


@pytest.mark.parametrize("query", ["*bold*", "_it_", "~gone~", "`code`", "a < b & c"])
def test_an_empty_search_shows_the_query_and_the_placeholder_as_typed(query: str) -> None:
    # issue #9 §7: plain text is never read as formatting, so `*docker*` is not shown as bold docker.
    empty = search_results(query, [])[-1]["text"]
    assert empty["type"] == "plain_text"
    assert f"“{query}”" in empty["text"] and "/tip <what you learned>" in empty["text"]


def test_help_blocks_lead_with_the_problem() -> None:
    assert len(help_blocks()) == 1
    blocks = help_blocks("Give the tip's number")
    assert blocks[0]["text"]["text"] == ":warning: Give the tip's number"
    assert "/tip search docker cache" in blocks[1]["text"]["text"]


def test_help_blocks_with_a_huge_problem_stay_within_limits() -> None:
    assert_message_within_limits(help_blocks("p" * 5000))


# -- the composer modal --------------------------------------------------------------------------


@pytest.mark.parametrize("channel_id", [None, "C0123ABCD"])
def test_compose_modal_is_a_valid_view(channel_id: str | None) -> None:
    view = compose_modal(channel_id)
    assert view_problems(view) == []
    assert view["callback_id"] == COMPOSE_CALLBACK
    assert view["title"]["text"] == "Share a tip"
    for key in ("title", "submit", "close"):
        assert 1 <= len(view[key]["text"]) <= 24
    assert len(view["private_metadata"]) <= 3000
    assert json.loads(view["private_metadata"]) == {"origin_channel_id": channel_id}
    assert len(view["blocks"]) <= 100
    assert [block["block_id"] for block in view["blocks"]] == ["text", "tags", "channel"]
    assert view["blocks"][0]["element"]["max_length"] == 3000


def test_compose_modal_preselects_the_channel_it_was_opened_in() -> None:
    select = compose_modal("C0123ABCD")["blocks"][2]["element"]
    assert select["initial_conversation"] == "C0123ABCD"
    assert "initial_conversation" not in compose_modal(None)["blocks"][2]["element"]


# -- issue #9 §6/§7: verbatim user text, one usage line, asking before sharing, the prefilled form --


def test_every_mrkdwn_text_the_kit_makes_is_verbatim() -> None:
    # Slack would otherwise auto-link URLs and turn "@here" or "#channel" that people typed into live ones.
    blocks = [mrkdwn_section("x"), *user_text_sections("@here see https://x.test"), context("a", "b")]
    objects = [obj for obj in text_objects(blocks) if obj["type"] == "mrkdwn"]
    assert len(objects) == 4 and all(obj["verbatim"] is True for obj in objects)


def test_a_problem_with_its_usage_line_shows_only_that_line() -> None:
    blocks = help_blocks("Give the tip's number", "`/tip delete 42` — delete your tip #42")
    assert [b["text"]["text"] for b in blocks] == [
        ":warning: Give the tip's number",
        "Usage: `/tip delete 42` — delete your tip #42",
    ]


@pytest.mark.parametrize(("count", "said"), [(0, "0 tips"), (1, "1 tip"), (2, "2 tips")])
def test_plural_agrees_with_its_count(count: int, said: str) -> None:
    assert plural(count, "tip") == said


def test_asking_before_sharing_stays_within_limits_and_drops_a_button_that_cannot_hold_the_text() -> None:
    fits = suggestion_blocks("s" * 2000, "/tip search " + "s" * 2000)
    assert_message_within_limits(fits)
    assert len(fits) == 2
    assert fits[1]["elements"][0]["value"] == "s" * 2000
    assert len(too_short_blocks("t" * 2001)) == 1  # no button that would cut the text short
    assert_inert(suggestion_blocks("<!channel> x", "/tip search <!channel> `x`")[0]["text"]["text"])


def test_the_prefilled_composer_keeps_every_word_and_stays_valid() -> None:
    text = "word " * 1500
    view = compose_modal("C1", text.strip())
    assert view_problems(view) == []
    field = next(b for b in view["blocks"] if b.get("block_id") == "text")["element"]
    overflow = " ".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert (field["initial_value"] + " " + overflow).split() == text.split()


@pytest.mark.parametrize("metadata", ["", "not json", "[1]", '{"origin_channel_id": 5}', json.dumps({"x": 1})])
def test_the_composer_origin_is_read_strictly(metadata: str) -> None:
    assert compose_origin({"private_metadata": metadata}) is None
    assert compose_origin({"private_metadata": json.dumps({"origin_channel_id": "C1"})}) == "C1"
