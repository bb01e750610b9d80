"""Log lines as `time level logger message key=value…`, with every configured secret redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
REDACTED = "[redacted]"


class RedactingFormatter(logging.Formatter):
    """Appends a record's extra fields and blanks out any secret wherever it appears.

    Redaction happens on the final text, so a secret that slips into a message, an extra field
    or an exception's traceback still never reaches the log.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            text += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs full request URLs at INFO, and the token endpoint's URL carries the app
    # secret as a query parameter; keep it and httpcore quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
