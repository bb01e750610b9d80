"""Refused requests, logged so that a flood of them cannot fill the disk or the log bill.

Anyone who can reach the public URL can send forged callbacks or unsigned Slack requests by the
thousand. Each is still answered (400/401/403/413…), but the log gets the first few of each kind
in full and then one counted summary per kind per window ("1,000 refused in the last 60 s").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Refusals of one kind logged in full per window, before the rest are only counted.
IN_FULL = 3
WINDOW_SECONDS = 60.0


@dataclass(slots=True)
class _Window:
    started: float
    seen: int = 0
    timer: threading.Timer | None = None


class RefusalLog:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        in_full: int = IN_FULL,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._in_full = in_full
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def refused(self, kind: str, message: str, **details: object) -> None:
        """One refusal of `kind`: logged in full while few, otherwise counted for the summary."""
        now = self._clock()
        with self._lock:
            window = self._windows.get(kind)
            if window is None or now - window.started >= self._window:
                if window is not None:
                    self._summarize(kind, window)
                window = self._windows[kind] = _Window(started=now)
            window.seen += 1
            in_full = window.seen <= self._in_full
            if not in_full and window.timer is None:
                # The summary is written when the window closes, even if no refusal follows.
                window.timer = threading.Timer(
                    max(0.0, window.started + self._window - now), self._close, (kind, window)
                )
                window.timer.daemon = True
                window.timer.start()
        if in_full:
            self._log.warning("refused: %s", message, extra={"refusal": kind, **details})

    def flush(self) -> None:
        """Write every pending summary now (at shutdown)."""
        with self._lock:
            for kind, window in list(self._windows.items()):
                self._summarize(kind, window)
            self._windows.clear()

    def _close(self, kind: str, window: _Window) -> None:
        with self._lock:
            if self._windows.get(kind) is window:
                del self._windows[kind]
                self._summarize(kind, window)

    def _summarize(self, kind: str, window: _Window) -> None:
        if window.timer is not None:
            window.timer.cancel()
        unlogged = window.seen - self._in_full
        if unlogged > 0:
            self._log.warning(
                "refused %d more requests of this kind in the last %s s (not logged one by one)",
                unlogged,
                f"{self._window:g}",
                extra={"refusal": kind, "refused_in_window": window.seen},
            )
