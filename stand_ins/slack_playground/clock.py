"""The playground's clock: the time a local run's bot keeps for its daily digests, which a
person moves forward from the page ("Advance the clock") to see a digest without waiting.

Only the digests read it (handed to the runtime by the local run); everything else in the bot
keeps the machine's time.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo


class PlaygroundClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0

    def __call__(self) -> float:
        """Epoch seconds, as the bot's digests see them."""
        with self._lock:
            return time.time() + self._offset

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0

    def local(self, tz: str, *, ahead_seconds: float = 0.0) -> datetime:
        """The clock's time in a zone, `ahead_seconds` from now."""
        return datetime.fromtimestamp(self() + ahead_seconds, ZoneInfo(tz))
