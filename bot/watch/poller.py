"""The background loop that looks at due watches, gently.

Every tick it takes the watches whose next look is due, leases each (so with several processes
on one Redis each watch is polled by one of them; a dead holder's lease runs out and another
takes over), and runs the looks on a small pool of its own, so people's lookups never wait
behind polls. Polls are paced to their own share of ESIGN_MAX_QPS: a poll that finds no room
waits for the next tick. Each tick also hands the notices Slack has not taken yet, once due
again, to threads of their own (bot.watch.notices: the lease and the back-off are there).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from bot.esign.errors import RateLimited
from bot.esign.rate_limit import CallPacer
from bot.state.records import Watch
from bot.watch.service import WatchService

log = logging.getLogger(__name__)

#: Share of ESIGN_MAX_QPS that polls may take; the rest is always left for people's lookups.
POLL_SHARE: Final = 0.25
TICK_SECONDS: Final = 1.0
#: Longer than one look can take (the lookup's own deadline), so a lease never lapses mid-look.
LEASE_SECONDS: Final = 60.0
BATCH: Final = 50
CALLBACK_THREADS: Final = 2
NOTICE_THREADS: Final = 2


class WatchPoller:
    def __init__(
        self,
        service: WatchService,
        pacer: CallPacer,
        *,
        threads: int = 2,
        tick_seconds: float = TICK_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._service = service
        self._pacer = pacer
        self._tick = tick_seconds
        self._lease_seconds = lease_seconds
        self.holder = f"poller-{uuid.uuid4().hex[:12]}"
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="watch")
        # A callback's look is someone being told now: it never queues behind a pass of polls,
        # which keep the poll pool busy whenever many watches are due.
        self._callbacks = ThreadPoolExecutor(
            max_workers=CALLBACK_THREADS, thread_name_prefix="watch-callback"
        )
        # Slack calls, apart from e签宝's looks: a Slack that hangs never holds up the polls.
        self._notices = ThreadPoolExecutor(
            max_workers=NOTICE_THREADS, thread_name_prefix="watch-notice"
        )
        self._in_flight: set[str] = set()
        self._notices_in_flight: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watch-poller", daemon=True)

    def start(self) -> WatchPoller:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._callbacks.shutdown(wait=False, cancel_futures=True)
        self._notices.shutdown(wait=False, cancel_futures=True)

    def submit(self, job: object) -> None:
        """Run other watch work (a callback's looks) off the request thread, on threads of its
        own."""
        if callable(job) and not self._stop.is_set():
            try:
                self._callbacks.submit(self._quietly, job)
            except RuntimeError:
                log.warning("watch work refused while shutting down")

    def tick(self) -> int:
        """One pass over the due watches; how many looks were started. The pass paces itself to
        the polls' share for about one tick, so the share is used, never exceeded."""
        started = 0
        pass_ends = time.monotonic() + self._tick
        for watch in self._service.due(BATCH):
            with self._lock:
                if watch.watch_id in self._in_flight:
                    continue
            if not self._service.lease(watch, self.holder, self._lease_seconds):
                continue  # another process polls this one
            try:
                self._pacer.acquire(max(0.0, pass_ends - time.monotonic()))
            except RateLimited:
                break  # the polls' share for this tick is used up: the rest wait for the next
            with self._lock:
                self._in_flight.add(watch.watch_id)
            self._pool.submit(self._check, watch)
            started += 1
        return started

    def retry_notices(self) -> int:
        """Hand the notices due again to the notice threads; how many."""
        handed = 0
        for notice in self._service.due_notices(BATCH):
            with self._lock:
                if notice.key in self._notices_in_flight:
                    continue
                self._notices_in_flight.add(notice.key)
            try:
                self._notices.submit(self._deliver, notice.key)
            except RuntimeError:
                return handed  # shutting down
            handed += 1
        return handed

    def _deliver(self, key: str) -> None:
        try:
            self._quietly(lambda: self._service.deliver_notice(key))
        finally:
            with self._lock:
                self._notices_in_flight.discard(key)

    def _run(self) -> None:
        # A pass starts every tick. A pass that had work paced itself over its tick already,
        # so the next one follows at once; waiting a whole tick after it polled at half the
        # share.
        next_pass = time.monotonic() + self._tick
        while not self._stop.wait(max(0.0, next_pass - time.monotonic())):
            self._quietly(self.retry_notices)
            self._quietly(self.tick)
            # Never a burst of passes to catch up after a slow one (a store that hung).
            next_pass = max(next_pass + self._tick, time.monotonic())

    def _check(self, watch: Watch) -> None:
        try:
            self._quietly(lambda: self._service.check(watch))
        finally:
            with self._lock:
                self._in_flight.discard(watch.watch_id)

    @staticmethod
    def _quietly(job: object) -> None:
        try:
            if callable(job):
                job()
        except Exception:
            log.exception("watch work failed")
