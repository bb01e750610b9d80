"""A real `redis-server` for the scale-out scenario: loopback, a free port, no persistence.

Started and stopped by the bench itself (`kill()` is the "Redis down" of the scenario: gone at
once, as a crashed Redis would be). `command_counts()` reads `INFO commandstats`, so a phase's
Redis traffic is the difference of two readings.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

#: Commands the bench's own readings add (one INFO per reading), left out of the counts.
_OWN_COMMANDS = frozenset({"info"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on (for a REDIS_URL that is down from the start)."""
    return free_port()


class RedisProcess:
    def __init__(self, workdir: Path, log_path: Path, extra: tuple[str, ...] = ()) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
        self._binary = binary
        self._workdir = workdir
        self._log_path = log_path
        #: More `redis-server` options (a replica's `--replicaof`, a cluster node's).
        self.extra = extra
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 10.0, *, port: int | None = None) -> RedisProcess:
        """On `port` (a restart keeps the one REDIS_URL names), else on a free one."""
        self.port = port or free_port()
        command = [
            self._binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._workdir),
            *self.extra,
        ]
        with self._log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self._client() as client:
                    client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.kill()
                    problem = f"redis-server did not start (log: {self._log_path})"
                    raise RuntimeError(problem) from None
                time.sleep(0.02)

    def _client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=2, decode_responses=True
        )

    def command_counts(self) -> dict[str, int]:
        """Calls per command so far (`INFO commandstats`), without the bench's own INFO."""
        with self._client() as client:
            stats = client.info("commandstats")
        counts: dict[str, int] = {}
        for name, value in stats.items():
            command = name.removeprefix("cmdstat_")
            if command not in _OWN_COMMANDS and isinstance(value, dict):
                counts[command] = int(value.get("calls", 0))
        return counts

    def kill(self) -> None:
        """Gone at once (SIGKILL), as a crashed or unplugged Redis would be."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def counts_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Commands per name between two `command_counts()` readings (only those that ran)."""
    delta = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    return {name: count for name, count in sorted(delta.items()) if count > 0}
