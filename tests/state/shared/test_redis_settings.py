"""REDIS_URL is a secret: checked without being echoed, and its password redacted from logs."""

from __future__ import annotations

import logging

import pytest

from bot.app.logs import RedactingFormatter
from bot.app.settings import ConfigError, load_settings


def test_the_url_and_its_password_are_redacted() -> None:
    settings = load_settings(redis_url="rediss://default:p%40ss-word-9@cache.example:6380/0")
    secrets = settings.secret_values()
    assert "p%40ss-word-9" in secrets and "p@ss-word-9" in secrets
    formatter = RedactingFormatter(secrets)
    record = logging.LogRecord("x", logging.WARNING, "", 0, "auth p@ss-word-9 failed", None, None)
    assert "p@ss-word-9" not in formatter.format(record)
    assert "p@ss" not in repr(settings)


@pytest.mark.parametrize(
    "url", ["http://:hunter2-pass@cache:6379", "redis://:hunter2-pass@cache:x"]
)
def test_a_bad_url_is_named_without_its_value(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(redis_url=url)
    assert "REDIS_URL" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_no_url_means_no_redis_and_an_empty_one_too() -> None:
    assert load_settings().redis_url is None
    assert load_settings(redis_url="").redis_url is None
