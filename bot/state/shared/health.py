"""Whether Redis is worth asking right now, with one log line per loss and one per recovery.

After a failure every caller falls back at once, without touching the network, until the
recheck interval has passed; then one caller (a lookup or /healthz) probes again while the
others keep falling back. So a dead Redis costs at most one short timeout per interval.

The client is made on first use, not before: a Cluster client asks a node for the slot map as
it is made, and a Cluster that is down when the process starts must cost no more than a
server that is down (the first call fails, the rechecks find it later).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import RedisClusterException

from bot.state.shared.connection import RedisClient, RedisUnavailable, drop_connections, ping

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a command can fail with: a Cluster's own errors (no reachable node, a slot no primary
#: serves) are not RedisErrors.
FAILURES = (redis.RedisError, RedisClusterException, OSError)


class SharedScript:
    """A Lua script for `SharedRedis.call`, registered with the first client that runs it."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._script: Script | None = None

    def __call__(self, *, keys: list[str], args: list[Any], client: RedisClient) -> Any:
        if self._script is None:
            self._script = client.register_script(self._source)
        return self._script(keys=keys, args=args, client=client)


class SharedRedis:
    def __init__(
        self,
        client: RedisClient | Callable[[], RedisClient],
        *,
        location: str,
        recheck_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`client`, or how to make one (called on first use, again after a failed attempt)."""
        self._client: RedisClient | None = None
        self._connect: Callable[[], RedisClient]
        if isinstance(client, redis.Redis | RedisCluster):
            self._client = client
            self._connect = lambda: client
        else:
            self._connect = client
        self.location = location
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._connecting = threading.Lock()
        self._down_since: float | None = None
        self._next_probe = 0.0
        self._probing = False

    def call(self, operation: Callable[[RedisClient], T]) -> T:
        """Run `operation` on the client; raise RedisUnavailable instead of any Redis error."""
        probe = self._admit()
        try:
            result = operation(self._open())
        except FAILURES as exc:
            self._lost(exc)
            raise RedisUnavailable(type(exc).__name__) from None
        finally:
            if probe:
                with self._lock:
                    self._probing = False
        self._reached()
        return result

    def script(self, source: str) -> SharedScript:
        """A Lua script for `call` (registering sends nothing; the first call loads it)."""
        return SharedScript(source)

    def status(self) -> Literal["ok", "down"]:
        """For /healthz: a fresh PING (every primary's, on a Cluster) when Redis is up or due
        for a recheck."""
        try:
            self.call(ping)
        except RedisUnavailable:
            return "down"
        return "ok"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _open(self) -> RedisClient:
        client = self._client
        if client is not None:
            return client
        # Making a Cluster client asks its nodes for the slot map, which takes up to their
        # timeouts when they are down: one caller does it, the others fall back meanwhile
        # rather than queue behind it (or try again one after the other).
        if not self._connecting.acquire(blocking=False):
            raise RedisUnavailable("connecting")
        try:
            if self._client is None:
                self._client = self._connect()
            return self._client
        finally:
            self._connecting.release()

    def _admit(self) -> bool:
        """Let the call through (True when it is the recheck probe), or raise at once."""
        if self._down_since is None:
            return False
        with self._lock:
            if self._down_since is None:
                return False
            if self._probing or self._monotonic() < self._next_probe:
                raise RedisUnavailable("down")
            self._probing = True
            return True

    def _lost(self, exc: BaseException) -> None:
        with self._lock:
            first = self._down_since is None
            now = self._monotonic()
            if first:
                self._down_since = now
            self._next_probe = now + self._recheck
        if first:
            log.warning(
                "Redis at %s is unreachable (%s: %s): each process caches, paces its e签宝 "
                "calls and keeps its token on its own until it is back; trying it again every "
                "%g s",
                self.location,
                type(exc).__name__,
                str(exc)[:200],
                self._recheck,
            )
            if self._client is not None:
                drop_connections(self._client)

    def _reached(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            down_since, self._down_since = self._down_since, None
        if down_since is not None:
            log.warning(
                "Redis at %s is reachable again after %.0f s: sharing the cache, the token and "
                "the call budget again",
                self.location,
                self._monotonic() - down_since,
            )
