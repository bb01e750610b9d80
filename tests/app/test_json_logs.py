"""LOG_FORMAT: the human lines by default, one JSON object per line on request, and no
configured secret in either, whatever carries it (message, extra field, traceback)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app.logs import REDACTED, JsonFormatter, RedactingFormatter, make_formatter
from bot.app.settings import ConfigError, Settings, load_settings
from bot.app.web.server import master_argv, server_options
from bot.delivery.audit import record_lookup
from bot.slack.requester import Requester

ROOT = Path(__file__).resolve().parents[2]
#: Every secret setting, the Redis password written percent-encoded in its URL.
SECRETS = {
    "ESIGN_APP_ID": "7438000000",
    "ESIGN_APP_SECRET": "unit-test-app-secret",
    "SLACK_BOT_TOKEN": "xoxb-json-logs-bot-token",
    "SLACK_SIGNING_SECRET": "json-logs-signing-secret",
    "SLACK_APP_TOKEN": "xapp-1-json-logs-app-token",
    "REDIS_URL": "redis://:p%40ss-json-logs@127.0.0.1:6390/0",
}
SECRET_NAMES = [
    "ESIGN_APP_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "REDIS_URL",
]


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.chdir(tmp_path)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def _every_form(settings: Settings) -> list[str]:
    """Each secret as configured, and the Redis password both as written and decoded."""
    forms = [SECRETS[name] for name in SECRET_NAMES] + ["p%40ss-json-logs", "p@ss-json-logs"]
    assert set(forms) <= set(settings.secret_values())
    return forms


def _format(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.handle(record)
    return stream.getvalue()


def _record(message: object, *args: object, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("esign_flow.test", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def _with_traceback(secret: str) -> logging.LogRecord:
    try:
        raise RuntimeError(f"failed with {secret}")
    except RuntimeError:
        record = _record("lookup failed")
        record.exc_info = sys.exc_info()
        return record


@pytest.mark.parametrize("log_format", ["human", "json"])
@pytest.mark.parametrize("name", [*SECRET_NAMES, "REDIS_PASSWORD"])
def test_no_secret_setting_reaches_either_format(
    settings: Settings, log_format: str, name: str
) -> None:
    formatter = make_formatter(log_format, settings.secret_values())  # type: ignore[arg-type]
    forms = _every_form(settings)
    secret = SECRETS.get(name, "p@ss-json-logs")
    records = [
        _record("token %s refused", secret),
        _record(f"url={secret}"),
        _record("extra field", detail={"url": secret, "list": [secret]}, reason=secret),
        _with_traceback(secret),
    ]
    for record in records:
        text = _format(formatter, record)
        assert REDACTED in text
        assert not [f for f in forms if f in text], text
        if log_format == "json":
            assert len(text.splitlines()) == 1  # a traceback stays inside its line's object
            json.loads(text)


def test_a_json_line_has_the_four_keys_then_the_extra_fields() -> None:
    text = _format(JsonFormatter(()), _record("took %d ms", 12, refusal="bad_signature", n=3))
    line = json.loads(text)
    assert line["level"] == "WARNING" and line["logger"] == "esign_flow.test"
    assert line["message"] == "took 12 ms" and line["time"].endswith("+00:00")
    assert line["refusal"] == "bad_signature" and line["n"] == 3
    # An extra field cannot pass itself off as one of the four.
    clash = json.loads(_format(JsonFormatter(()), _record("real", level="fake")))
    assert clash["level"] == "WARNING"


@pytest.fixture
def audit_records() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    audit = logging.getLogger("esign_flow.audit")
    keep, level = Keep(), audit.level
    audit.addHandler(keep)
    audit.setLevel(logging.INFO)
    yield records
    audit.removeHandler(keep)
    audit.setLevel(level)


def test_the_audit_fields_are_keys_in_json_and_one_json_object_in_the_human_format(
    audit_records: list[logging.LogRecord],
) -> None:
    requester = Requester("T0TEAM", "C0CHAN", "U0USER")
    record_lookup(
        requester, trigger="command", flow_id="123", outcome="ok", cached=False, duration_ms=4.26
    )
    [record] = audit_records
    line = json.loads(_format(JsonFormatter(()), record))
    assert line["message"] == "flow_lookup" and line["logger"] == "esign_flow.audit"
    assert (line["trigger"], line["outcome"], line["duration_ms"]) == ("command", "ok", 4.3)
    assert line["cached"] is False and line["user"] == "U0USER"
    human = _format(RedactingFormatter(()), record)
    # As before LOG_FORMAT: the fields as one JSON object after the logger's name.
    assert json.loads(human[human.index("{") :]) == {
        k: line[k] for k in json.loads(str(record.msg))
    }
    assert " INFO esign_flow.audit {" in human


def test_log_format_is_human_by_default_any_case_and_a_bad_one_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert load_settings().log_format == "human"
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    [line] = str(refused.value).splitlines()
    assert line.startswith("Invalid setting LOG_FORMAT:")


def test_granian_is_given_the_json_format_and_the_masters_argv_no_secret(
    settings: Settings,
) -> None:
    assert "log_dictconfig" not in server_options(settings, 1)  # granian's own, as ever
    options = server_options(settings.model_copy(update={"log_format": "json"}), 1)
    config = options["log_dictconfig"]
    assert config["formatters"]["bot"]["()"] == "bot.app.logs.JsonFormatter"
    argv = " ".join(master_argv(options))
    assert not [f for f in _every_form(settings) if f in argv]


def _cli(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[str]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ESIGN_", "SLACK_"))}
    clean.update({"PYTHONPATH": str(ROOT), **env})
    done = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def test_a_refused_start_is_json_lines_when_asked_and_plain_otherwise(tmp_path: Path) -> None:
    code, lines = _cli(tmp_path, "serve", LOG_FORMAT="json", PORT="http", WEB_CONCURRENCY="0")
    assert code == 2
    parsed = [json.loads(line) for line in lines]
    assert [p["level"] for p in parsed] == ["ERROR", "ERROR"]
    assert {p["message"].split(":")[0] for p in parsed} == {
        "Invalid setting PORT",
        "Invalid setting WEB_CONCURRENCY",
    }
    # A process refused after the settings loaded (no e签宝 credentials) says so in JSON too.
    code, lines = _cli(
        tmp_path, "serve", LOG_FORMAT="json", SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s" * 8
    )
    assert code == 2 and lines
    assert all("ESIGN_APP_ID" in json.loads(line)["message"] for line in lines)
    # LOG_FORMAT itself bad: the format asked for is unknown, so the plain line as ever.
    code, lines = _cli(tmp_path, "serve", LOG_FORMAT="yaml")
    assert code == 2 and len(lines) == 1 and lines[0].startswith("Invalid setting LOG_FORMAT")


UNCAUGHT = """
import threading
from bot.app.logs import configure_logging
configure_logging("INFO", ["s3cret-in-a-crash"], "{log_format}")
thread = threading.Thread(target=lambda: 1 / 0 or "s3cret-in-a-crash", name="poller")
thread.start()
thread.join()
raise RuntimeError("died holding s3cret-in-a-crash")
"""


@pytest.mark.parametrize("log_format", ["human", "json"])
def test_an_uncaught_exception_is_logged_redacted_not_printed_bare(log_format: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", UNCAUGHT.format(log_format=log_format)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "s3cret-in-a-crash" not in done.stderr and "RuntimeError" in done.stderr
    if log_format == "json":
        lines = [json.loads(line) for line in done.stderr.splitlines()]
        assert [(line["level"], line["message"]) for line in lines] == [
            ("CRITICAL", "uncaught exception in thread poller"),
            ("CRITICAL", "uncaught exception"),
        ]
        assert "ZeroDivisionError" in lines[0]["exception"]
