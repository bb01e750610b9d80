"""The benchmark's GC probe, loaded by every Python process that has this directory on
PYTHONPATH (`bench/run.py --gc-probe` puts it there for the subjects).

Each collection that takes 1 ms or more is appended to `$BENCH_GC_PROBE_DIR/gc-<pid>.log` as
`<time.monotonic() at its start> <milliseconds> <generation>`: CLOCK_MONOTONIC is the same clock
in every process here, so the bench lines the pauses up with its own send and ack times.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

_DIR = os.environ.get("BENCH_GC_PROBE_DIR")
_MIN_SECONDS = 0.001
_started = [0.0]


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.monotonic()
        return
    took = time.monotonic() - _started[0]
    if took < _MIN_SECONDS or _DIR is None:
        return
    line = f"{_started[0]:.6f} {took * 1000:.2f} {info.get('generation')}\n"
    with open(os.path.join(_DIR, f"gc-{os.getpid()}.log"), "a", encoding="ascii") as log:
        log.write(line)


if _DIR:
    gc.callbacks.append(_on_collection)
