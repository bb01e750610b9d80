"""Slow work (e签宝 lookups, replies to Slack) runs here, after the listener has acked.

Bolt's listener pool only has to run `ack()` and hand over, so however slow e签宝 is, no Slack
request waits for a free thread to be acknowledged. Nothing submitted here can raise into a
worker thread: a failure is logged and the thread lives on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.delivery.thread_pools import prestart_threads

log = logging.getLogger(__name__)


class BackgroundWork:
    def __init__(self, workers: int, *, name: str = "lookup") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        # Not on the first burst's way: a request thread handing over a lookup would wait.
        prestart_threads(self._pool, workers)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = False

    def submit(self, job: Callable[[], object]) -> bool:
        """Queue `job`; False when shutting down (the caller tells the user instead)."""
        with self._lock:
            if self._closed:
                return False
            self._pending += 1
        try:
            self._pool.submit(self._run, job)
        except RuntimeError:
            self._finished()
            return False
        return True

    def drain(self, timeout: float) -> bool:
        """Stop taking work and wait for what was accepted; True when all of it finished."""
        with self._lock:
            self._closed = True
            done = self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)
        self._pool.shutdown(wait=done, cancel_futures=not done)
        return done

    def _run(self, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:
            log.exception("background job failed")
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._lock:
            self._pending -= 1
            self._idle.notify_all()
