"""Keep Slack tokens and secrets out of logs, whichever library writes the line."""

from __future__ import annotations

import logging
import re

# xoxb-/xoxp-/xoxe-…/xapp- tokens, and Authorization headers as slack_sdk logs them at DEBUG.
_SECRET = re.compile(r"""\b(xox[a-z]-|xapp-)[A-Za-z0-9-]+|(Bearer\s+)[^\s'",]+""")


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


class TokenRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
