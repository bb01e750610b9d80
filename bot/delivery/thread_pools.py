"""Start a thread pool's threads before the first request needs them.

ThreadPoolExecutor starts a thread only when work arrives and no thread is idle, and
Thread.start() waits until the new thread has run, which needs the GIL. Under load the GIL is
busy, so each start takes a switch interval or more (5 ms by default): the first burst that
needs 16 threads stalled its submitter for ~270 ms on the benchmark machine. That submitter is
the thread that serves acks (a web worker's request thread, or the Socket Mode link's reading
thread) handing a lookup to the background pool, so the stall lands on acks. Started at boot,
when the GIL is free, the threads cost a few milliseconds once.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Executor


def prestart_threads(pool: Executor, count: int, *, timeout: float = 2.0) -> None:
    """Make `pool` start `count` threads now: its max_workers (fewer is fine; a count above it
    waits `timeout` for threads that never come, then goes on).

    Each task waits for the others, so no thread is idle when the next task is submitted and
    the pool must start a new one for it.
    """
    if count < 1:
        return
    gate = threading.Barrier(count + 1, timeout=timeout)
    for _ in range(count):
        pool.submit(_wait_at, gate)
    _wait_at(gate)


def _wait_at(gate: threading.Barrier) -> None:
    # Broken: a pool smaller than asked for; the threads it has are started anyway.
    with contextlib.suppress(threading.BrokenBarrierError):
        gate.wait()
