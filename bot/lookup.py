"""Flow lookups through a short TTL cache, with one e签宝 call per flow however many ask at once.

cachetools' `cached(condition=...)` also coalesces misses, but when the call fails every waiter
then calls e签宝 again in turn; here the waiters share the leader's answer, failure included.
Failures are never cached: the next lookup after a failure asks e签宝 again.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Protocol

from cachetools import TTLCache

from bot.esign.flow_id import validate_flow_id
from bot.esign.models import FlowOutline
from bot.snapshot import FlowSnapshot


class OutlineSource(Protocol):
    def get_outline(self, flow_id: str) -> FlowOutline: ...


class FlowLookup:
    def __init__(
        self,
        source: OutlineSource,
        *,
        ttl_seconds: float,
        max_flows: int,
        simulated: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = source
        self._simulated = simulated
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._cache: TTLCache[str, FlowSnapshot] | None = (
            TTLCache(maxsize=max_flows, ttl=ttl_seconds, timer=monotonic)
            if ttl_seconds > 0
            else None
        )
        self._in_flight: dict[str, Future[FlowSnapshot]] = {}

    @property
    def simulated(self) -> bool:
        return self._simulated

    def get(self, flow_id: str) -> FlowSnapshot:
        """The flow's outline, from the cache when it is fresh enough; raises EsignError."""
        flow_id = validate_flow_id(flow_id)
        with self._lock:
            cached = self._cache.get(flow_id) if self._cache is not None else None
            if cached is not None:
                return dataclasses.replace(cached, from_cache=True)
            pending = self._in_flight.get(flow_id)
            leader = pending is None
            if pending is None:
                pending = Future()
                self._in_flight[flow_id] = pending
        if not leader:
            return pending.result()
        try:
            outline = self._source.get_outline(flow_id)
            snapshot = FlowSnapshot(
                outline=outline,
                fetched_at=self._wall_clock(),
                from_cache=False,
                simulated=self._simulated,
            )
        except BaseException as exc:
            with self._lock:
                del self._in_flight[flow_id]
            pending.set_exception(exc)
            raise
        with self._lock:
            if self._cache is not None:
                self._cache[flow_id] = snapshot
            del self._in_flight[flow_id]
        pending.set_result(snapshot)
        return snapshot

    def cached_count(self) -> int:
        with self._lock:
            return len(self._cache) if self._cache is not None else 0
