"""Keeps the bot's calls to e签宝 under the app's QPS quota (50 by default at e签宝).

A token bucket shared by all threads: a call waits for a token, but never past the lookup's own
deadline; a lookup that would have to wait longer is told e签宝 is busy instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from bot.esign.errors import RateLimited, RateLimitSource


class CallPacer(Protocol):
    """What the client asks before each call: this process's bucket or a budget shared by all."""

    def acquire(self, max_wait: float) -> None: ...


def default_burst(per_second: float) -> int:
    # Any one-second window sees at most burst + per_second calls: keep the burst small.
    return max(1, int(per_second // 5))


def window_budget(limit: float) -> tuple[float, int]:
    """A rate and burst with which no one-second window ever sees more than `limit` calls.

    A bucket lets its burst and a second's worth of its rate through in one second, so the
    burst is taken out of the rate (ESIGN_MAX_QPS is a ceiling, not an average).
    """
    burst = max(1, int(limit // 20))
    return max(limit - burst, limit / 2), burst


class CallRateLimiter:
    def __init__(
        self,
        *,
        per_second: float,
        burst: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = per_second
        self._capacity = float(burst if burst is not None else default_burst(per_second))
        self._tokens = self._capacity
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._updated = monotonic()

    def acquire(self, max_wait: float) -> None:
        """Take one call's token, waiting up to `max_wait` seconds; raise RateLimited if not."""
        with self._lock:
            now = self._monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            # Reserve the token now (the balance may go negative) so waiters queue in order.
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._rate
            if wait > max_wait:
                raise RateLimited(RateLimitSource.PACING, retry_after=wait)
            self._tokens -= 1
        if wait > 0:
            self._sleep(wait)
