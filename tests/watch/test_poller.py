"""The poller uses its whole share of ESIGN_MAX_QPS, and never more; a dead store warns once."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from bot.esign.rate_limit import CallRateLimiter
from bot.state.records import StateStore, StoreUnavailable, Watch
from bot.watch.poller import WatchPoller
from bot.watch.service import WatchLimits, WatchService


def _watch(n: int) -> Watch:
    return Watch(
        flow_id=f"80371963697668{n:04d}",
        user_id="U0WATCHER",
        team_id="T0TEAM",
        channel_id="C0SUPPORT",
        card_channel=None,
        card_ts=None,
        thread_ts=None,
        started_at=0.0,
        expires_at=1e12,
        next_poll_at=0.0,
    )


class DueService:
    """Always has more due watches than one tick can poll; counts the looks."""

    def __init__(self) -> None:
        self.checked = 0
        self.lock = threading.Lock()

    def due(self, limit: int) -> list[Watch]:
        return [_watch(n) for n in range(limit)]

    def lease(self, watch: Watch, holder: str, seconds: float) -> bool:
        return True

    def check(self, watch: Watch) -> None:
        with self.lock:
            self.checked += 1

    def due_notices(self, limit: int) -> list[object]:
        return []


def test_one_tick_polls_at_the_shares_rate_not_just_its_burst() -> None:
    service = DueService()
    poller = WatchPoller(service, CallRateLimiter(per_second=10.0), tick_seconds=1.0)  # type: ignore[arg-type]
    started = time.monotonic()
    polls = poller.tick()
    elapsed = time.monotonic() - started
    poller.stop()
    # 10 per second for one tick, plus the bucket's small burst; never the whole batch of 50.
    assert 9 <= polls <= 13, polls
    assert elapsed <= 1.3


def test_the_running_poller_keeps_its_whole_share_tick_after_tick() -> None:
    service = DueService()
    pacer = CallRateLimiter(per_second=20.0, burst=1)  # as window_budget() makes it
    poller = WatchPoller(service, pacer, tick_seconds=0.25)  # type: ignore[arg-type]
    poller.start()
    time.sleep(2.0)
    poller.stop()
    # 20 per second for 2 s: each pass paces itself over its tick, so passes follow each other
    # rather than a pass and then a tick of sleep (which polled at half the share).
    assert 32 <= service.checked <= 48, service.checked


class BusyService(DueService):
    """Its looks take until `release` is set: the poll pool stays full."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def check(self, watch: Watch) -> None:
        self.release.wait(5.0)
        super().check(watch)


def test_a_callbacks_look_never_waits_behind_a_pass_of_polls() -> None:
    service = BusyService()
    poller = WatchPoller(service, CallRateLimiter(per_second=50.0), tick_seconds=0.2)  # type: ignore[arg-type]
    try:
        assert poller.tick() > 2  # both poll threads busy, more polls queued behind them
        told = threading.Event()
        poller.submit(told.set)
        assert told.wait(1.0)
        assert service.checked == 0  # the polls are all still waiting
    finally:
        service.release.set()
        poller.stop()


class DeadStore:
    def __getattr__(self, name: str) -> object:
        def unavailable(*args: object, **kwargs: object) -> object:
            raise StoreUnavailable("ConnectionError")

        return unavailable


def test_a_dead_store_warns_once_a_minute_not_once_a_tick(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    store: StateStore = DeadStore()  # type: ignore[assignment]
    service = WatchService(store, lookup=None, notifier=None, limits=WatchLimits())  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="bot.watch.service"):
        for _ in range(30):
            assert service.due(50) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not read watches" in warnings[0].getMessage()
    assert sum(r.levelno == logging.DEBUG for r in caplog.records) == 29
