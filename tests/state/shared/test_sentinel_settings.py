"""REDIS_SENTINELS and friends: one kind of Redis at a time, each bad value named in one line."""

from __future__ import annotations

import pytest

from bot.app.settings import ConfigError, load_settings

SENTINELS = {"redis_sentinels": "s1:26379, s2:26380,[::1]:26381", "redis_sentinel_master": "main"}


def refusal(**settings: str) -> str:
    with pytest.raises(ConfigError) as refused:
        load_settings(**settings)
    return str(refused.value)


def test_sentinels_parse_into_a_target_with_both_passwords_secret() -> None:
    settings = load_settings(
        **SENTINELS, redis_password="data-pw-31", redis_sentinel_password="sentinel-pw-47"
    )
    target = settings.redis_target
    assert settings.redis_configured and target is not None
    assert target.kind == "sentinel" and target.master == "main"
    assert target.sentinels == (("s1", 26379), ("s2", 26380), ("::1", 26381))
    assert (target.password, target.sentinel_password) == ("data-pw-31", "sentinel-pw-47")
    assert {"data-pw-31", "sentinel-pw-47"} <= set(settings.secret_values())
    assert "pw" not in repr(target) + target.location + repr(settings)


def test_a_url_is_a_target_too_and_nothing_is_none() -> None:
    target = load_settings(redis_url="redis://127.0.0.1:6379/0").redis_target
    assert target is not None and target.kind == "url"
    assert load_settings().redis_target is None
    assert not load_settings(redis_sentinels=" ", redis_password="").redis_configured


@pytest.mark.parametrize(
    "others",
    [
        {"redis_url": "redis://:hunter2-pass@cache:6379/0", **SENTINELS},
        {"redis_url": "redis://cache:6379/0", "redis_cluster_url": "redis://:hunter2-pass@c:1"},
        {**SENTINELS, "redis_cluster_url": "redis://c:1"},
    ],
)
def test_only_one_kind_of_redis_may_be_set(others: dict[str, str]) -> None:
    message = refusal(**others)
    assert "set only one of them" in message and len(message.splitlines()) == 1
    assert "hunter2" not in message


def test_cluster_is_refused_in_one_line() -> None:
    message = refusal(redis_cluster_url="redis://:hunter2-pass@node:7000")
    assert message == "Redis Cluster is not supported yet: use REDIS_URL or REDIS_SENTINELS"


@pytest.mark.parametrize(
    "sentinels", ["s1", "s1:", "s1:26379,s2:port", ":26379", "s1:0", "s1:70000", ","]
)
def test_a_bad_sentinel_list_is_named(sentinels: str) -> None:
    message = refusal(redis_sentinels=sentinels, redis_sentinel_master="main")
    assert message.startswith("Invalid setting REDIS_SENTINELS:") and len(message.splitlines()) == 1


def test_sentinels_and_their_master_name_come_together() -> None:
    assert "REDIS_SENTINEL_MASTER" in refusal(redis_sentinels="s1:26379")
    assert "REDIS_SENTINELS" in refusal(redis_sentinel_master="main")
    assert "REDIS_SENTINEL_MASTER" in refusal(redis_sentinels="s1:1", redis_sentinel_master="a b")
