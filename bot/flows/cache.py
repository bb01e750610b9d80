"""Flow lookups through a short TTL cache, with one e签宝 call per flow however many ask at once.

cachetools' `cached(condition=...)` also coalesces misses, but when the call fails every waiter
then calls e签宝 again in turn; here the waiters share the leader's answer, failure included.
Failures are never cached: the next lookup after a failure asks e签宝 again.

With a `SharedOutlineCache` (Redis) the leader asks it instead of e签宝, and it makes the one
call for all processes; this process keeps what it got for as long as it stays fresh, so a
repeated lookup costs no round trip at all.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from cachetools import TLRUCache

from bot.esign.flow_id import validate_flow_id
from bot.esign.models import FlowOutline
from bot.flows.snapshot import FlowSnapshot


class OutlineSource(Protocol):
    def get_outline(self, flow_id: str) -> FlowOutline: ...


class SharedOutlineCache(Protocol):
    def get_or_fetch(
        self, flow_id: str, fetch: Callable[[], FlowSnapshot]
    ) -> tuple[FlowSnapshot, float]:
        """The snapshot (cached or fetched) and how many seconds it stays fresh; never raises
        for its own trouble: it calls `fetch` itself when it cannot help."""
        ...

    def put(self, flow_id: str, snapshot: FlowSnapshot) -> None:
        """Share a snapshot fetched outside `get_or_fetch`; quietly nothing without Redis."""
        ...


class _Entry(NamedTuple):
    snapshot: FlowSnapshot
    expires_at: float  # on the monotonic clock


class FlowLookup:
    def __init__(
        self,
        source: OutlineSource,
        *,
        ttl_seconds: float,
        max_flows: int,
        simulated: bool = False,
        shared: SharedOutlineCache | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = source
        self._simulated = simulated
        self._ttl = ttl_seconds
        self._shared = shared if ttl_seconds > 0 else None
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        # Per-entry expiry: a snapshot another process fetched has only its remaining life.
        self._cache: TLRUCache[str, _Entry] | None = (
            TLRUCache(
                maxsize=max_flows, ttu=lambda _k, entry, _now: entry.expires_at, timer=monotonic
            )
            if ttl_seconds > 0
            else None
        )
        self._in_flight: dict[str, Future[FlowSnapshot]] = {}

    @property
    def simulated(self) -> bool:
        return self._simulated

    @property
    def cached_flows(self) -> int:
        """Flows this process holds (an expired one until something pushes it out)."""
        return len(self._cache) if self._cache is not None else 0

    def peek(self, flow_id: str) -> FlowSnapshot | None:
        """This process's cached answer, or None: never a call, to e签宝 or to Redis, so an ack
        can use it (the modal shows cached cards at once)."""
        with self._lock:
            entry = self._cache.get(flow_id) if self._cache is not None else None
        return None if entry is None else dataclasses.replace(entry.snapshot, from_cache=True)

    def get(self, flow_id: str) -> FlowSnapshot:
        """The flow's outline, from the cache when it is fresh enough; raises EsignError."""
        flow_id = validate_flow_id(flow_id)
        with self._lock:
            cached = self._cache.get(flow_id) if self._cache is not None else None
            if cached is not None:
                return dataclasses.replace(cached.snapshot, from_cache=True)
            pending = self._in_flight.get(flow_id)
            leader = pending is None
            if pending is None:
                pending = Future()
                self._in_flight[flow_id] = pending
        if not leader:
            return pending.result()
        try:
            if self._shared is None:
                snapshot, fresh_for = self._fetch(flow_id), self._ttl
            else:
                snapshot, fresh_for = self._shared.get_or_fetch(
                    flow_id, lambda: self._fetch(flow_id)
                )
        except BaseException as exc:
            with self._lock:
                del self._in_flight[flow_id]
            pending.set_exception(exc)
            raise
        with self._lock:
            if self._cache is not None and fresh_for > 0:
                self._cache[flow_id] = _Entry(snapshot, self._monotonic() + fresh_for)
            del self._in_flight[flow_id]
        pending.set_result(snapshot)
        return snapshot

    def refresh(self, flow_id: str) -> FlowSnapshot:
        """A fresh answer from e签宝 whatever the cache holds (an e签宝 callback said the flow
        moved); the cache, shared or not, keeps it for the others. Raises EsignError."""
        flow_id = validate_flow_id(flow_id)
        snapshot = self._fetch(flow_id)
        if self._shared is not None:
            self._shared.put(flow_id, snapshot)
        with self._lock:
            if self._cache is not None:
                self._cache[flow_id] = _Entry(snapshot, self._monotonic() + self._ttl)
        return snapshot

    def _fetch(self, flow_id: str) -> FlowSnapshot:
        return FlowSnapshot(
            outline=self._source.get_outline(flow_id),
            fetched_at=self._wall_clock(),
            from_cache=False,
            simulated=self._simulated,
        )
