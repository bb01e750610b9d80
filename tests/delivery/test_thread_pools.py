"""A pool's threads are started at boot, so the first burst of work spawns none."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.delivery.background import BackgroundWork
from bot.delivery.thread_pools import prestart_threads


def _threads(prefix: str) -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith(prefix))


def test_every_thread_of_the_pool_is_running_before_work_arrives() -> None:
    pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="prestart-test")
    try:
        assert _threads("prestart-test") == 0
        prestart_threads(pool, 6)
        assert _threads("prestart-test") == 6
        gate = threading.Event()
        for _ in range(6):  # a burst as large as the pool: served by the threads already there
            pool.submit(gate.wait)
        assert _threads("prestart-test") == 6
        gate.set()
    finally:
        pool.shutdown(wait=True)


def test_asking_for_more_threads_than_the_pool_has_only_waits_its_timeout() -> None:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="prestart-small")
    try:
        started = time.monotonic()
        prestart_threads(pool, 5, timeout=0.2)
        assert time.monotonic() - started < 2.0
        assert _threads("prestart-small") == 2
        assert pool.submit(lambda: "still serving").result(timeout=2.0) == "still serving"
    finally:
        pool.shutdown(wait=True)


def test_the_background_pool_starts_its_threads_when_it_is_made() -> None:
    work = BackgroundWork(4, name="lookup-prestart")
    try:
        assert _threads("lookup-prestart") == 4
    finally:
        assert work.drain(2.0)
