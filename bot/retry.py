"""Whether a failed job runs again: the retry policy and the listener's view of its attempt.

Plain decisions, no queue and no Slack app: the runtime's job worker applies them, and
handlers/errors.py asks an Attempt whether to tell the person now or leave it to the retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.slack.ratelimits import RateLimited, retry_after

# Where a listener finds its Attempt in the Bolt context (set by the worker's dispatch).
JOB_ATTEMPT = "peerlearn_job_attempt"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    first_delay: timedelta = timedelta(seconds=10)
    factor: float = 4.0  # 10 s, 40 s, 160 s: within the 30 minutes a response_url stays valid

    def delay(self, failed_attempt: int) -> timedelta:
        return self.first_delay * self.factor ** (failed_attempt - 1)


def is_transient(error: BaseException) -> bool:
    """Failures that a later try may not meet: the database or Slack unreachable or overloaded.

    Anything else (a bug, a refused call) would fail the same way again, so it is reported at once.
    """
    if isinstance(error, OperationalError | InterfaceError | URLError | ConnectionError | TimeoutError | RateLimited):
        return True
    if isinstance(error, SlackApiError):
        status = int(error.response.status_code)
        return status >= 500 or status == 429
    return isinstance(error, SlackClientError)


@dataclass
class Attempt:
    """One run of a job, as the listener sees it: whether a failure now will be retried."""

    number: int
    final: bool
    started: bool = False  # a listener took the job
    error: BaseException | None = field(default=None)
    # Slack's 429 puts the job back for its Retry-After, not counted as an attempt (even the final
    # one): while the job is young enough (runtime/jobs.py); after that a 429 is a passing failure.
    may_defer: bool = False

    def will_retry(self, error: BaseException) -> bool:
        """Record the listener's failure; True when the worker will run the job again later."""
        self.error = error
        if self.deferred:
            return True
        return not self.final and is_transient(error)

    @property
    def deferred(self) -> bool:
        """The job was turned away by a 429 and goes back to the queue for its Retry-After."""
        return self.may_defer and self.error is not None and retry_after(self.error) is not None
