"""A real `redis-server` on a free loopback port, started and stopped by the tests themselves."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server() -> str:
    """The redis-server binary; a skip on a laptop without it, a failure in CI."""
    if REDIS_SERVER is None:
        message = "redis-server is not installed (./scripts/test installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_SERVER


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(
        self, workdir: Path, *, password: str | None = None, extra: tuple[str, ...] = ()
    ) -> None:
        self.workdir = workdir
        self.password = password
        self.extra = extra
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [
            require_redis_server(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
        ]
        if self.password:
            command += ["--requirepass", self.password, "--masterauth", self.password]
        command += self.extra
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()
        return self

    def kill(self) -> None:
        """Gone at once, as a crashed or unplugged Redis would be."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.password,
            decode_responses=True,
            socket_timeout=2,
        )

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()


class SentinelSet:
    """A primary, its replica and three sentinels (quorum 2) that fail over within seconds."""

    def __init__(self, workdir: Path, *, master: str, password: str) -> None:
        self.workdir = workdir
        self.master = master
        self.password = password
        (workdir / "primary").mkdir()
        (workdir / "replica").mkdir()
        self.primary = RedisServer(workdir / "primary", password=password)
        self.replica = RedisServer(workdir / "replica", password=password)
        self.sentinel_ports = [free_port() for _ in range(3)]
        self._sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def sentinels(self) -> str:
        """As REDIS_SENTINELS wants them."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def start(self) -> SentinelSet:
        self.primary.start()
        self.replica.extra = ("--replicaof", "127.0.0.1", str(self.primary.port))
        self.replica.start()
        for n, port in enumerate(self.sentinel_ports):
            config = self.workdir / f"sentinel-{n}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.workdir}\n"
                f"sentinel monitor {self.master} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel auth-pass {self.master} {self.password}\n"
                # Short, so a test sees the failover within seconds.
                f"sentinel down-after-milliseconds {self.master} 500\n"
                f"sentinel failover-timeout {self.master} 3000\n"
            )
            self._sentinels.append(
                subprocess.Popen(
                    [require_redis_server(), str(config), "--sentinel"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        self._wait(lambda: self.replica.client().info("replication")["master_link_status"] == "up")
        # Every sentinel has found the others and the replica, so any two can elect.
        self._wait(lambda: all(self._sees_everyone(port) for port in self.sentinel_ports))
        return self

    def primary_port(self) -> int | None:
        """Which data node the sentinels name now (None when none answers)."""
        for port in self.sentinel_ports:
            try:
                with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as client:
                    address = client.sentinel_get_master_addr_by_name(self.master)
            except redis.RedisError:
                continue
            if address:
                return int(address[1])
        return None

    def stop(self) -> None:
        for process in self._sentinels:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        self._sentinels = []
        self.primary.kill()
        self.replica.kill()

    def _sees_everyone(self, port: int) -> bool:
        with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as client:
            [state] = [m for m in client.execute_command("SENTINEL", "MASTERS")]
        fields = (
            dict(zip(state[::2], state[1::2], strict=True)) if isinstance(state, list) else state
        )
        return int(fields["num-other-sentinels"]) == 2 and int(fields["num-slaves"]) == 1

    @staticmethod
    def _wait(ready: Callable[[], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    return
            except (redis.RedisError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the Sentinel set did not come up")
            time.sleep(0.05)
