"""Keep Slack tokens and secrets out of logs, whichever library writes the line."""

from __future__ import annotations

import logging
import re

# xoxb-/xoxp-/xoxe-…/xapp- tokens, and Authorization headers as slack_sdk logs them at DEBUG.
_SECRET = re.compile(r"""\b(xox[a-z]-|xapp-)[A-Za-z0-9-]+|(Bearer\s+)[^\s'",]+""")
_TRACEBACKS = logging.Formatter()


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


class TokenRedactingFilter(logging.Filter):
    """Rewrites the message, the traceback and the stack of a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a mismatched %-format must not raise into the caller
            message = f"{record.msg} {record.args!r}"
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the redacted traceback is what gets written.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
