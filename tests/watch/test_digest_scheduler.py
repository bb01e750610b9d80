"""The digest scheduler posts each channel's digest once a day: across ticks, restarts and
processes (a claim in the store), late by less than an hour after an outage, never later."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.state.digest_records import DigestSetting
from bot.state.records import StateStore, StoreUnavailable
from bot.state.redis_store import RedisStateStore
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.state.sqlite_store import SqliteStateStore
from bot.watch.digest_scheduler import DigestScheduler
from tests.redis_server import RedisServer, require_redis_server

#: 09:30 in Shanghai on 2 March 2026.
DUE = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


class Recorder:
    """Stands in for the digest door: records what it was asked to post."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, datetime]] = []
        self.done = threading.Event()

    def post_digest(self, setting: DigestSetting, due_at: datetime) -> bool:
        self.posted.append((setting.channel_id, due_at))
        self.done.set()
        return True


def daily(channel: str = "C0SUPPORT") -> DigestSetting:
    return DigestSetting(
        channel_id=channel,
        team_id=None,
        user_id="U0SETTER",
        hour=9,
        minute=30,
        tz="Asia/Shanghai",
        set_at=(DUE - timedelta(days=1)).timestamp(),
    )


def settle(recorder: Recorder, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(recorder.posted) < count and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite3"


def test_a_digest_is_posted_once_when_due_and_not_again_after_a_restart(
    sqlite_path: Path,
) -> None:
    store = SqliteStateStore(sqlite_path)
    store.put_digest(daily())
    clock = Clock(DUE - timedelta(seconds=5))
    recorder = Recorder()
    scheduler = DigestScheduler(store, recorder, clock=clock)
    assert scheduler.tick() == []
    clock.at = DUE + timedelta(seconds=3)
    assert len(scheduler.tick()) == 1
    assert scheduler.tick() == []
    settle(recorder, 1)
    scheduler.stop()
    assert recorder.posted == [("C0SUPPORT", DUE)]

    restarted = DigestScheduler(SqliteStateStore(sqlite_path), recorder, clock=clock)
    clock.at = DUE + timedelta(minutes=10)
    assert restarted.tick() == []
    # The next day it comes again.
    clock.at = DUE + timedelta(days=1, seconds=1)
    assert len(restarted.tick()) == 1
    settle(recorder, 2)
    restarted.stop()
    assert recorder.posted[-1] == ("C0SUPPORT", DUE + timedelta(days=1))


def test_after_an_outage_a_digest_under_an_hour_late_is_posted(sqlite_path: Path) -> None:
    store = SqliteStateStore(sqlite_path)
    store.put_digest(daily())
    recorder = Recorder()
    # The process was down at 09:30 and comes back at 10:25.
    scheduler = DigestScheduler(store, recorder, clock=Clock(DUE + timedelta(minutes=55)))
    assert len(scheduler.tick()) == 1
    settle(recorder, 1)
    scheduler.stop()
    assert recorder.posted == [("C0SUPPORT", DUE)]


def test_over_an_hour_late_it_is_skipped_with_a_log_line_by_every_process(
    sqlite_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqliteStateStore(sqlite_path)
    store.put_digest(daily())
    recorder = Recorder()
    clock = Clock(DUE + timedelta(minutes=61))
    with caplog.at_level(logging.WARNING, logger="bot.watch.digest_scheduler"):
        assert DigestScheduler(store, recorder, clock=clock).tick() == []
    assert any("daily digest skipped" in r.getMessage() for r in caplog.records)
    again = DigestScheduler(SqliteStateStore(sqlite_path), recorder, clock=clock)
    assert again.tick() == []
    assert recorder.posted == []


def test_a_digest_set_after_its_time_waits_for_tomorrow(sqlite_path: Path) -> None:
    store = SqliteStateStore(sqlite_path)
    store.put_digest(dataclasses.replace(daily(), set_at=(DUE + timedelta(minutes=5)).timestamp()))
    recorder = Recorder()
    clock = Clock(DUE + timedelta(minutes=6))
    scheduler = DigestScheduler(store, recorder, clock=clock)
    assert scheduler.tick() == []
    clock.at = DUE + timedelta(days=1, seconds=1)
    assert len(scheduler.tick()) == 1
    scheduler.stop()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(Path(tmp_path_factory.mktemp("redis-digest-scheduler"))).start()
    yield server
    server.kill()


def test_two_processes_on_one_redis_post_each_channels_digest_once(
    redis_server: RedisServer,
) -> None:
    redis_server.flush()

    def process_store() -> StateStore:
        shared = SharedRedis(redis_client(redis_server.url), location="test")
        return RedisStateStore(shared, "esign-flow:sandbox:test-app")

    first_store, second_store = process_store(), process_store()
    for channel in ("C0SUPPORT", "C0ONCALL", "C0SALES"):
        first_store.put_digest(daily(channel))
    clock = Clock(DUE + timedelta(seconds=2))
    recorder = Recorder()
    schedulers = [DigestScheduler(s, recorder, clock=clock) for s in (first_store, second_store)]
    started: list[int] = []
    threads = [
        threading.Thread(target=lambda s=s: started.append(len(s.tick()))) for s in schedulers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    settle(recorder, 3)
    for scheduler in schedulers:
        scheduler.stop()
    assert sum(started) == 3
    assert sorted(channel for channel, _ in recorder.posted) == ["C0ONCALL", "C0SALES", "C0SUPPORT"]


class BlinkingStore(SqliteStateStore):
    """The store away for one claim (a Redis failover's seconds, a locked file)."""

    blinks = 1

    def claim_digest(self, channel_id: str, local_date: str) -> bool:
        if self.blinks:
            self.blinks -= 1
            raise StoreUnavailable("away for a moment")
        return super().claim_digest(channel_id, local_date)


def test_a_claim_lost_to_a_store_blip_is_tried_again_at_the_next_tick(sqlite_path: Path) -> None:
    store = BlinkingStore(sqlite_path)
    store.put_digest(daily())
    recorder = Recorder()
    scheduler = DigestScheduler(store, recorder, clock=Clock(DUE + timedelta(seconds=3)))
    with pytest.raises(StoreUnavailable):
        scheduler.tick()
    assert len(scheduler.tick()) == 1
    settle(recorder, 1)
    scheduler.stop()
    assert recorder.posted == [("C0SUPPORT", DUE)]


def test_a_setting_that_cannot_be_scheduled_holds_up_no_other_channel(sqlite_path: Path) -> None:
    store = SqliteStateStore(sqlite_path)
    store.put_digest(dataclasses.replace(daily("C0AAAABROKEN"), hour=24))
    store.put_digest(daily("C0ZZZZFINE"))
    recorder = Recorder()
    scheduler = DigestScheduler(store, recorder, clock=Clock(DUE + timedelta(seconds=3)))
    assert [due.setting.channel_id for due in scheduler.tick()] == ["C0ZZZZFINE"]
    settle(recorder, 1)
    scheduler.stop()
    assert recorder.posted == [("C0ZZZZFINE", DUE)]


class SlowPoster(Recorder):
    """Digests that take their time (a cold cache waiting for the polls' share)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def post_digest(self, setting: DigestSetting, due_at: datetime) -> bool:
        self.release.wait(5)
        return super().post_digest(setting, due_at)


def test_slow_digests_never_hold_up_the_claims_of_the_others(sqlite_path: Path) -> None:
    store = SqliteStateStore(sqlite_path)
    channels = [f"C0CHANNEL{n}" for n in range(5)]
    for channel in channels:
        store.put_digest(daily(channel))
    poster = SlowPoster()
    scheduler = DigestScheduler(store, poster, clock=Clock(DUE + timedelta(seconds=3)))
    started = time.monotonic()
    assert len(scheduler.tick()) == 5  # all claimed at their time, two composed at once
    assert time.monotonic() - started < 1.0
    poster.release.set()
    settle(poster, 5)
    scheduler.stop()
    assert sorted(channel for channel, _ in poster.posted) == channels
