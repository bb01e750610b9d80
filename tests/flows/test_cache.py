"""The TTL cache and the one-call-per-flow guarantee, with failures shared and never cached."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.esign.errors import EsignUnavailable, InvalidFlowId
from bot.flows.cache import FlowLookup
from tests.outline_sources import CountingSource

FLOW = "803719636976683872"


def test_second_lookup_within_ttl_is_cached_and_marked() -> None:
    clock = [0.0]
    source = CountingSource()
    lookup = FlowLookup(source, ttl_seconds=30, max_flows=10, monotonic=lambda: clock[0])
    first = lookup.get(FLOW)
    clock[0] = 29.0
    second = lookup.get(FLOW)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.fetched_at == first.fetched_at
    assert source.calls == [FLOW]
    clock[0] = 31.0
    third = lookup.get(FLOW)
    assert third.from_cache is False
    assert source.calls == [FLOW, FLOW]


def test_stampede_of_one_flow_makes_one_call() -> None:
    source = CountingSource(delay=0.2)
    lookup = FlowLookup(source, ttl_seconds=30, max_flows=10)
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda _: lookup.get(FLOW), range(100)))
    assert source.calls == [FLOW]
    assert {r.outline.flow_id for r in results} == {FLOW}


def test_failure_is_shared_by_waiters_and_not_cached() -> None:
    source = CountingSource(delay=0.2, fail=EsignUnavailable())
    lookup = FlowLookup(source, ttl_seconds=30, max_flows=10)

    def attempt(_: int) -> str:
        try:
            lookup.get(FLOW)
        except EsignUnavailable as exc:
            return exc.detail
        return "no error"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes == ["e签宝 did not answer in time"] * 20
    assert source.calls == [FLOW]
    source.fail = None
    assert lookup.get(FLOW).from_cache is False
    assert len(source.calls) == 2


def test_cache_is_bounded() -> None:
    source = CountingSource()
    lookup = FlowLookup(source, ttl_seconds=30, max_flows=100)
    flows = [f"8037196369766{n:05d}" for n in range(1000)]
    for flow_id in flows:
        lookup.get(flow_id)
    assert all(lookup.get(flow_id).from_cache for flow_id in flows[-100:])
    assert lookup.get(flows[0]).from_cache is False  # evicted long ago
    assert len(source.calls) == 1001


def test_zero_ttl_disables_caching() -> None:
    source = CountingSource()
    lookup = FlowLookup(source, ttl_seconds=0, max_flows=10)
    lookup.get(FLOW)
    assert lookup.get(FLOW).from_cache is False
    assert len(source.calls) == 2


def test_invalid_id_never_reaches_source() -> None:
    source = CountingSource()
    with pytest.raises(InvalidFlowId):
        FlowLookup(source, ttl_seconds=30, max_flows=10).get("80371963/../6976683872")
    assert source.calls == []
