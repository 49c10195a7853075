"""The one Slack emulation (sandbox/web_api.py), through the tests' double over real HTTP with
slack_sdk's own client: scopes per method and conversation type, required arguments, conversation
types and membership, Block Kit by slack_sdk's models, and the faults tests inject."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.block_kit import _own_block_problems, block_kit_problems
from sandbox.forms import form_values
from tests.slack_double import BOT_TOKEN, SlackDouble


def client_for(slack: SlackDouble, timeout: int = 10) -> WebClient:
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=timeout)
    client.retry_handlers = []  # see each answer as Slack gives it
    return client


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as refused:
        call()
    return dict(refused.value.response.data)


@pytest.fixture
def narrow() -> Iterator[SlackDouble]:
    """A double whose token has only chat:write, as an app whose manifest asked for nothing else."""
    double = SlackDouble(scopes=frozenset({"chat:write"})).start()
    double.add_user("U1", "alice")
    double.add_channel("C1", "general", members=("U1",))
    yield double
    double.stop()


# -- scopes -------------------------------------------------------------------------------------


def test_scopes_are_the_manifests_per_method(narrow: SlackDouble) -> None:
    client = client_for(narrow)
    assert client.chat_postMessage(channel="C1", text="hello")["ok"]
    for call, needed in [
        (lambda: client.users_info(user="U1"), "users:read"),
        (lambda: client.reactions_add(channel="C1", timestamp="1.0", name="bulb"), "reactions:write"),
        (lambda: client.reactions_get(channel="C1", timestamp="1.0"), "reactions:read"),
        (lambda: client.conversations_join(channel="C1"), "channels:join"),
    ]:
        refused = error_of(call)
        assert (refused["error"], refused["needed"], refused["provided"]) == ("missing_scope", needed, "chat:write")
    assert [problem[1] for problem in narrow.take_problems()] == ["missing_scope"] * 4


def test_scopes_follow_the_conversation_type(slack: SlackDouble) -> None:
    client = client_for(slack)
    private = slack.add_channel("CP2", "leads", members=("U1",), is_private=True)
    app_dm = slack.add_dm("U1")
    group = slack.add_group_dm("GMP1", ("U1", "U2"), bot=True)
    assert client.conversations_info(channel="C1")["channel"]["is_channel"]  # channels:read
    assert client.conversations_info(channel=private.id)["channel"]["is_group"]  # groups:read
    assert client.conversations_history(channel=private.id)["ok"]  # groups:history
    assert client.chat_postMessage(channel=app_dm, text="a DM")["ok"]  # chat:write is all a DM post needs
    assert client.chat_postMessage(channel=group, text="a group DM")["ok"]
    assert client.conversations_history(channel=group)["ok"]  # mpim:history: pairing finds its own post again
    assert client.conversations_history(channel=app_dm)["ok"]  # im:history: a resumed round finds its check-in
    for call, needed in [
        (lambda: client.conversations_info(channel=app_dm), "im:read"),
        (lambda: client.conversations_info(channel=group), "mpim:read"),
        (lambda: client.conversations_list(types="public_channel,im"), "im:read"),
    ]:
        refused = error_of(call)
        assert (refused["error"], refused["needed"]) == ("missing_scope", needed)
        assert "channels:history" in refused["provided"].split(",")
    assert len(slack.take_problems()) == 3


# -- arguments ----------------------------------------------------------------------------------


@pytest.fixture
def raw(slack: SlackDouble) -> Any:
    """POST a Web API call as JSON and get Slack's answer, ok or not."""

    def call(method: str, args: dict[str, Any], token: str = BOT_TOKEN) -> dict[str, Any]:
        request = urllib.request.Request(
            slack.api_url + method,
            data=json.dumps(args).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    return call


@pytest.mark.parametrize(
    ("method", "args", "error", "detail"),
    [
        ("chat.postMessage", {"text": "hi"}, "invalid_arguments", "[ERROR] missing required field: channel"),
        ("chat.postMessage", {"channel": "C1"}, "no_text", "chat.postMessage needs one of"),
        ("users.info", {}, "invalid_arguments", "[ERROR] missing required field: user"),
        ("views.open", {"view": {}}, "invalid_arguments", "missing required field: interactivity_pointer or"),
        ("reactions.add", {"channel": "C1", "name": "bulb"}, "invalid_arguments", "field: timestamp"),
    ],
)
def test_required_arguments_are_the_references(
    slack: SlackDouble, raw: Any, method: str, args: dict[str, Any], error: str, detail: str
) -> None:
    assert raw(method, args)["error"] == error
    [(where, recorded, details)] = slack.take_problems()
    assert (where, recorded) == (method, error) and detail in details[0]


def test_tokens(slack: SlackDouble, raw: Any) -> None:
    assert raw("auth.test", {})["user_id"] == "UBOT"
    assert raw("auth.test", {}, token="xoxb-someone-else")["error"] == "invalid_auth"
    assert raw("admin.users.list", {})["error"] == "unknown_method"


# -- conversation types and membership --------------------------------------------------------------


def test_conversation_types_and_membership(slack: SlackDouble, raw: Any) -> None:
    between_people = slack.add_dm("U1", "U2")
    group = slack.add_group_dm("GMP2", ("U1", "U2"))
    post = lambda channel: raw("chat.postMessage", {"channel": channel, "text": "hi"})  # noqa: E731
    assert post("CNOBOT")["error"] == "not_in_channel"  # public: visible, but the bot must join
    assert raw("conversations.info", {"channel": "CNOBOT"})["channel"]["is_member"] is False
    assert post("CPRIV")["error"] == "channel_not_found"  # private: invisible to non-members
    assert raw("conversations.info", {"channel": "CPRIV"})["error"] == "channel_not_found"
    assert post(between_people)["error"] == "channel_not_found"  # a DM between two people
    assert post(group)["error"] == "channel_not_found"  # a group DM without the app
    assert post("CARCH")["error"] == "is_archived"
    assert raw("conversations.join", {"channel": "CPRIV"})["error"] == "method_not_supported_for_channel_type"
    assert raw("conversations.join", {"channel": "CARCH"})["error"] == "is_archived"
    assert raw("conversations.join", {"channel": "CNOBOT"})["ok"] and post("CNOBOT")["ok"]
    assert post("U2")["channel"] == "D2"  # a user id: the app's DM with them
    assert post("UBOT")["error"] == "cannot_dm_bot"
    listed = raw("conversations.list", {"types": "public_channel,private_channel"})["channels"]
    assert {c["id"] for c in listed} == {"C1", "CNOBOT", "CARCH"}  # not CPRIV: the app is not in it
    assert slack.problems == []


def test_messages_the_bot_did_not_write_cannot_be_changed(slack: SlackDouble, raw: Any) -> None:
    ts = slack.add_message("C1", "U1", "mine")
    assert raw("chat.update", {"channel": "C1", "ts": ts, "text": "edited"})["error"] == "cant_update_message"
    assert raw("chat.delete", {"channel": "C1", "ts": ts})["error"] == "cant_delete_message"
    assert raw("chat.delete", {"channel": "C1", "ts": "1.000001"})["error"] == "message_not_found"


# -- Block Kit ------------------------------------------------------------------------------------


def test_block_kit_is_judged_by_slack_sdks_models_too(slack: SlackDouble, raw: Any) -> None:
    option = {"text": {"type": "plain_text", "text": "One"}, "value": "one"}
    overflow = [{"type": "actions", "elements": [{"type": "overflow", "action_id": "more", "options": [option] * 6}]}]
    assert _own_block_problems(overflow, 50) == []  # our checks let it through ...
    assert any("(slack_sdk)" in problem for problem in block_kit_problems(overflow, 50))  # ... slack_sdk does not
    answer = raw("chat.postMessage", {"channel": "C1", "text": "x", "blocks": overflow})
    assert answer["error"] == "invalid_blocks" and slack.channels["C1"].messages == []
    home = raw("views.publish", {"user_id": "U1", "view": {"type": "home", "blocks": []}})
    assert home["error"] == "invalid_arguments"
    assert "between 1 and 100 blocks" in " ".join(home["response_metadata"]["messages"])
    assert [problem[1] for problem in slack.take_problems()] == ["invalid_blocks", "invalid_arguments"]


def test_response_urls_refuse_what_slack_refuses(slack: SlackDouble) -> None:
    too_long = {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}
    request = urllib.request.Request(
        slack.response_url(), data=json.dumps(too_long).encode(), headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400 and json.loads(refused.value.read())["error"] == "invalid_blocks"
    assert slack.responses == []
    assert "blocks[0].text: text is 151 characters, more than 150" in slack.block_errors
    slack.take_problems()


# -- faults ---------------------------------------------------------------------------------------


def test_a_dropped_connection_after_the_post_leaves_the_post(slack: SlackDouble) -> None:
    slack.drop_next("chat.postMessage")
    with pytest.raises(Exception) as failed:  # noqa: PT011 - urllib's error for a connection cut short
        client_for(slack).chat_postMessage(channel="C1", text="did it post?")
    assert not isinstance(failed.value, SlackApiError)
    assert [m["text"] for m in slack.channels["C1"].messages] == ["did it post?"]


def test_a_timeout_after_the_post_leaves_the_post(slack: SlackDouble) -> None:
    slack.time_out_next("chat.postMessage", 2.0)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client_for(slack, timeout=1).chat_postMessage(channel="C1", text="late answer")
    assert time.monotonic() - started < 1.9
    assert [m["text"] for m in slack.channels["C1"].messages] == ["late answer"]


def test_rate_limits_server_errors_and_error_codes(slack: SlackDouble) -> None:
    client = client_for(slack)
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "7"
    slack.fail_next("chat.postMessage", status=503)
    assert error_of(lambda: client.chat_postMessage(channel="C1", text="x"))["error"] == "internal_error"
    slack.fail_next("*", error="invalid_auth")  # any method
    assert error_of(lambda: client.users_info(user="U1"))["error"] == "invalid_auth"
    slack.fail_next("conversations.history", error="ratelimited", times=2)
    assert error_of(lambda: client.conversations_history(channel="C1"))["error"] == "ratelimited"
    assert error_of(lambda: client.conversations_history(channel="C1"))["error"] == "ratelimited"
    assert client.conversations_history(channel="C1")["ok"]
    assert slack.channels["C1"].messages == []  # a refused call has no effect
    slack.revoke_token()
    assert error_of(lambda: client.auth_test())["error"] == "token_revoked"


def test_slow_calls_take_effect_after_the_wait(slack: SlackDouble) -> None:
    slack.slow_next("chat.postMessage", 0.5)
    started = time.monotonic()
    assert client_for(slack).chat_postMessage(channel="C1", text="slow")["ok"]
    assert time.monotonic() - started >= 0.5


def test_the_workspace_reads_and_writes_through(slack: SlackDouble, raw: Any) -> None:
    slack.users["U2"]["tz"] = "Asia/Tokyo"
    assert raw("users.info", {"user": "U2"})["user"]["tz"] == "Asia/Tokyo"
    slack.channels["C1"].is_archived = True
    assert raw("chat.postMessage", {"channel": "C1", "text": "x"})["error"] == "is_archived"
    parent = slack.add_message("CNOBOT", "U1", "question", reactions=[{"name": "+1", "users": ["U2"]}])
    slack.add_message("CNOBOT", "U2", "answer", thread_ts=parent, subtype="thread_broadcast")
    shown = slack.channels["CNOBOT"].messages
    assert shown[0]["reactions"] == [{"name": "+1", "users": ["U2"], "count": 1}]
    assert (shown[1]["thread_ts"], shown[1]["subtype"]) == (parent, "thread_broadcast")


def test_what_the_app_answers_a_request_with_is_held_to_the_same_rules(slack: SlackDouble) -> None:
    slack.check_ack(b"Thanks!")  # plain text: nothing to check
    slack.check_ack(json.dumps({"text": "ok", "blocks": [{"type": "section"}]}).encode())
    title = {"type": "plain_text", "text": "x" * 25}
    slack.check_ack(json.dumps({"response_action": "update", "view": {"type": "modal", "title": title}}).encode())
    assert [(where, error) for where, error, _ in slack.take_problems()] == [
        ("ack", "invalid_blocks"),
        ("ack response_action=update", "invalid_arguments"),
    ]


def test_thread_replies_carry_metadata_only_when_asked(slack: SlackDouble, raw: Any) -> None:
    parent = raw("chat.postMessage", {"channel": "C1", "text": "round"})["ts"]
    metadata = {"event_type": "checkin", "event_payload": {"round_id": 1}}
    raw("chat.postMessage", {"channel": "C1", "text": "answer", "thread_ts": parent, "metadata": metadata})
    plain = raw("conversations.replies", {"channel": "C1", "ts": parent})["messages"]
    full = raw("conversations.replies", {"channel": "C1", "ts": parent, "include_all_metadata": True})["messages"]
    assert "metadata" not in plain[1] and full[1]["metadata"] == metadata
    slack.users["U1"].update(is_owner=True, team_id="T0OTHER")  # dict methods write through too
    assert raw("users.info", {"user": "U1"})["user"]["is_owner"] is True


# -- files --------------------------------------------------------------------------------------


def _send_bytes(url: str, content: bytes) -> int:
    request = urllib.request.Request(url, data=content, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_a_file_is_shared_only_once_its_bytes_arrived(slack: SlackDouble, raw: Any) -> None:
    dm = slack.add_dm("U1")
    ticket = raw("files.getUploadURLExternal", {"filename": "a.csv", "length": 3})
    files = [{"id": ticket["file_id"], "title": "A"}]
    assert raw("files.completeUploadExternal", {"files": files, "channel_id": dm})["error"] == "file_not_found"

    assert _send_bytes(ticket["upload_url"], b"a,b") == 200
    assert raw("files.completeUploadExternal", {"files": files, "channel_id": dm})["files"] == files
    assert raw("files.completeUploadExternal", {"files": files, "channel_id": dm})["error"] == "file_not_found"
    assert [(f.name, f.content) for f in slack.shared_files(dm)] == [("a.csv", b"a,b")]
    with pytest.raises(urllib.error.HTTPError):  # the ticket was used up
        _send_bytes(ticket["upload_url"], b"a,b")


def test_file_uploads_are_held_to_slacks_rules(slack: SlackDouble, raw: Any) -> None:
    assert raw("files.getUploadURLExternal", {"filename": "a.csv", "length": 0})["error"] == "missing_argument"
    assert raw("files.getUploadURLExternal", {"filename": "a.csv"})["error"] == "invalid_arguments"
    ticket = raw("files.getUploadURLExternal", {"filename": "a.csv", "length": 5})
    _send_bytes(ticket["upload_url"], b"abc")  # not the length declared: Slack would not take it as is
    files = [{"id": ticket["file_id"]}]
    assert raw("files.completeUploadExternal", {"files": files, "channel_id": "CNOBOT"})["error"] == "not_in_channel"
    assert raw("files.completeUploadExternal", {"files": files, "channel_id": "CPRIV"})["error"] == "channel_not_found"
    problems = slack.take_problems()
    assert [(where, error) for where, error, _ in problems] == [
        ("files.getUploadURLExternal", "invalid_arguments"),
        ("upload", "invalid_arguments"),
    ]


def test_file_uploads_need_files_write(narrow: SlackDouble) -> None:
    refused = error_of(lambda: client_for(narrow).files_getUploadURLExternal(filename="a.csv", length=3))
    assert (refused["error"], refused["needed"]) == ("missing_scope", "files:write")
    narrow.take_problems()


def test_checkboxes_are_submitted_as_slack_sends_them() -> None:
    options = [{"text": {"type": "plain_text", "text": t}, "value": v} for v, t in (("a", "A"), ("b", "B"))]
    element = {"type": "checkboxes", "action_id": "open_to", "options": options, "initial_options": options[:1]}
    view = {"blocks": [{"type": "input", "block_id": "open_to", "element": element}]}
    shown = form_values(view)["open_to"]["open_to"]
    assert shown == {"type": "checkboxes", "selected_options": options[:1]}  # as the form opened
    assert form_values(view, {"open_to": "b"})["open_to"]["open_to"]["selected_options"] == options[1:]
    assert form_values(view, {"open_to": ""})["open_to"]["open_to"]["selected_options"] == []
