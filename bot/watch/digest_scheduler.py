"""The background loop that posts each channel's daily digest, once.

Every tick it reads the digests set (a short list: one per channel that asked) and, for each one
due (bot.watch.digest_schedule), claims the channel's local date in the state store: only the
one process whose claim wins posts it, on a thread of its own, whatever the number of processes
and however often they restart. A digest found an hour late or more (the bot was down at the
time) is claimed too, and skipped with a log line, so no process posts it later.

The clock is injected (tests, the playground's "advance the clock").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from bot.state.digest_records import DigestSetting, DigestStore
from bot.state.records import StoreUnavailable
from bot.watch.digest_schedule import DueDigest, due_digest

log = logging.getLogger(__name__)

TICK_SECONDS: Final = 10.0
#: Digests composed at once: each paces its own lookups to the polls' share anyway.
DIGEST_THREADS: Final = 2


class DigestPoster(Protocol):
    def post_digest(self, setting: DigestSetting, due_at: datetime) -> bool:
        """Compose and post the channel's digest; whether a message was posted."""
        ...


class DigestScheduler:
    def __init__(
        self,
        store: DigestStore,
        poster: DigestPoster,
        *,
        clock: Callable[[], float] = time.time,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self._store = store
        self._poster = poster
        self._clock = clock
        self._tick = tick_seconds
        # What this process has settled already (claimed, or seen claimed elsewhere): no store
        # write every tick for a digest already posted today.
        self._settled: dict[tuple[str, str], datetime] = {}
        # Daemon threads, not a pool: a digest still waiting for the budget never holds up a
        # shutdown (its day is claimed, so it is not posted twice either way).
        self._slots = threading.BoundedSemaphore(DIGEST_THREADS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="digest-scheduler", daemon=True)

    def start(self) -> DigestScheduler:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def tick(self) -> list[DueDigest]:
        """One look at every digest; the ones this process claimed and handed to be posted."""
        now = self.now()
        self._forget_before(now - timedelta(days=3))
        started: list[DueDigest] = []
        for setting in self._store.all_digests():
            try:
                due = due_digest(setting, now)
            except (ValueError, TypeError, OverflowError):
                # One unreadable setting must not hold up every channel sorted after it.
                log.warning("skipped a digest setting it cannot schedule", exc_info=True)
                continue
            if due is None:
                continue
            key = (setting.channel_id, due.local_date)
            if key in self._settled:
                continue
            # Settled only once the store answered: a claim lost to a blip is tried next tick.
            claimed = self._store.claim_digest(setting.channel_id, due.local_date)
            self._settled[key] = due.due_at
            if not claimed:
                continue  # posted (or skipped) by another process, or before a restart
            if due.too_late:
                log.warning(
                    "daily digest skipped: the bot was down at its time and it is over an hour "
                    "late",
                    extra={
                        "channel": setting.channel_id,
                        "local_date": due.local_date,
                        "late_minutes": round((now - due.due_at).total_seconds() / 60),
                    },
                )
                continue
            threading.Thread(target=self._post, args=(due,), name="digest", daemon=True).start()
            started.append(due)
        return started

    def _post(self, due: DueDigest) -> None:
        # At most DIGEST_THREADS digests composed at once; the others wait here, on their own
        # threads, so the scheduler keeps claiming (a claimed digest is never "too late").
        with self._slots:
            try:
                posted = self._poster.post_digest(due.setting, due.due_at)
            except Exception:
                log.exception("daily digest failed", extra={"channel": due.setting.channel_id})
                return
        log.info(
            "daily digest done",
            extra={
                "channel": due.setting.channel_id,
                "local_date": due.local_date,
                "posted": posted,
                "late_seconds": round((self.now() - due.due_at).total_seconds()),
            },
        )

    def _forget_before(self, cutoff: datetime) -> None:
        for key in [k for k, at in self._settled.items() if at < cutoff]:
            del self._settled[key]

    def _run(self) -> None:
        while True:
            try:
                self.tick()
            except StoreUnavailable as exc:
                log.info("digests wait: the state store is unavailable", extra={"error": str(exc)})
            except Exception:
                log.exception("digest tick failed")
            if self._stop.wait(self._tick):
                return
