"""`ESIGN_MAX_QPS` for all processes together: one budget in Redis, paced by GCRA.

The generic cell rate algorithm keeps a single number per app, the theoretical arrival time of
the next call; one Lua script reads Redis's clock, reserves the caller's slot and says how long
to wait. It behaves like the per-process token bucket (same burst, same rate, a reserved slot
that waits its turn, a refusal when the wait would outlast the lookup's deadline), only counted
across every process; without Redis each process falls back to its own bucket.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.esign.errors import RateLimited, RateLimitSource
from bot.esign.rate_limit import CallPacer, default_burst
from bot.state.shared.connection import RedisUnavailable
from bot.state.shared.health import SharedRedis

# Times in microseconds, which a Lua number (a double) holds exactly for centuries to come.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return {0, math.floor(wait)} end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
           'PX', math.ceil((next_tat - now) / 1000) + 1000)
return {1, math.floor(wait)}
"""


class SharedCallBudget:
    def __init__(
        self,
        shared: SharedRedis,
        key: str,
        *,
        per_second: float,
        fallback: CallPacer,
        burst: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._shared = shared
        self._key = key
        self._interval_us = 1_000_000 / per_second
        calls = burst if burst is not None else default_burst(per_second)
        self._tolerance_us = self._interval_us * (calls - 1)
        self._fallback = fallback
        self._sleep = sleep
        self._script = shared.script(_RESERVE)

    def acquire(self, max_wait: float) -> None:
        """Take one call's slot, waiting up to `max_wait` seconds; raise RateLimited if not."""
        args = [self._interval_us, self._tolerance_us, int(max_wait * 1_000_000)]
        try:
            allowed, wait_us = self._shared.call(
                lambda client: self._script(keys=[self._key], args=args, client=client)
            )
        except RedisUnavailable:
            self._fallback.acquire(max_wait)
            return
        wait = int(wait_us) / 1_000_000
        if not allowed:
            raise RateLimited(RateLimitSource.PACING, retry_after=wait)
        if wait > 0:
            self._sleep(wait)
