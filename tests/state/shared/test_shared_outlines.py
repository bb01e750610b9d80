"""Several lookups (as in several processes) over one real Redis: one e签宝 call per flow,
a warm cache for all, failures shared by waiters and never cached, a dead holder overtaken."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from bot.esign.errors import EsignUnavailable, FlowNotFound
from bot.flows.cache import FlowLookup
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.state.shared.keys import KeySpace
from bot.state.shared.outline_cache import SharedOutlines
from tests.outline_sources import CountingSource
from tests.redis_server import Engine, RedisServer

FLOW = "803719636976683872"
KEYS = KeySpace("sandbox", "7438000000000001")


class Process:
    """What one bot process has: its own Redis client, shared outlines and lookup."""

    def __init__(
        self, redis: SharedRedis, source: CountingSource, *, keys: KeySpace = KEYS
    ) -> None:
        self.redis = redis
        self.lookup = FlowLookup(
            source,
            ttl_seconds=30,
            max_flows=100,
            shared=SharedOutlines(self.redis, keys, ttl_seconds=30, lock_seconds=2.0),
        )

    def close(self) -> None:
        self.redis.close()


@pytest.fixture
def source() -> CountingSource:
    return CountingSource()


@pytest.fixture
def processes(redis_engine: Engine, source: CountingSource) -> Iterator[list[Process]]:
    """Three processes on one Redis server, then on a Redis Cluster."""
    made = [Process(redis_engine.shared(), source) for _ in range(3)]
    yield made
    for process in made:
        process.close()


@pytest.fixture
def single_processes(redis_url: str, source: CountingSource) -> Iterator[list[Process]]:
    """Two processes on the one server a test may kill."""
    made = [Process(single(redis_url), source) for _ in range(2)]
    yield made
    for process in made:
        process.close()


def single(url: str) -> SharedRedis:
    return SharedRedis(redis_client(url), location="test", recheck_seconds=0.2)


def test_a_stampede_through_several_processes_makes_one_call(
    processes: list[Process], source: CountingSource
) -> None:
    source.delay = 0.3
    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(lambda n: processes[n % 3].lookup.get(FLOW), range(60)))
    assert source.calls == [FLOW]
    assert {r.outline.flow_id for r in results} == {FLOW}
    assert len({r.fetched_at for r in results}) == 1


def test_a_flow_cached_through_one_is_warm_on_the_other_with_its_true_age(
    processes: list[Process], source: CountingSource, redis_engine: Engine
) -> None:
    first = processes[0].lookup.get(FLOW)
    other = processes[1].lookup.get(FLOW)
    assert (first.from_cache, other.from_cache) == (False, True)
    assert other.fetched_at == first.fetched_at  # the card's "cached, N s old" holds
    assert other.outline == first.outline
    assert source.calls == [FLOW]
    with redis_engine.raw() as client:
        key = f"esign-flow:sandbox:7438000000000001:{{flow:{FLOW}}}:outline"
        assert 29_000 < client.pttl(key) <= 30_000  # every key the bot writes expires
    assert [k for k in redis_engine.stored_keys() if "lock" in k] == []


def test_another_app_or_environment_never_reads_the_entry(
    redis_engine: Engine, source: CountingSource
) -> None:
    sandbox = Process(redis_engine.shared(), source)
    production = Process(
        redis_engine.shared(), source, keys=KeySpace("production", "5111000000000001")
    )
    try:
        sandbox.lookup.get(FLOW)
        assert production.lookup.get(FLOW).from_cache is False
        assert source.calls == [FLOW, FLOW]
    finally:
        sandbox.close()
        production.close()


def test_the_holders_failure_reaches_waiters_elsewhere_and_is_not_cached(
    processes: list[Process], source: CountingSource
) -> None:
    source.delay = 0.3
    source.fail = FlowNotFound(FLOW, code=30500001, message="流程不存在")

    def attempt(n: int) -> str:
        try:
            processes[n % 3].lookup.get(FLOW)
        except FlowNotFound as exc:
            return exc.title
        return "answered"

    with ThreadPoolExecutor(9) as pool:
        outcomes = list(pool.map(attempt, range(9)))
    assert outcomes == ["Flow not found"] * 9
    assert source.calls == [FLOW]
    source.fail = None
    source.delay = 0.0
    assert processes[1].lookup.get(FLOW).from_cache is False  # asked again, then cached
    assert len(source.calls) == 2


def test_a_holder_that_died_blocks_the_others_only_until_its_lock_expires(
    redis_engine: Engine, processes: list[Process], source: CountingSource
) -> None:
    with redis_engine.raw() as client:
        # A process took the lock and died before writing anything.
        client.set(KEYS.outline_lock(FLOW), "dead-holder", px=700)
    started = time.monotonic()
    snapshot = processes[0].lookup.get(FLOW)
    waited = time.monotonic() - started
    assert snapshot.from_cache is False and source.calls == [FLOW]
    assert 0.5 < waited < 1.5


def test_without_redis_the_lookup_answers_at_once_from_its_own_cache(
    single_processes: list[Process], source: CountingSource, redis_server: RedisServer
) -> None:
    processes = single_processes
    redis_server.kill()
    try:
        started = time.monotonic()
        first = processes[0].lookup.get(FLOW)
        second = processes[0].lookup.get(FLOW)
        took = time.monotonic() - started
        assert (first.from_cache, second.from_cache) == (False, True)
        assert took < 0.2
        # Each process on its own now: the other one calls e签宝 itself.
        assert processes[1].lookup.get(FLOW).from_cache is False
        assert source.calls == [FLOW, FLOW]
    finally:
        redis_server.start()


def test_wall_clock_age_is_kept_for_an_entry_read_later(
    redis_engine: Engine, source: CountingSource
) -> None:
    writer = Process(redis_engine.shared(), source)
    reader = Process(redis_engine.shared(), source)
    try:
        fetched = writer.lookup.get(FLOW).fetched_at
        time.sleep(0.05)
        read = reader.lookup.get(FLOW)
        assert read.fetched_at == fetched
        assert read.fetched_at < datetime.now(UTC)
    finally:
        writer.close()
        reader.close()


def test_a_transient_failure_is_shared_too(
    processes: list[Process], source: CountingSource
) -> None:
    source.delay = 0.2
    source.fail = EsignUnavailable()
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(processes[n % 2].lookup.get, FLOW) for n in range(4)]
    errors = [f.exception() for f in futures]
    assert all(isinstance(e, EsignUnavailable) for e in errors)
    assert source.calls == [FLOW]
