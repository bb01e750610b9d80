"""REDIS_SENTINELS and friends, REDIS_CLUSTER_URL: one kind of Redis at a time, each bad value
named in one line, the TLS options built for the sentinels and data nodes alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.connection import SSLConnection

from bot.app.settings import ConfigError, load_settings
from bot.state.shared.connection import sentinel_client, tls_options

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


def test_a_cluster_url_is_a_target_whose_password_stays_secret() -> None:
    settings = load_settings(redis_cluster_url="redis://:hunter2%2Fpass@node-1:7000")
    target = settings.redis_target
    assert settings.redis_configured and target is not None and target.kind == "cluster"
    assert target.location == "redis://node-1:7000 (cluster)"
    assert {"hunter2%2Fpass", "hunter2/pass"} <= set(settings.secret_values())
    assert "hunter2" not in repr(target) + target.location + repr(settings)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("unix:///run/redis.sock", "must be redis://host:port or rediss://host:port"),
        ("redis://:hunter2-pass@node:7000/2", "a Cluster has only database 0"),
        ("redis://:hunter2-pass@node:port", "is not a URL"),
        ("rediss://node:7000?ssl_ca_certs=/no/such/ca.pem", "cannot be read"),
    ],
)
def test_a_bad_cluster_url_is_named_without_its_password(url: str, named: str) -> None:
    message = refusal(redis_cluster_url=url)
    assert message.startswith("Invalid setting REDIS_CLUSTER_URL:") and named in message
    assert "hunter2" not in message and len(message.splitlines()) == 1


@pytest.mark.parametrize(
    ("tls", "ca", "options"),
    [
        ("", None, {}),
        ("off", None, {}),
        ("1", None, {"ssl": True, "ssl_cert_reqs": "required"}),
        ("ON", "ca", {"ssl": True, "ssl_cert_reqs": "required", "ssl_ca_certs": "ca"}),
        ("no-verify", None, {"ssl": True, "ssl_cert_reqs": "none"}),
    ],
)
def test_sentinel_tls_gives_the_sentinels_and_the_data_nodes_the_same_options(
    tls: str, ca: str | None, options: dict[str, object], tmp_path: Path
) -> None:
    extra = {"redis_sentinel_tls": tls}
    if ca is not None:
        (tmp_path / "ca.pem").write_text("a CA")
        extra["redis_sentinel_tls_ca_certs"] = str(tmp_path / "ca.pem")
        options = {**options, "ssl_ca_certs": str(tmp_path / "ca.pem")}
    target = load_settings(**SENTINELS, **extra).redis_target
    assert target is not None
    assert tls_options(target.tls, target.tls_ca_certs) == options
    client = sentinel_client(target)
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    assert {k: kwargs[k] for k in options if k != "ssl"} == {
        k: v for k, v in options.items() if k != "ssl"
    }
    assert issubclass(pool.connection_class, SSLConnection) == bool(options)
    # The sentinels are asked over TLS too, with the same checks.
    for sentinel in pool.sentinel_manager.sentinels:
        asked = sentinel.connection_pool
        assert issubclass(asked.connection_class, SSLConnection) == bool(options)
        assert asked.connection_kwargs.get("ssl_cert_reqs") == options.get("ssl_cert_reqs")
    client.close()


def test_sentinel_tls_is_refused_where_it_means_nothing() -> None:
    assert "REDIS_SENTINEL_TLS" in refusal(redis_sentinel_tls="on")
    assert "REDIS_SENTINEL_TLS" in refusal(**SENTINELS, redis_sentinel_tls="maybe")
    message = refusal(**SENTINELS, redis_sentinel_tls_ca_certs="/no/such/ca.pem")
    assert message.startswith("Invalid setting REDIS_SENTINEL_TLS_CA_CERTS:")


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
