"""Whether Redis is worth asking right now, with one log line per loss and one per recovery.

After a failure every caller falls back at once, without touching the network, until the
recheck interval has passed; then one caller (a lookup or /healthz) probes again while the
others keep falling back. So a dead Redis costs at most one short timeout per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal, TypeVar

import redis
from redis.commands.core import Script

from bot.state.shared.connection import RedisUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


class SharedRedis:
    def __init__(
        self,
        client: redis.Redis,
        *,
        location: str,
        recheck_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.location = location
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_probe = 0.0
        self._probing = False

    def call(self, operation: Callable[[redis.Redis], T]) -> T:
        """Run `operation` on the client; raise RedisUnavailable instead of any Redis error."""
        probe = self._admit()
        try:
            result = operation(self._client)
        except (redis.RedisError, OSError) as exc:
            self._lost(exc)
            raise RedisUnavailable(type(exc).__name__) from None
        finally:
            if probe:
                with self._lock:
                    self._probing = False
        self._reached()
        return result

    def script(self, source: str) -> Script:
        """A Lua script for `call` (registering sends nothing; the first call loads it)."""
        return self._client.register_script(source)

    def status(self) -> Literal["ok", "down"]:
        """For /healthz: a fresh PING when Redis is up or due for a recheck."""
        try:
            self.call(lambda client: client.ping())
        except RedisUnavailable:
            return "down"
        return "ok"

    def close(self) -> None:
        self._client.close()

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
            # Connections to a server that went away are dead; new ones reach it when it returns.
            self._client.connection_pool.disconnect()

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
