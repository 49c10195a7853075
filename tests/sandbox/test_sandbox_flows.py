"""The sandbox end to end without a browser: the page's actions -> signed requests -> the real app ->
the Web API emulation -> what the page would show. One sandbox for the module; each test uses its
own people and channels, or only adds to what others made."""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.forms import form_values
from tests.sandbox.conftest import Sandbox, start_sandbox, stop_sandbox

ENG, GENERAL, LEADS, DESIGN = "C0ENG", "C0GENERAL", "G0LEADS", "C0DESIGN"
ANA, BEN, CHEN, DANA, ELI = "U0ANA", "U0BEN", "U0CHEN", "U0DANA", "U0ELI"


def blocks_text(message: dict[str, Any]) -> str:
    return message["text"] + json.dumps(message["blocks"], ensure_ascii=False)


def test_first_start_says_so_loudly_and_seeds_through_the_app(sandbox: Sandbox) -> None:
    first = sandbox.output[0]
    assert first.startswith("*** SANDBOX MODE") and sandbox.url in first and "SLACK_BOT_TOKEN" in first
    engineering = sandbox.state(ANA, ENG)["messages"]
    assert any(m["is_app"] and "EXPLAIN ANALYZE" in blocks_text(m) for m in engineering)
    captured = next(m for m in engineering if m["text"].startswith("TIL:"))
    assert [(r["name"], r["count"]) for r in captured["reactions"]] == [("bulb", 1)]

    sandbox.act("send", user=ANA, channel=GENERAL, text="/peerlearn schedules")
    listed = sandbox.wait_for_message(
        ANA,
        GENERAL,
        lambda m: m["ephemeral"] and "prompt" in blocks_text(m).lower() and "digest" in blocks_text(m).lower(),
    )
    assert "Friday" in blocks_text(listed) and "Monday" in blocks_text(listed)

    sandbox.act("send", user=CHEN, channel=ENG, text="/circle list")
    circles = sandbox.wait_for_message(
        CHEN, ENG, lambda m: m["ephemeral"] and "Postgres study group* —" in blocks_text(m)
    )
    assert "Postgres study group* — 3 members" in blocks_text(circles)  # Ana, and Chen and Eli who joined


def test_share_react_and_search_a_tip(sandbox: Sandbox) -> None:
    assert sandbox.act("send", user=ELI, channel=ENG, text="/tip Use pytest -x to stop at the first failure #testing")[
        "ok"
    ]
    post = sandbox.wait_for_message(ELI, ENG, lambda m: m["is_app"] and "pytest -x" in blocks_text(m))
    assert sandbox.act("react", user=DANA, channel=ENG, ts=post["ts"], name="+1") == {"ok": True, "added": True}
    assert sandbox.act("react", user=CHEN, channel=ENG, ts=post["ts"], name="tada")["added"]

    for _ in range(20):  # votes land once the reaction events are processed; answers come by response_url
        last = sandbox.state(BEN, GENERAL)["messages"][-1]["ts"]
        sandbox.act("send", user=BEN, channel=GENERAL, text="/tip search pytest")
        answer = sandbox.wait_for_message(
            BEN, GENERAL, lambda m, after=last: m["ts"] > after and m["ephemeral"] and "Tips matching" in blocks_text(m)
        )
        if "pytest -x" in blocks_text(answer) and "2 found it helpful" in blocks_text(answer):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the search never showed the tip with two helpful votes")
    ephemeral = sandbox.state(ELI, GENERAL)["messages"]
    assert not any("Tips matching" in blocks_text(m) for m in ephemeral), "Ben's search is only for Ben"


def test_user_text_is_escaped_so_nobody_is_pinged(sandbox: Sandbox) -> None:
    sandbox.act("send", user=BEN, channel=GENERAL, text="/tip <!channel> read this & <b>that</b>")
    post = sandbox.wait_for_message(BEN, GENERAL, lambda m: m["is_app"] and "read this" in blocks_text(m))
    text = blocks_text(post)
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text and "&amp;" in text


def test_a_tip_where_the_app_cannot_post_is_saved_and_explained(sandbox: Sandbox) -> None:
    sandbox.act("send", user=DANA, channel=LEADS, text="/tip Keep a decision log #leadership")
    note = sandbox.wait_for_message(DANA, LEADS, lambda m: m["ephemeral"] and "/invite" in blocks_text(m))
    assert "saved" in blocks_text(note)
    assert not any(m["is_app"] and not m["ephemeral"] for m in sandbox.state(DANA, LEADS)["messages"])


