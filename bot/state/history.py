"""Each person's own corner of the state store: their recent lookups and their language.

`PersonalHistory` is the only way the listeners and the delivery path reach those records; none
of its methods raises, because a store that is down (Redis restarting, a locked SQLite file)
must cost a person their history, never their answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cachetools import TTLCache

from bot.language import Language, language_of_locale
from bot.state.records import RecentLookup, StateStore, StoreUnavailable, Watch

log = logging.getLogger(__name__)

#: How long a burst of lookups may gather before it is written as one batch.
FLUSH_SECONDS = 0.5
#: A language chosen in another process shows within this long (this process's own at once).
LANGUAGE_CACHE_SECONDS = 30.0


class PersonalHistory:
    """Recent lookups are written behind the answer (coalesced, on a thread of their own) and
    languages are read through a short cache: the card a person waits for never waits on the
    store. Anything that reads the history first writes what is pending, so it is never stale.
    Someone who never chose a language gets their Slack locale's (`locale_of`, a user id to
    "zh-CN" and the like): 中文 for Chinese, both otherwise.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        clock: Callable[[], float] = time.time,
        flush_seconds: float = FLUSH_SECONDS,
        locale_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._store = store
        self._locale_of = locale_of
        self._clock = clock
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], RecentLookup] = {}
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._languages: TTLCache[str, Language] = TTLCache(
            maxsize=4096, ttl=LANGUAGE_CACHE_SECONDS
        )

    def record(self, user_id: str, flow_id: str, status: str) -> None:
        with self._lock:
            self._pending[(user_id, flow_id)] = RecentLookup(flow_id, status, self._clock())
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_behind, name="recent-lookups", daemon=True
                )
                self._writer.start()
        self._wake.set()

    def flush(self) -> None:
        """Write every pending lookup now (before a read, and at shutdown)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for (user_id, _), lookup in pending.items():
            try:
                self._store.add_recent(user_id, lookup)
            except StoreUnavailable as exc:
                log.warning("could not remember a recent lookup", extra={"error": str(exc)})

    def _write_behind(self) -> None:
        while True:
            self._wake.wait()
            # A moment's grace lets a burst of lookups become one write per person and flow.
            time.sleep(self._flush_seconds)
            self._wake.clear()
            self.flush()

    def recent(self, user_id: str) -> list[RecentLookup]:
        self.flush()
        try:
            return self._store.recent(user_id)
        except StoreUnavailable as exc:
            log.warning("could not read recent lookups", extra={"error": str(exc)})
            return []

    def clear(self, user_id: str) -> bool:
        self.flush()
        try:
            self._store.clear_recent(user_id)
        except StoreUnavailable as exc:
            log.warning("could not clear recent lookups", extra={"error": str(exc)})
            return False
        return True

    def language(self, user_id: str | None) -> Language:
        """The person's chosen language, else their Slack locale's; "both" when neither says
        or the store is down. May ask Slack: never call it on an ack."""
        if user_id is None:
            return "both"
        with self._lock:
            cached = self._languages.get(user_id)
        if cached is not None:
            return cached
        try:
            chosen = self._store.language(user_id)
        except StoreUnavailable as exc:
            log.warning("could not read a language preference", extra={"error": str(exc)})
            return "both"
        language = chosen or self._language_of_locale(user_id)
        with self._lock:
            self._languages[user_id] = language
        return language

    def _language_of_locale(self, user_id: str) -> Language:
        if self._locale_of is None:
            return "both"
        return language_of_locale(self._locale_of(user_id))

    def known_language(self, user_id: str | None) -> Language | None:
        """The person's language when this process knows it without asking the store (an ack
        may use it); None otherwise."""
        if user_id is None:
            return "both"
        with self._lock:
            return self._languages.get(user_id)

    def set_language(self, user_id: str, language: Language) -> bool:
        try:
            self._store.set_language(user_id, language)
        except StoreUnavailable as exc:
            log.warning("could not save a language preference", extra={"error": str(exc)})
            return False
        with self._lock:
            self._languages[user_id] = language
        return True

    def watches(self, user_id: str) -> list[Watch] | None:
        """The person's active watches, or None when the store could not say."""
        try:
            return self._store.watches_of_user(user_id)
        except StoreUnavailable as exc:
            log.warning("could not read watches", extra={"error": str(exc)})
            return None
