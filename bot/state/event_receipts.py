"""Each Events API delivery handled once, however often Slack sends it.

Slack sends an event again (`X-Slack-Retry-Num`, up to three times) when it saw no answer within
3 s; the retry carries the same `event_id`. The first delivery claims the id in the state store,
which every process shares (SQLite file, or Redis), so a retry that reaches another process is
dropped too. When the store cannot answer, an in-process memory of recent ids takes over: one
process then still never runs an event twice, though another process could.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from cachetools import TTLCache

from bot.state.records import StateStore, StoreUnavailable

log = logging.getLogger(__name__)

#: Slack retries within minutes (immediately, after 1 min, after 5 min); an hour covers them.
KEEP_SECONDS: Final = 3600.0


class EventReceipts:
    def __init__(self, store: StateStore | None, *, keep_seconds: float = KEEP_SECONDS) -> None:
        self._store = store
        self._keep = keep_seconds
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=keep_seconds)
        self._lock = threading.Lock()

    def first_delivery(self, event_id: str | None) -> bool:
        """True the first time an event id is seen; an event without one is always handled."""
        if event_id is None:
            return True
        if self._store is not None:
            try:
                return self._store.claim_notice(f"event:{event_id}", self._keep)
            except StoreUnavailable as exc:
                log.warning("event dedup falls back to this process", extra={"error": str(exc)})
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = True
            return True