def test_the_app_added_to_a_channel_introduces_itself_before_the_first_tip(sandbox: Sandbox) -> None:
    # The seed: Ben adds the app to #design, then shares a tip there.
    assert next(c for c in sandbox.state(BEN, DESIGN)["channels"] if c["id"] == DESIGN)["app_is_member"]
    posts = [blocks_text(m) for m in sandbox.state(BEN, DESIGN)["messages"] if m["is_app"]]
    introduction = next(i for i, text in enumerate(posts) if "Hi, I'm Peerlearn" in text)
    tip = next(i for i, text in enumerate(posts) if "Name layers" in text)
    assert introduction < tip, posts


def test_an_unknown_command_gets_slackbots_answer(sandbox: Sandbox) -> None:
    sandbox.act("send", user=CHEN, channel=ENG, text="/nope now")
    note = sandbox.wait_for_message(CHEN, ENG, lambda m: m["ephemeral"] and m["user"] == "USLACKBOT")
    assert "not a valid command" in note["text"]


def test_saving_a_message_with_the_shortcut(sandbox: Sandbox) -> None:
    sandbox.act("send", user=DANA, channel=ENG, text="Tip from the retro: timebox spikes to one day.")
    message = sandbox.wait_for_message(DANA, ENG, lambda m: m["text"].startswith("Tip from the retro"))
    sandbox.act("shortcut", user=ELI, channel=ENG, ts=message["ts"], callback_id="save_as_tip")
    sandbox.wait_for_message(ELI, ENG, lambda m: m["ephemeral"] and "as tip #" in blocks_text(m))
    saved = sandbox.wait_for_message(ELI, ENG, lambda m: m["ts"] == message["ts"] and m["reactions"])
    assert saved["reactions"][0]["name"] == "bulb"


def test_circle_form_errors_then_a_check_in_answered_and_the_week_run(sandbox: Sandbox) -> None:
    sandbox.act("send", user=DANA, channel=ENG, text="/circle create Testing guild")
    modal = _wait_modal(sandbox, DANA)
    refused = sandbox.act("submit", user=DANA, view_id=modal["id"], values=form_values(modal["view"], {"zone": "Mars"}))
    assert not refused["ok"] and "zone" in refused["errors"]
    accepted = sandbox.act("submit", user=DANA, view_id=modal["id"], values=form_values(modal["view"]))
    assert accepted == {"ok": True, "errors": {}}
    assert sandbox.state(DANA, ENG)["modal"] is None
    sandbox.wait_for_message(DANA, ENG, lambda m: m["ephemeral"] and "Testing guild” created" in m["text"])
    sandbox.wait_for_message(DANA, ENG, lambda m: m["is_app"] and "Join" in blocks_text(m))  # the announcement
    sandbox.act("send", user=ELI, channel=ENG, text="/circle join Testing guild")
    sandbox.wait_for_message(ELI, ENG, lambda m: m["ephemeral"] and "You joined “Testing guild”" in blocks_text(m))

    # Walk the clock until the guild's round opens and Eli is asked to check in.
    invitation = None
    for _ in range(12):
        assert sandbox.act("jobs")["ok"]
        dm = sandbox.state(ELI, "D0ELI")["messages"]
        invitation = next(
            (m for m in dm if "Testing guild" in blocks_text(m) and "circle_checkin" in blocks_text(m)), None
        )
        if invitation:
            break
    assert invitation is not None, "the round never opened"
    button = next(b for b in invitation["blocks"] if b["type"] == "actions")
    sandbox.act("click", user=ELI, channel="D0ELI", ts=invitation["ts"], block_id=button["block_id"],
                action_id="circle_checkin")  # fmt: skip
    answers = _wait_modal(sandbox, ELI)
    filled = form_values(answers["view"], {"answer_0": "Learned hypothesis for property tests"})
    assert sandbox.act("submit", user=ELI, view_id=answers["id"], values=filled)["ok"]
    header = sandbox.wait_for_message(
        ELI, ENG, lambda m: m["is_app"] and "Testing guild" in blocks_text(m) and m["reply_count"] >= 1
    )
    thread = sandbox.state(ELI, ENG, header["ts"])["thread"]
    assert any("hypothesis" in blocks_text(m) for m in thread)

    # A whole week: the digest and the prompt reach #general exactly once per period.
    for _ in range(8):
        sandbox.act("jobs")
    general = sandbox.state(ANA, GENERAL)["messages"]
    digests = [m for m in general if m["is_app"] and "This week in peer learning" in blocks_text(m)]
    prompts = [m for m in general if m["is_app"] and "Learning prompt" in blocks_text(m)]
    assert digests and prompts
    days = [m["blocks"][1]["elements"][0]["text"] for m in digests]
    assert len(days) == len(set(days)), "one digest per week"


