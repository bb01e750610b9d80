"""When e签宝 keeps failing, stop sending it work for a while and say so at once.

Without this, every lookup during an outage would wait out its whole deadline (timeouts and
retries) and the queue of people waiting would only grow. After `failure_threshold` transient
failures in a row the breaker opens: lookups fail fast with CircuitOpen for `cooldown`
seconds, then a single trial call is let through; its outcome closes or re-opens the breaker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.esign.errors import CircuitOpen


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failure_threshold
        self._cooldown = cooldown
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go to e签宝 now."""
        with self._lock:
            if self._opened_at is None:
                return
            waited = self._monotonic() - self._opened_at
            if waited >= self._cooldown and not self._trial_in_flight:
                self._trial_in_flight = True
                return
            retry_in = max(1, round(self._cooldown - waited))
            raise CircuitOpen(retry_in)

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_in_flight or self._failures >= self._threshold:
                self._opened_at = self._monotonic()
            self._trial_in_flight = False
