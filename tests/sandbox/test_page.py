"""The sandbox page in headless Chromium: the main flows a person goes through, by label and role.

Uses the machine's Chromium (Debian's `chromium` package) through Playwright's `executable_path`;
no browser is downloaded. Skipped, saying why, only when no Chromium can be found.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import Sandbox, offline_sandbox

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.lock")
expect = playwright_api.expect
Page = playwright_api.Page


def chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "chromium", "chromium-browser", "google-chrome"]
    return next((found for name in candidates if name and (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium here: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH"
        )
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_as(page: Page, sandbox: Sandbox, user: str, channel: str) -> None:
    page.goto(f"{sandbox.url}#user={user}&channel={channel}")
    expect(page.get_by_label("Acting as")).to_have_value(user)


def send(page: Page, label: str, text: str) -> None:
    composer = page.get_by_label(label)
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def app_post(page: Page, text: str) -> Any:
    return page.locator("#messages li.message").filter(has_text=text).filter(has=page.locator(".badge", has_text="APP"))


def run_jobs_until(page: Page, locator: Any, attempts: int = 12) -> None:
    for _ in range(attempts):
        button = page.get_by_role("button", name="Run scheduled jobs now")
        expect(button).to_be_enabled()
        button.click()
        expect(page.locator("#jobs-status")).not_to_have_text("Running scheduled jobs…")
        expect(button).to_be_enabled()
        try:
            expect(locator.first).to_be_visible(timeout=2000)
        except AssertionError:
            continue
        return
    raise AssertionError("the scheduled jobs never produced what was expected")


def test_share_a_tip_react_to_it_and_search_it(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0CHEN", "C0ENG")
    send(page, "Message #engineering", "/tip Profile before you optimise: guesses are usually wrong #performance")
    post = app_post(page, "Profile before you optimise")
    expect(post).to_be_visible()

    page.get_by_label("Acting as").select_option("U0BEN")  # Ben is not in #engineering: he sees a preview
    expect(page.get_by_label("Message #engineering")).to_be_hidden()
    page.get_by_role("button", name="Join channel").click()
    expect(page.get_by_label("Message #engineering")).to_be_visible()
    expect(page.locator("#messages li.message").filter(has_text="has joined the channel").last).to_be_visible()
    post.get_by_role("button", name="Add reaction").click()
    page.get_by_role("dialog", name="Add a reaction").get_by_role("button", name="thumbs up").click()
    reaction = post.get_by_role("button", name=re.compile(r"^\+1, 1 reaction, including yours"))
    expect(reaction).to_have_attribute("aria-pressed", "true")

    answers = page.locator("#messages li.ephemeral").filter(has_text="Tips matching")
    for _ in range(10):  # the vote lands once the app has processed the reaction event
        before = answers.count()
        send(page, "Message #engineering", "/tip search optimise")
        expect(answers).to_have_count(before + 1)  # the answer comes by response_url, after the ack
        answer = answers.last
        if "1 found it helpful" in answer.inner_text():
            break
    expect(answer).to_contain_text("Profile before you optimise")
    expect(answer).to_contain_text("Only visible to you")
    expect(answer).to_contain_text("1 found it helpful")


def test_reacting_by_keyboard_keeps_focus_where_it_was(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0DANA", "C0ENG")
    post = app_post(page, "Run EXPLAIN ANALYZE")
    add = post.get_by_role("button", name="Add reaction")
    add.focus()
    page.keyboard.press("Enter")
    picker = page.get_by_role("dialog", name="Add a reaction")
    expect(picker.get_by_role("button", name="light bulb")).to_be_focused()  # the first emoji
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(add).to_be_focused()

    page.keyboard.press("Enter")
    picker.get_by_role("button", name="rocket").focus()
    page.keyboard.press("Enter")
    rocket = post.get_by_role("button", name=re.compile(r"^rocket, 1 reaction, including yours"))
    expect(rocket).to_be_visible()  # the list was redrawn with Dana's reaction ...
    expect(add).to_be_focused()  # ... and focus is back on the control that opened the picker
    rocket.focus()
    page.keyboard.press("Enter")  # toggling it off keeps focus on the reactions row's place
    expect(post.get_by_role("button", name=re.compile(r"^rocket,"))).to_have_count(0)


def test_create_a_circle_and_answer_its_check_in(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0BEN", "C0GENERAL")
    send(page, "Message #general", "/circle create Design crit")
    dialog = page.get_by_role("dialog", name="New learning circle")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Name")).to_have_value("Design crit")
    dialog.get_by_label("What the circle is about").fill("Show work in progress, get kind and useful feedback")
    dialog.get_by_label("Time zone").fill("Not/AZone")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert").filter(has_text=re.compile("zone", re.IGNORECASE))).to_be_visible()
    dialog.get_by_label("Time zone").fill("Europe/London")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name="Peerlearn", exact=True).click()
    page.get_by_role("button", name="Messages", exact=True).click()
    check_in = (
        page.locator("#messages li.message").filter(has_text="Design crit").get_by_role("button", name="Check in")
    )
    run_jobs_until(page, check_in)
    check_in.last.click()
    answers = page.get_by_role("dialog")
    expect(answers).to_be_visible()
    answers.get_by_label("What did you learn or try since the last check-in?").fill("Critique works best with a goal")
    answers.get_by_role("button", name="Share").click()
    expect(answers).to_be_hidden()

    page.get_by_role("button", name="# general").click()
    header = app_post(page, "Design crit check-in")
    expect(header.get_by_role("button", name=re.compile(r"1 repl"))).to_be_visible()
    header.get_by_role("button", name=re.compile(r"1 repl")).click()
    expect(page.get_by_role("complementary", name="Thread")).to_contain_text("Critique works best with a goal")


def test_run_the_scheduled_jobs_and_see_the_digest(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0DANA", "C0GENERAL")
    clock_before = page.locator("#clock").get_attribute("datetime")
    before = app_post(page, "This week in peer learning").count()
    newer_digest = page.locator("#messages li.message").filter(has_text="This week in peer learning").nth(before)
    run_jobs_until(page, newer_digest, attempts=14)
    # Tips carry real dates while the sandbox clock runs ahead, so a later week may be a quiet one.
    expect(newer_digest).to_contain_text(re.compile("Most helpful tips|A quiet stretch"))
    expect(newer_digest.get_by_role("heading", name="This week in peer learning")).to_be_visible()
    expect(page.locator("#jobs-status")).to_contain_text(re.compile("scheduled post|circle round"))
    assert page.locator("#clock").get_attribute("datetime") != clock_before


def test_the_app_home_shows_your_tips_and_its_button_shares_one(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0ANA", "C0ENG")
    page.get_by_role("button", name="Peerlearn", exact=True).click()
    home = page.get_by_role("region", name="App Home")
    expect(home.get_by_role("heading", name="Your tips")).to_be_visible()
    expect(home).to_contain_text("Run EXPLAIN ANALYZE")  # Ana's seeded tip
    expect(home).to_contain_text("Postgres study group")  # her circle

    home.get_by_role("button", name="Share a tip").click()
    form = page.get_by_role("dialog", name="Share a tip")
    form.get_by_label("What did you learn?").fill("Name the test after the behaviour it checks")
    form.get_by_label("Tags").fill("testing")
    form.get_by_label("Post it in").select_option("C0ENG")
    form.get_by_role("button", name="Share").click()
    expect(form).to_be_hidden()
    page.get_by_role("button", name="# engineering").click()
    expect(app_post(page, "Name the test after the behaviour")).to_be_visible()


def test_what_people_type_is_shown_as_text_never_as_markup(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0ELI", "C0GENERAL")
    send(page, "Message #general", "<!channel> <img src=x onerror=alert(1)> & *bold* `code`")
    message = page.locator("#messages li.message").filter(has_text="onerror").last
    expect(message).to_contain_text("<!channel> <img src=x onerror=alert(1)> & bold code")
    expect(message.locator("img")).to_have_count(0)
    expect(message.locator(".mention")).to_have_count(0)
    expect(message.locator(".text strong")).to_have_text("bold")


def test_block_kit_that_slack_would_refuse_is_shown(page: Page, tmp_path: Path) -> None:
    offline = offline_sandbox(tmp_path, bot_token="xoxb-page-test")
    too_long = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    answer = offline.web_api.handle(
        "chat.postMessage", {"channel": "C0GENERAL", "text": "x", "blocks": too_long}, "xoxb-page-test"
    )
    assert answer["error"] == "invalid_blocks"
    try:
        page.goto(offline.url + "#user=U0ANA&channel=C0GENERAL")
        expect(page.locator("#problem-count")).to_have_text("1")
        page.get_by_text("Slack would refuse").click()
        expect(page.locator("#problem-list")).to_contain_text("chat.postMessage: invalid_blocks")
        expect(page.locator("#problem-list")).to_contain_text("blocks[0].text: text is 151 characters, more than 150")
        expect(page.get_by_role("status").filter(has_text="app not running")).to_be_visible()
    finally:
        offline.close()


def test_open_forms_close_on_reload_as_in_slack(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0DANA", "C0GENERAL")
    send(page, "Message #general", "/circle create Book club")
    dialog = page.get_by_role("dialog", name="New learning circle")
    expect(dialog).to_be_visible()
    page.reload()
    expect(page.get_by_label("Acting as")).to_have_value("U0DANA")
    expect(page.locator("#messages li.message").first).to_be_visible()
    expect(dialog).to_be_hidden()
    assert sandbox.state("U0DANA")["modal"] is None


def test_a_late_answer_for_another_conversation_is_never_drawn(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0ANA", "C0ENG")
    send(page, "Message #engineering", "/tip search postgres")
    expect(page.locator("#messages li.ephemeral").filter(has_text="Tips matching").first).to_be_visible()
    # From now on, answers about #engineering arrive 1.5 s late, and even after the page stopped waiting.
    page.evaluate(
        """() => {
          const real = window.fetch;
          window.fetch = (url, options = {}) => {
            const { signal, ...rest } = options;
            const late = String(url).includes("channel=C0ENG");
            const wait = (answer) => new Promise((ok) => setTimeout(() => ok(answer), 1500));
            return real(url, rest).then((answer) => (late ? wait(answer) : answer));
          };
          refresh();
        }"""
    )
    page.locator("#open-app-dm").click()  # the app's DM, while #engineering's answer is still on its way
    expect(page.locator("#conversation-title")).to_have_text("Peerlearn")
    page.wait_for_timeout(2500)
    expect(page.locator("#messages li").filter(has_text="Tips matching")).to_have_count(0)
    expect(page.locator("#messages li").filter(has_text="EXPLAIN ANALYZE")).to_have_count(0)


def open_home_tab(page: Page, sandbox: Sandbox, user: str) -> Any:
    """Open the Home tab and wait until the view the app publishes for this opening is drawn (a button
    of the view drawn before it would be a click on a view Slack has replaced)."""
    open_as(page, sandbox, user, "C0GENERAL")
    before = (sandbox.state(user).get("home") or {}).get("id")
    page.get_by_role("button", name="Peerlearn", exact=True).click()
    deadline = time.monotonic() + 10
    while (now := (sandbox.state(user).get("home") or {}).get("id")) in (before, None):
        assert time.monotonic() < deadline, "the app never published the Home"
        time.sleep(0.1)
    home = page.get_by_role("region", name="App Home")
    expect(home).to_have_attribute("data-view-id", now)
    return home


def test_a_first_visit_welcomes_then_the_home_is_yours(page: Page, sandbox: Sandbox) -> None:
    home = open_home_tab(page, sandbox, "U0CHEN")
    expect(home.get_by_role("heading", name=re.compile("Welcome to Peerlearn"))).to_be_visible()
    for part in ("Tips", "Learning circles", "Prompts and digests", "Pairing"):
        expect(home.get_by_text(part, exact=True).first).to_be_visible()
    expect(home.get_by_role("heading", name="For admins")).to_have_count(0)  # Chen is no admin

    home.get_by_role("button", name="Search tips").click()
    search = page.get_by_role("dialog", name="Search tips")
    search.get_by_label("Words to look for").fill("index")
    search.get_by_role("button", name="Search").click()
    expect(search).to_contain_text("Run EXPLAIN ANALYZE before adding an index")  # the results, in the form
    search.get_by_role("button", name="Close").click()

    home.get_by_role("button", name="Browse circles").click()
    circles = page.get_by_role("dialog", name="Learning circles")
    expect(circles).to_contain_text("Postgres study group")
    expect(circles).to_contain_text("You're a member")  # the seed put Chen in it
    circles.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Messages", exact=True).click()
    page.get_by_role("button", name="Home", exact=True).click()  # a later visit: no welcome
    expect(home.get_by_role("heading", name="Your tips")).to_be_visible()
    expect(home.get_by_role("heading", name=re.compile("Welcome to Peerlearn"))).to_have_count(0)


def test_the_admin_home_pauses_resumes_and_runs_now(page: Page, sandbox: Sandbox) -> None:
    home = open_home_tab(page, sandbox, "U0ANA")
    expect(home.get_by_role("heading", name="For admins")).to_be_visible()
    expect(home.get_by_role("heading", name="The last 8 weeks")).to_be_visible()
    expect(home).to_contain_text("Tips shared")
    expect(home).to_contain_text("Learning prompts in #general")

    pauses = home.get_by_role("button", name="Pause")
    count = pauses.count()
    pauses.first.click()  # the first schedule: the one that posts next
    expect(home).to_contain_text("Paused the")
    expect(home.get_by_role("button", name="Pause")).to_have_count(count - 1)
    home.get_by_role("button", name="Resume").click()
    expect(home).to_contain_text("Resumed the")
    expect(home.get_by_role("button", name="Pause")).to_have_count(count)

    # The circle's row, by its name: other tests of the session may have added schedules or circles.
    row = "//div[contains(@class, 'actions')][preceding-sibling::div[1][contains(., 'Postgres study group')]]"
    home.locator(f"xpath={row}").get_by_role("button", name="Run now").click()
    expect(home).to_contain_text("Opened a check-in for “Postgres study group”")
    expect(home.get_by_role("button", name="Check in")).to_be_visible()  # Ana is a member: answer right here


def test_an_error_is_shown_only_while_it_is_about_what_is_on_screen(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0CHEN", "C0DESIGN")  # Chen is not in #design: a preview
    banner = page.locator("#jobs-status")
    page.locator("#messages li.message").last.get_by_role("button", name="Add reaction").click()
    page.get_by_role("dialog", name="Add a reaction").get_by_role("button", name="eyes").click()
    expect(banner).to_contain_text("Join #design first")
    page.get_by_label("Acting as").select_option("U0BEN")  # a member of #design
    expect(page.get_by_label("Message #design")).to_be_visible()
    expect(banner).to_be_hidden()

    page.get_by_label("Acting as").select_option("U0CHEN")
    page.locator("#messages li.message").last.get_by_role("button", name="Add reaction").click()
    page.get_by_role("dialog", name="Add a reaction").get_by_role("button", name="eyes").click()
    expect(banner).to_contain_text("Join #design first")
    page.get_by_role("button", name="# engineering").click()  # a channel Chen is in
    expect(page.get_by_label("Message #engineering")).to_be_visible()
    expect(banner).to_be_hidden()


def test_the_app_dms_read_only_note_stays_in_the_app_dm(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0DANA", "C0GENERAL")
    note = page.get_by_text("Sending messages to this app has been turned off")
    page.locator("#open-app-dm").click()
    expect(note).to_be_visible()  # manifest.yml: messages_tab_read_only_enabled
    page.get_by_role("button", name="# general").click()
    expect(page.get_by_label("Message #general")).to_be_visible()
    expect(note).to_be_hidden()


def test_a_url_button_to_a_message_of_the_workspace_opens_it_here(page: Page, tmp_path: Path) -> None:
    offline = offline_sandbox(tmp_path, bot_token="xoxb-page-test")
    api = offline.web_api
    try:
        asked = {"channel": "C0ENG", "text": "Who can pair on flaky tests?"}
        target = api.handle("chat.postMessage", asked, "xoxb-page-test")
        link = api.handle("chat.getPermalink", {"channel": "C0ENG", "message_ts": target["ts"]}, "xoxb-page-test")

        def button(text: str, url: str) -> dict[str, Any]:
            return {"type": "button", "action_id": text, "text": {"type": "plain_text", "text": text}, "url": url}

        buttons = [button("I can help", link["permalink"]), button("Docs", "https://example.com/docs")]
        blocks = [{"type": "actions", "elements": buttons}]
        api.handle("chat.postMessage", {"channel": "C0GENERAL", "text": "asks", "blocks": blocks}, "xoxb-page-test")
        page.goto(offline.url + "#user=U0ANA&channel=C0GENERAL")
        docs = page.get_by_role("link", name="Docs")
        expect(docs).to_have_attribute("href", "https://example.com/docs")  # other sites: a new tab, as before
        expect(docs).to_have_attribute("target", "_blank")
        help_button = page.get_by_role("link", name="I can help")
        expect(help_button).not_to_have_attribute("target", "_blank")
        help_button.click()
        expect(page.locator("#conversation-title")).to_have_text("# engineering")
        expect(page.locator(f'#messages li.highlight[data-ts="{target["ts"]}"]')).to_contain_text("flaky tests")
    finally:
        offline.close()


def test_dates_are_shown_in_the_acting_persons_time_zone(browser: Any, tmp_path: Path) -> None:
    offline = offline_sandbox(tmp_path, bot_token="xoxb-page-test")
    moment = 1922860800  # 2030-12-07 08:00 UTC: 09:00 in Berlin, 05:00 in São Paulo
    text = f"every Monday, next <!date^{moment}^{{date_short_pretty}} at {{time}}|2030-12-07 09:00 Europe/Berlin>"
    offline.web_api.handle("chat.postMessage", {"channel": "C0GENERAL", "text": text}, "xoxb-page-test")
    context = browser.new_context(locale="en-US", timezone_id="Asia/Tokyo")  # the computer's zone: neither
    page = context.new_page()
    try:
        page.goto(offline.url + "#user=U0ELI&channel=C0GENERAL")  # Eli: Europe/Berlin
        message = page.locator("#messages li.message").filter(has_text="every Monday")
        expect(message.locator(".text time")).to_have_text("Dec 7, 2030 at 9:00 AM")
        page.get_by_label("Acting as").select_option("U0ANA")  # Ana: America/Sao_Paulo
        expect(message.locator(".text time")).to_have_text("Dec 7, 2030 at 5:00 AM")
    finally:
        context.close()
        offline.close()


def test_a_long_unbroken_word_wraps_in_messages_and_forms(page: Page, tmp_path: Path) -> None:
    offline = offline_sandbox(tmp_path, bot_token="xoxb-page-test")
    word = "x" * 2900
    section = {"type": "section", "text": {"type": "mrkdwn", "text": word}}
    offline.web_api.handle("chat.postMessage", {"channel": "C0GENERAL", "text": word}, "xoxb-page-test")
    try:
        page.goto(offline.url + "#user=U0ANA&channel=C0GENERAL")
        expect(page.locator("#messages li.message").filter(has_text="xxxx")).to_be_visible()
        assert page.eval_on_selector("#messages", "list => list.scrollWidth <= list.clientWidth")
        form = {"type": "modal", "title": {"type": "plain_text", "text": "Share a tip"}, "blocks": [section]}
        trigger = offline.web_api.triggers.issue("U0ANA", "C0GENERAL")
        opened = offline.web_api.handle("views.open", {"trigger_id": trigger, "view": form}, "xoxb-page-test")
        assert opened["ok"], opened
        dialog = page.get_by_role("dialog", name="Share a tip")
        expect(dialog).to_contain_text("xxxx")
        assert page.eval_on_selector("#modal-form", "form => form.scrollWidth <= form.clientWidth")
    finally:
        offline.close()


def test_the_profile_forms_checkboxes_are_drawn_and_sent(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "U0DANA", "C0GENERAL")
    send(page, "Message #general", "/mentor profile")
    form = page.get_by_role("dialog", name="Mentoring profile")
    group = form.get_by_role("group", name="I'm open to")
    expect(group.get_by_role("checkbox")).to_have_count(3)
    expect(form).not_to_contain_text("the sandbox does not draw this (input checkboxes")
    form.get_by_label("Skills I can teach").fill("hiring")
    form.get_by_label("Skills I want to learn").fill("rust")
    expect(group.get_by_role("checkbox", name="Being mentored")).to_be_checked()  # a new profile is open to all
    group.get_by_role("checkbox", name="Being mentored").uncheck()
    expect(form).not_to_contain_text("the sandbox does not draw this")  # the people picker too
    form.get_by_label("Rather not be paired with").select_option(["U0ELI"])
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()

    send(page, "Message #general", "/mentor profile")  # reopened, it shows what was saved
    group = page.get_by_role("dialog", name="Mentoring profile").get_by_role("group", name="I'm open to")
    expect(group.get_by_role("checkbox", name="Mentoring others")).to_be_checked()
    expect(group.get_by_role("checkbox", name="Being mentored")).not_to_be_checked()
    expect(group.get_by_role("checkbox", name="Cross-team coffee")).to_be_checked()
    reopened = page.get_by_role("dialog", name="Mentoring profile")
    expect(reopened.get_by_label("Rather not be paired with")).to_have_values(["U0ELI"])
    reopened.get_by_role("button", name="Cancel").click()
