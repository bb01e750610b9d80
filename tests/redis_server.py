"""A real `redis-server` on a free loopback port, started and stopped by the tests themselves."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from bot.state.shared.connection import RedisClient, RedisTarget
from bot.state.shared.health import SharedRedis

REDIS_SERVER = shutil.which("redis-server")
#: The test cluster's nodes want it; a secret the logs are checked for.
CLUSTER_PASSWORD = "cluster-redis-password-9d2b"
#: The data nodes' password of a single server or Sentinel set started by `start_redis`.
ENGINE_PASSWORD = "engine-redis-password-41c7"


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

    def stored_keys(self) -> list[str]:
        with self.client() as client:
            return sorted(client.keys("*"))

    def engine(self) -> Engine:
        """Emptied, for a test of the bot on one server."""
        self.flush()
        return Engine("redis", RedisTarget.from_url(self.url), self.client, self.stored_keys)


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


def free_cluster_port() -> int:
    """A free port N whose cluster bus port (N + 10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair for a cluster node")


class ClusterSet:
    """Three primaries (no replicas) sharing the 16,384 slots, as `redis-cli --cluster create`
    makes them; any node's URL seeds a client."""

    def __init__(self, workdir: Path, *, password: str, size: int = 3) -> None:
        self.workdir = workdir
        self.password = password
        self.nodes: list[RedisServer] = []
        for n in range(size):
            (workdir / f"node-{n}").mkdir()
            node = RedisServer(workdir / f"node-{n}", password=password)
            node.port = free_cluster_port()
            node.extra = (
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(workdir / f"node-{n}" / "nodes.conf"),
                "--cluster-node-timeout",
                "2000",
            )
            self.nodes.append(node)

    @property
    def url(self) -> str:
        """As REDIS_CLUSTER_URL wants it: one seed node, the password in the URL."""
        return f"redis://:{self.password}@127.0.0.1:{self.nodes[0].port}"

    def start(self) -> ClusterSet:
        for node in self.nodes:
            node.start()
        cli = shutil.which("redis-cli")
        if cli is None:
            raise AssertionError("redis-cli is not installed (it comes with redis-server)")
        subprocess.run(
            [cli, "-a", self.password, "--no-auth-warning", "--cluster", "create"]
            + [f"127.0.0.1:{node.port}" for node in self.nodes]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        SentinelSet._wait(lambda: all(self._ready(node) for node in self.nodes), timeout=20)
        return self

    def flush(self) -> None:
        for node in self.nodes:
            node.flush()

    def stored_keys(self) -> list[str]:
        """Every key on every node."""
        return sorted(key for node in self.nodes for key in node.stored_keys())

    def owner_port(self, key: str) -> int:
        """The port of the primary that holds `key`'s slot."""
        with self.client() as client:
            node = client.get_node_from_key(key)
        return int(node.port)

    def engine(self) -> Engine:
        """Emptied, for a test of the bot on the Cluster."""
        self.flush()
        return Engine("cluster", RedisTarget.cluster(self.url), self.client, self.stored_keys)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    def client(self) -> RedisCluster:
        return RedisCluster(
            host="127.0.0.1",
            port=self.nodes[0].port,
            password=self.password,
            decode_responses=True,
            socket_timeout=2,
        )

    @staticmethod
    def _ready(node: RedisServer) -> bool:
        """The node says the cluster is ok and knows where every slot lives."""
        with node.client() as client:
            info = client.execute_command("CLUSTER", "INFO")
        text = info if isinstance(info, str) else str(info)
        return "cluster_state:ok" in text and "cluster_slots_assigned:16384" in text


@dataclass(frozen=True)
class Engine:
    """A Redis the bot can run on, emptied for the test: its target (as the settings make it)
    and a plain client of the test's own, to look at the keys."""

    name: str
    target: RedisTarget
    raw: Callable[[], RedisClient]
    stored_keys: Callable[[], list[str]]

    def shared(self, recheck_seconds: float = 0.2) -> SharedRedis:
        """What one bot process would open on it."""
        return SharedRedis(self.target.client, location="test", recheck_seconds=recheck_seconds)


#: The kinds of Redis the bot runs on, as the e2e tests name them.
ENGINES = ("redis", "sentinel", "cluster")
SENTINEL_MASTER = "esign-flow-primary"


@dataclass
class RunningRedis:
    """One kind of Redis, started for a test: the settings that name it (for a bot's
    environment) and the password that must never show in a log."""

    name: str
    env: dict[str, str]
    password: str
    #: The one server (kind "redis"), for tests that kill it and bring it back.
    server: RedisServer | None = None
    stop: Callable[[], None] = lambda: None


def start_redis(
    name: str, workdir: Path, *, password: str, cluster: ClusterSet | None = None
) -> RunningRedis:
    """`name` from ENGINES. A Cluster is not started here: pass the run's (`redis_cluster`)."""
    if name == "cluster":
        if cluster is None:
            raise AssertionError("pass the run's cluster (the redis_cluster fixture)")
        cluster.flush()
        return RunningRedis(name, {"REDIS_CLUSTER_URL": cluster.url}, cluster.password)
    if name == "sentinel":
        sentinels = SentinelSet(workdir, master=SENTINEL_MASTER, password=password).start()
        env = {
            "REDIS_SENTINELS": sentinels.sentinels,
            "REDIS_SENTINEL_MASTER": SENTINEL_MASTER,
            "REDIS_PASSWORD": password,
        }
        return RunningRedis(name, env, password, stop=sentinels.stop)
    server = RedisServer(workdir, password=password).start()
    return RunningRedis(name, {"REDIS_URL": server.url}, password, server=server, stop=server.kill)