def test_restart_keeps_the_workspace_and_does_not_seed_twice(tmp_path: Path) -> None:
    first = start_sandbox(tmp_path)
    seeded = len(first.state(ANA, ENG)["messages"])
    first.act("send", user=ANA, channel=ENG, text="Still here after a restart?")
    assert stop_sandbox(first) == 0
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", first.app_port()), timeout=1):
        pass  # the app stopped with the sandbox

    second = start_sandbox(tmp_path)
    try:
        messages = second.state(ANA, ENG)["messages"]
        assert len(messages) == seeded + 1 and messages[-1]["text"] == "Still here after a restart?"
        assert "first start" not in "".join(second.output)
        second.act("send", user=ANA, channel=ENG, text="/tip Restarts keep data #ops")  # new credentials, same app
        second.wait_for_message(ANA, ENG, lambda m: m["is_app"] and "Restarts keep data" in blocks_text(m))
    finally:
        assert stop_sandbox(second) == 0


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_app_does_not_outlive_a_killed_sandbox(tmp_path: Path) -> None:
    killed = start_sandbox(tmp_path)
    port = killed.app_port()
    killed.process.kill()
    killed.process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.2)
    pytest.fail("the app kept running after the sandbox was killed")


def _wait_modal(sandbox: Sandbox, user: str) -> dict[str, Any]:
    for _ in range(100):
        modal = sandbox.state(user)["modal"]
        if modal:
            return modal  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"no modal opened for {user}")


def test_people_join_a_channel_before_they_post_in_it(sandbox: Sandbox) -> None:
    assert DESIGN not in {c["id"] for c in sandbox.state(ELI)["channels"] if c["is_member"]}
    preview = sandbox.state(ELI, DESIGN)["messages"]  # a public channel can be read before joining ...
    assert any("Name layers" in blocks_text(m) for m in preview)
    refused = sandbox.act("send", user=ELI, channel=DESIGN, text="hello design")  # ... not written in
    assert not refused["ok"] and "Join #design first" in refused["error"]
    assert not sandbox.act("send", user=ELI, channel=DESIGN, text="/tip search figma")["ok"]
    assert not sandbox.act("react", user=ELI, channel=DESIGN, ts=preview[-1]["ts"], name="eyes")["ok"]
    assert sandbox.act("join", user=ELI, channel=DESIGN) == {"ok": True}
    assert sandbox.act("send", user=ELI, channel=DESIGN, text="hello design")["ok"]
    messages = sandbox.state(ELI, DESIGN)["messages"]
    assert [m["text"] for m in messages[-2:]] == ["<@U0ELI> has joined the channel", "hello design"]
    assert sandbox.act("join", user=ELI, channel=LEADS) == {"ok": False, "error": "You are not in that conversation."}


def test_message_times_follow_the_sandbox_clock(sandbox: Sandbox) -> None:
    for _ in range(12):  # move the clock: run jobs until something was due ahead of real time
        sandbox.act("jobs")
        if sandbox.state(ANA)["clock"]["offset_seconds"] > 3600:
            break
    offset = sandbox.state(ANA)["clock"]["offset_seconds"]
    assert offset > 3600
    sandbox.act("send", user=ANA, channel=GENERAL, text="What time is it?")
    said = sandbox.wait_for_message(ANA, GENERAL, lambda m: m["text"] == "What time is it?")
    assert abs(float(said["ts"]) - (time.time() + offset)) < 120


def test_a_dropped_browser_connection_is_not_a_traceback(sandbox: Sandbox) -> None:
    host, port = sandbox.url.removeprefix("http://").strip("/").split(":")
    for request in (
        b"POST /sandbox/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 400\r\n\r\n{"u',
        f"GET /sandbox/state?user={ANA}&since={sandbox.state(ANA)['version']} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    ):
        connection = socket.create_connection((host, int(port)))
        connection.sendall(request)
        time.sleep(0.2)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, as a tab closing
        connection.close()
    sandbox.act("send", user=ANA, channel=GENERAL, text="anyone still polling?")  # wakes the dropped long-poll
    time.sleep(0.5)
    logged = "".join(sandbox.output)
    assert "Traceback" not in logged and "Exception occurred" not in logged, logged[-3000:]
