"""Log lines, every configured secret redacted: `time level logger message key=value…` (human,
the default) or one JSON object per line (`LOG_FORMAT=json`, for log platforms that parse it)."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

LogFormat = Literal["human", "json"]

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
REDACTED = "[redacted]"
#: The keys every JSON line has; a record's extra fields may not replace them.
JSON_KEYS = ("time", "level", "logger", "message")


def _secret_list(secrets: Iterable[str]) -> list[str]:
    # Longest first, so a secret containing another (the Redis URL, its password) goes whole.
    return sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class RedactingFormatter(logging.Formatter):
    """Appends a record's extra fields and blanks out any secret wherever it appears.

    Redaction happens on the final text, so a secret that slips into a message, an extra field
    or an exception's traceback still never reaches the log.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self._secrets = _secret_list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = _extras(record)
        if extras:
            text += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        return _redact(text, self._secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the extra fields as keys.

    Each string is redacted before it is encoded: a secret is matched as written, not as JSON
    escapes it, and replacing it can never break the object's syntax.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = _secret_list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        fields = record.msg if isinstance(record.msg, Mapping) and not record.args else None
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # A mapping logged as the message (the audit line) is its fields, named by its event.
            "message": str(fields.get("event", "")) if fields else record.getMessage(),
        }
        for key, value in [*(fields or {}).items(), *_extras(record).items()]:
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(self._clean(entry), ensure_ascii=False)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return _redact(value, self._secrets)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return {str(k): self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(v) for v in value]
        return _redact(str(value), self._secrets)


def make_formatter(log_format: LogFormat, secrets: Iterable[str] = ()) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(secrets)
    return RedactingFormatter(secrets)


def configure_logging(level: str, secrets: Iterable[str], log_format: LogFormat = "human") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(log_format, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs full request URLs at INFO, and the token endpoint's URL carries the app
    # secret as a query parameter; keep it and httpcore quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # An exception nobody caught would print its traceback past the handler: unredacted, and
    # with LOG_FORMAT=json a run of lines no log drain can parse.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("esign_flow").critical(
        "uncaught exception", exc_info=(kind, error, traceback)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return  # as the default hook: a thread's SystemExit is silent
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("esign_flow").critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def granian_log_config(log_format: LogFormat) -> dict[str, Any]:
    """granian's `log_dictconfig`: its own lines in the bot's format, on stderr with the bot's.

    granian merges only the top-level keys into its defaults, so every section is given whole.
    Its loggers hand their records to the root logger rather than keeping handlers of their
    own: in a worker, the app's `configure_logging` then replaces the root handler with one
    that knows the secrets, and granian's lines there are redacted like the bot's. The master
    keeps this handler, which knows none (they must not travel in its argv, shown by `ps`):
    its lines carry only pids, worker numbers and the listening address.
    """
    factory = (
        f"{__name__}.{JsonFormatter.__name__ if log_format == 'json' else 'RedactingFormatter'}"
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"bot": {"()": factory}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "bot",
            }
        },
        "root": {"handlers": ["stderr"]},
        "loggers": {
            "_granian": {"handlers": [], "propagate": True},
            "granian.access": {"handlers": [], "propagate": True, "level": "INFO"},
        },
    }
