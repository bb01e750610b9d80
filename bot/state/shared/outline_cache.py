"""Outlines cached in Redis for every process, with one e签宝 call per flow across all of them.

A lookup that misses takes a short per-flow lock (`SET NX PX`) and fetches; lookups elsewhere
wait for its result key, polling, for as long as the lock can live. The holder writes the
result before it lets go of the lock, or (on a failure) a short note naming itself and the
error, so its waiters answer with the same failure; no later lookup ever reads that note,
since failures are never cached as data. A holder that dies just lets its lock expire, and
one of the waiters takes over.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from bot.esign.errors import EsignError
from bot.flows.snapshot import FlowSnapshot
from bot.state.shared.connection import RedisClient, RedisUnavailable
from bot.state.shared.health import SharedRedis
from bot.state.shared.keys import KeySpace
from bot.state.shared.locks import ShortLock
from bot.state.shared.outline_codec import (
    decode_failure,
    decode_snapshot,
    encode_failure,
    encode_snapshot,
)

#: How often a waiter looks for the holder's result (one MGET each time).
POLL_SECONDS = 0.02

#: A fetched snapshot and how many more seconds it may be reused.
Fresh = tuple[FlowSnapshot, float]


class SharedOutlines:
    def __init__(
        self,
        shared: SharedRedis,
        keys: KeySpace,
        *,
        ttl_seconds: float,
        lock_seconds: float,
        poll_seconds: float = POLL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._shared = shared
        self._keys = keys
        self._ttl = ttl_seconds
        self._lock_seconds = lock_seconds
        self._poll = poll_seconds
        self._monotonic = monotonic
        self._sleep = sleep

    def get_or_fetch(self, flow_id: str, fetch: Callable[[], FlowSnapshot]) -> Fresh:
        """The shared snapshot, or `fetch()` once for all processes; without Redis, `fetch()`."""
        try:
            return self._shared_turn(flow_id, fetch)
        except RedisUnavailable:
            # Nothing was fetched yet on this path (the holder's path never raises this).
            return fetch(), self._ttl

    def put(self, flow_id: str, snapshot: FlowSnapshot) -> None:
        key = self._keys.outline(flow_id)
        value = encode_snapshot(snapshot)
        millis = max(1, int(self._ttl * 1000))
        self._quietly(lambda: self._shared.call(lambda client: client.set(key, value, px=millis)))

    def _shared_turn(self, flow_id: str, fetch: Callable[[], FlowSnapshot]) -> Fresh:
        lock = ShortLock(self._shared, self._keys.outline_lock(flow_id), seconds=self._lock_seconds)
        # Redis answering while no holder ever finishes would be a bug of ours: cap the wait.
        give_up_at = self._monotonic() + 2 * self._lock_seconds
        while True:
            found = self._read(flow_id)
            if found is not None:
                return found
            holder = lock.acquire()
            if holder is not None:
                return self._fetch_as_holder(flow_id, lock, holder, fetch)
            if self._monotonic() > give_up_at:
                return fetch(), self._ttl
            answered = self._wait_for(flow_id, lock)
            if answered is not None:
                return answered

    def _read(self, flow_id: str) -> Fresh | None:
        key = self._keys.outline(flow_id)

        def get_with_ttl(client: RedisClient) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.get(key)
            pipe.pttl(key)
            return list(pipe.execute())

        value, millis_left = self._shared.call(get_with_ttl)
        if not isinstance(value, str) or not isinstance(millis_left, int) or millis_left <= 0:
            return None
        snapshot = decode_snapshot(value, from_cache=True)
        return None if snapshot is None else (snapshot, min(self._ttl, millis_left / 1000))

    def _wait_for(self, flow_id: str, lock: ShortLock) -> Fresh | None:
        """The holder's result (or failure), or None once its lock is gone without one."""
        holder = lock.holder()
        if holder is None:
            return None
        keys = [self._keys.outline(flow_id), lock.key, self._keys.outline_failure(flow_id)]
        until = self._monotonic() + self._lock_seconds
        while self._monotonic() < until:
            self._sleep(self._poll)
            value, current, failure = self._shared.call(lambda client: client.mget(keys))
            if isinstance(value, str):
                # Fetched for this very wait: as fresh as this lookup's own call would be.
                snapshot = decode_snapshot(value, from_cache=False)
                if snapshot is not None:
                    return snapshot, self._ttl
            if isinstance(failure, str):
                error = _failure_of(holder, failure)
                if error is not None:
                    raise error
            if current != holder:
                return None
        return None

    def _fetch_as_holder(
        self, flow_id: str, lock: ShortLock, holder: str, fetch: Callable[[], FlowSnapshot]
    ) -> Fresh:
        try:
            snapshot = fetch()
        except EsignError as exc:
            note = json.dumps({"holder": holder, "error": encode_failure(exc)})
            failure_key = self._keys.outline_failure(flow_id)
            millis = int(self._lock_seconds * 1000)
            self._quietly(
                lambda: self._shared.call(lambda client: client.set(failure_key, note, px=millis))
            )
            self._quietly(lambda: lock.release(holder))
            raise
        except BaseException:
            self._quietly(lambda: lock.release(holder))
            raise
        # Result first, lock second: a waiter that sees the lock gone and no result knows the
        # holder failed or died.
        key = self._keys.outline(flow_id)
        value = encode_snapshot(snapshot)
        millis = max(1, int(self._ttl * 1000))
        self._quietly(lambda: self._shared.call(lambda client: client.set(key, value, px=millis)))
        self._quietly(lambda: lock.release(holder))
        return snapshot, self._ttl

    @staticmethod
    def _quietly(step: Callable[[], object]) -> None:
        """After the fetch, Redis trouble must not cost the answer already in hand."""
        with contextlib.suppress(RedisUnavailable):
            step()


def _failure_of(holder: str, note: str) -> EsignError | None:
    try:
        value = json.loads(note)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("holder") != holder:
        return None
    return decode_failure(str(value.get("error", "")))
