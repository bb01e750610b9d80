"""Sentinel and Cluster set-ups of real `redis-server`s for the bench, on loopback ports.

`SentinelHost`: a primary, its replica and three sentinels (quorum 2). `ClusterHost`: three
primaries sharing the 16,384 slots (`redis-cli --cluster create`, no replicas). Each gives the
settings that name it (`env`) and stops every process it started.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from bench.redis_host import RedisProcess, free_port

MASTER = "bench-primary"


def _wait(ready: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except (redis.RedisError, KeyError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up")
        time.sleep(0.05)


def _client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, decode_responses=True)


class SentinelHost:
    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        for name in ("primary", "replica"):
            (workdir / name).mkdir(parents=True, exist_ok=True)
        self.primary = RedisProcess(workdir / "primary", workdir / "primary.log")
        self.replica = RedisProcess(workdir / "replica", workdir / "replica.log")
        self._sentinels: list[subprocess.Popen[bytes]] = []
        self._ports: list[int] = []

    @property
    def env(self) -> dict[str, str]:
        nodes = ",".join(f"127.0.0.1:{port}" for port in self._ports)
        return {"REDIS_SENTINELS": nodes, "REDIS_SENTINEL_MASTER": MASTER}

    def start(self) -> SentinelHost:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
        self.primary.start()
        self.replica.extra = ("--replicaof", "127.0.0.1", str(self.primary.port))
        self.replica.start()
        self._ports = [free_port() for _ in range(3)]
        for n, port in enumerate(self._ports):
            config = self._workdir / f"sentinel-{n}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self._workdir}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 2\n"
            )
            with (self._workdir / f"sentinel-{n}.log").open("ab") as log:
                self._sentinels.append(
                    subprocess.Popen(
                        [binary, str(config), "--sentinel"],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
        _wait(
            lambda: _client(self.replica.port).info("replication")["master_link_status"] == "up",
            "the replica",
        )
        _wait(
            lambda: all(
                _client(port).sentinel_get_master_addr_by_name(MASTER) for port in self._ports
            ),
            "the sentinels",
        )
        return self

    def stop(self) -> None:
        for process in self._sentinels:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        self._sentinels = []
        self.primary.kill()
        self.replica.kill()


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too."""
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
    raise RuntimeError("no free port pair for a cluster node")


class ClusterHost:
    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.nodes: list[RedisProcess] = []
        self._ports = [_cluster_port() for _ in range(size)]
        for n in range(size):
            node_dir = workdir / f"node-{n}"
            node_dir.mkdir(parents=True, exist_ok=True)
            extra = (
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
            )
            self.nodes.append(RedisProcess(node_dir, workdir / f"node-{n}.log", extra))

    @property
    def env(self) -> dict[str, str]:
        return {"REDIS_CLUSTER_URL": f"redis://127.0.0.1:{self._ports[0]}"}

    def start(self) -> ClusterHost:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli is not installed (it comes with redis-server)")
        for node, port in zip(self.nodes, self._ports, strict=True):
            node.start(port=port)
        subprocess.run(
            [cli, "--cluster", "create"]
            + [f"127.0.0.1:{port}" for port in self._ports]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )

        def ready() -> bool:
            for port in self._ports:
                info = _client(port).cluster("info")
                if not isinstance(info, dict) or info.get("cluster_state") != "ok":
                    return False
            return True

        _wait(ready, "the cluster")
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()
