"""Losing Redis costs no time and logs once; finding it again is automatic and logs once."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path

import pytest
import redis
import trustme

from bot.state.shared.connection import (
    RedisTarget,
    RedisUnavailable,
    redis_client,
    safe_location,
)
from bot.state.shared.health import SharedRedis
from tests.redis_server import (
    CLUSTER_PASSWORD,
    ClusterSet,
    RedisServer,
    free_port,
    require_redis_server,
)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.state.shared.health" and r.levelno == logging.WARNING
    ]


def test_one_warning_on_loss_one_on_recovery_and_no_waiting_in_between(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    shared = SharedRedis(redis_client(redis_server.url), location="here", recheck_seconds=0.3)
    try:
        assert shared.status() == "ok"
        redis_server.kill()
        started = time.monotonic()
        failures = 0
        for _ in range(200):
            try:
                shared.call(lambda client: client.get("k"))
            except RedisUnavailable:
                failures += 1
        assert failures == 200
        assert time.monotonic() - started < 0.2  # fallback at once, not per-call timeouts
        assert shared.status() == "down"
        redis_server.start()
        time.sleep(0.35)
        assert shared.status() == "ok"
        assert shared.call(lambda client: client.set("k", "v"))
    finally:
        shared.close()
    lost, back = warnings_of(caplog)
    assert "Redis at here is unreachable" in lost
    assert "Redis at here is reachable again" in back


def test_a_server_that_never_answers_costs_one_short_timeout_per_recheck(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections, never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        shared = SharedRedis(
            redis_client(f"redis://127.0.0.1:{port}/0"), location="silent", recheck_seconds=30
        )
        started = time.monotonic()
        for _ in range(50):
            with pytest.raises(RedisUnavailable):
                shared.call(lambda client: client.get("k"))
        took = time.monotonic() - started
        shared.close()
    assert took < 1.5  # one 0.5 s timeout, then 49 immediate fallbacks
    assert len(warnings_of(caplog)) == 1


def test_the_password_appears_in_no_log_line_and_no_location(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    require_redis_server()
    password = "redis-pass-Secret-42"
    server = RedisServer(tmp_path, password=password).start()
    wrong = server.url.replace(password, "not-the-redis-pass")
    try:
        good = SharedRedis(redis_client(server.url), location=safe_location(server.url))
        assert good.status() == "ok"
        bad = SharedRedis(redis_client(wrong), location=safe_location(wrong))
        assert bad.status() == "down"  # refused credentials count as unreachable
        good.close()
        bad.close()
    finally:
        server.kill()
    assert safe_location(server.url) == f"redis://127.0.0.1:{server.port}/0"
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert password not in text and "not-the-redis-pass" not in text
    assert warnings_of(caplog), "the refused login is logged (without the password)"


def test_rediss_with_a_self_signed_certificate_and_ssl_cert_reqs_none(tmp_path: Path) -> None:
    """Heroku's Redis: TLS with a certificate no CA signed; `?ssl_cert_reqs=none` accepts it."""
    import subprocess

    binary = require_redis_server()

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--port", "0",
            "--tls-port", str(port),
            "--bind", "127.0.0.1",
            "--tls-cert-file", str(tmp_path / "cert.pem"),
            "--tls-key-file", str(tmp_path / "key.pem"),
            "--tls-ca-cert-file", str(tmp_path / "ca.pem"),
            "--tls-auth-clients", "no",
            "--save", "",
            "--appendonly", "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"rediss://127.0.0.1:{port}/0"
        lenient = SharedRedis(
            redis_client(f"{url}?ssl_cert_reqs=none"), location="tls", recheck_seconds=0.1
        )
        strict = SharedRedis(redis_client(url), location="tls", recheck_seconds=0.1)
        deadline = time.monotonic() + 10
        while lenient.status() != "ok":
            assert time.monotonic() < deadline, "no TLS answer from redis-server"
            time.sleep(0.1)
        assert strict.status() == "down"  # certificate verify failed, as on Heroku
        lenient.close()
        strict.close()
    finally:
        server.kill()
        server.wait(timeout=10)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:p%40ss@cache.example:6380/2", "redis://cache.example:6380/2"),
        (
            "rediss://user:pw@cache.example:12345?ssl_cert_reqs=none",
            "rediss://cache.example:12345/0",
        ),
        ("redis://localhost", "redis://localhost:6379/0"),
        ("unix:///run/redis.sock?password=pw", "unix:///run/redis.sock"),
    ],
)
def test_safe_location_never_shows_credentials(url: str, shown: str) -> None:
    assert safe_location(url) == shown


def test_a_cluster_down_at_start_costs_a_short_timeout_then_is_found(
    redis_cluster: ClusterSet,
) -> None:
    """A Cluster client asks a node for the slot map as it is made: not before the first call."""
    dead = SharedRedis(
        RedisTarget.cluster(f"redis://127.0.0.1:{free_port()}").client,
        location="nowhere",
        recheck_seconds=0.1,
    )
    started = time.monotonic()
    assert dead.status() == "down"
    assert time.monotonic() - started < 1.5
    dead.close()
    live = SharedRedis(RedisTarget.cluster(redis_cluster.url).client, location="cluster")
    try:
        assert live.status() == "ok"  # every primary answered
        assert live.call(lambda client: client.set("{t}k", "v", px=1000))
    finally:
        live.close()


def test_while_one_caller_makes_a_slow_client_the_others_fall_back_at_once(
    redis_server: RedisServer,
) -> None:
    """A Cluster client is made by asking nodes that may be slow to answer: nobody queues."""
    release = threading.Event()

    def slow_connect() -> redis.Redis:
        release.wait(5)
        return redis_client(redis_server.url)

    shared = SharedRedis(slow_connect, location="slow")
    first = threading.Thread(target=lambda: shared.call(lambda client: client.ping()))
    first.start()
    time.sleep(0.1)  # the first caller is making the client now
    started = time.monotonic()
    for _ in range(5):
        with pytest.raises(RedisUnavailable):
            shared.call(lambda client: client.ping())
    assert time.monotonic() - started < 0.5
    release.set()
    first.join(5)
    assert shared.call(lambda client: client.ping())
    shared.close()


def test_a_cluster_node_killed_mid_run_costs_no_wait_and_is_found_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cluster of its own: one of its primaries is killed, then started again on its port."""
    require_redis_server()
    cluster = ClusterSet(tmp_path, password=CLUSTER_PASSWORD).start()
    shared = SharedRedis(RedisTarget.cluster(cluster.url).client, location="c", recheck_seconds=0.2)
    try:
        assert shared.call(lambda client: client.set("{flow:1}:outline", "v"))
        [owner] = [n for n in cluster.nodes if n.port == cluster.owner_port("{flow:1}:outline")]
        owner.kill()
        started = time.monotonic()
        failures = 0
        for _ in range(50):
            try:
                shared.call(lambda client: client.get("{flow:1}:outline"))
            except RedisUnavailable:
                failures += 1
        assert failures == 50 and time.monotonic() - started < 1.5
        assert shared.status() == "down"
        owner.start()  # the same port and node id (nodes.conf): it takes its slots back
        deadline = time.monotonic() + 15
        while True:  # the cluster may say it is down for a moment after the node is back
            with contextlib.suppress(RedisUnavailable):
                if shared.call(lambda client: client.set("{flow:1}:outline", "w")):
                    break
            assert time.monotonic() < deadline, "the cluster was not found again"
            time.sleep(0.2)
        assert shared.status() == "ok"
    finally:
        shared.close()
        cluster.stop()
    assert "is reachable again" in " ".join(warnings_of(caplog))
