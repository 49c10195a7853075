"""Slack's file upload flow through the gateway, against the double: upload URL, bytes, completion.
What the double keeps is what Slack would show: the file shared once in the DM, its bytes as sent."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from bot.slack.acting import acting_for
from bot.slack.client import build_client
from bot.slack.gateway import SlackGateway
from bot.slack.ratelimits import RateLimited, deferring_rate_limits
from bot.slack.results import Failed, Uploaded
from tests.slack_double import BOT_TOKEN, SlackDouble

CONTENT = "id,text\n1,héllo\n".encode()


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    slack = SlackDouble().start()
    slack.add_user("U1", "alice")
    yield slack
    slack.stop()
    assert not slack.problems, slack.problems


@pytest.fixture
def dm(double: SlackDouble) -> str:
    return double.add_dm("U1")


@pytest.fixture
def gateway(double: SlackDouble) -> SlackGateway:
    return SlackGateway(build_client(BOT_TOKEN, double.api_url, max_retries=2), upload_delays=(0.01, 0.01, 0.01))


def upload(gateway: SlackGateway, dm: str, named: list[str] | None = None) -> Uploaded | Failed:
    return gateway.upload_file(
        dm, io.BytesIO(CONTENT), len(CONTENT), filename="tips.csv", title="Tips", comment="Your export",
        ticketed=None if named is None else named.append,
    )  # fmt: skip


def test_a_file_is_uploaded_and_shared_in_the_dm_with_its_comment(
    double: SlackDouble, gateway: SlackGateway, dm: str
) -> None:
    named: list[str] = []
    uploaded = upload(gateway, dm, named)

    assert uploaded == Uploaded(named[0], dm)
    (shared,) = double.shared_files(dm)
    assert (shared.id, shared.name, shared.title, shared.content) == (named[0], "tips.csv", "Tips", CONTENT)
    (message,) = double.channels[dm].messages
    assert message["text"] == "Your export" and message["files"][0]["id"] == shared.id
    assert gateway.find_upload(dm, shared.id) == uploaded
    assert gateway.find_upload(dm, "FNOTHERE") is None


def test_the_shared_file_downloads_from_its_url(double: SlackDouble, gateway: SlackGateway, dm: str) -> None:
    import urllib.request

    upload(gateway, dm)
    (message,) = double.channels[dm].messages
    with urllib.request.urlopen(message["files"][0]["url_private_download"]) as answer:
        assert answer.read() == CONTENT


@pytest.mark.parametrize("status", [500, 503, 429])
def test_sending_the_bytes_is_tried_again_after_a_5xx_or_a_429(
    double: SlackDouble, gateway: SlackGateway, dm: str, status: int
) -> None:
    double.fail_next("upload", status=status, retry_after=0, times=2)

    assert isinstance(upload(gateway, dm), Uploaded)
    assert len(double.calls_to("upload")) == 3
    assert [f.content for f in double.shared_files(dm)] == [CONTENT]


def test_in_a_job_a_429_on_the_bytes_is_given_back_not_waited_out(
    double: SlackDouble, gateway: SlackGateway, dm: str
) -> None:
    """Deferring (a job worker's thread), a 429 raises RateLimited with its Retry-After: the job goes
    back to the queue for it (runtime/jobs.py) and nothing is shared meanwhile."""
    double.fail_next("upload", status=429, retry_after=20)

    with acting_for("T0TEST"), deferring_rate_limits(), pytest.raises(RateLimited) as limited:
        upload(gateway, dm)
    assert (limited.value.method, limited.value.retry_after) == ("upload", 20.0)
    assert len(double.calls_to("upload")) == 1 and double.shared_files() == []


def test_bytes_that_never_arrive_fail_and_share_nothing(double: SlackDouble, gateway: SlackGateway, dm: str) -> None:
    double.fail_next("upload", status=502, times=4)

    assert upload(gateway, dm) == Failed("http_502")
    assert double.calls_to("files.completeUploadExternal") == []
    assert double.shared_files() == []


def test_a_rate_limit_past_the_clients_retries_is_ratelimited(
    double: SlackDouble, gateway: SlackGateway, dm: str
) -> None:
    double.fail_next("files.getUploadURLExternal", status=429, retry_after=0, times=3)

    assert upload(gateway, dm) == Failed("ratelimited")
    assert double.shared_files() == []


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_slacks_refusal_to_share_is_its_error_code(
    double: SlackDouble, gateway: SlackGateway, dm: str, error: str
) -> None:
    double.fail_next("files.completeUploadExternal", error=error)

    assert upload(gateway, dm) == Failed(error)
    assert len(double.calls_to("files.completeUploadExternal")) == 1  # an answer: nothing to look for


def test_a_completion_whose_answer_was_lost_is_found_not_shared_twice(
    double: SlackDouble, gateway: SlackGateway, dm: str
) -> None:
    double.drop_next("files.completeUploadExternal")

    uploaded = upload(gateway, dm)

    assert isinstance(uploaded, Uploaded)
    assert len(double.shared_files(dm)) == 1
    assert len(double.calls_to("files.completeUploadExternal")) == 1  # found by looking, not completed again


def test_a_completion_that_failed_with_a_5xx_before_sharing_is_tried_again(
    double: SlackDouble, gateway: SlackGateway, dm: str
) -> None:
    double.fail_next("files.completeUploadExternal", status=500)

    assert isinstance(upload(gateway, dm), Uploaded)
    assert len(double.shared_files(dm)) == 1
    assert len(double.calls_to("files.completeUploadExternal")) == 2
