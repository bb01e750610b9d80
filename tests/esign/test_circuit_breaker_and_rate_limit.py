"""A dead e签宝 costs a fast, honest answer; a flood of lookups stays under e签宝's quota."""

import threading
import time

import httpx
import pytest

from bot.esign.circuit_breaker import CircuitBreaker
from bot.esign.client import EsignClient, RetryPolicy
from bot.esign.errors import CircuitOpen, EsignUnavailable, FlowNotFound, RateLimited
from bot.esign.rate_limit import CallRateLimiter
from bot.esign.signing import SignatureAuth

FLOW = "803719636976683872"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_breaker_opens_after_threshold_and_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=10, monotonic=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    with pytest.raises(CircuitOpen, match="about 10 s"):
        breaker.before_call()
    clock.now += 10
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one trial at a time
    breaker.record_failure()  # trial failed: open again for a full cooldown
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 10
    breaker.before_call()
    breaker.record_success()
    assert not breaker.is_open
    breaker.before_call()


def test_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, cooldown=10)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.before_call()


def test_client_fails_fast_while_esign_is_down_and_recovers() -> None:
    clock = Clock()
    calls: list[int] = []
    up = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if not up.is_set():
            raise httpx.ConnectTimeout("down", request=request)
        return httpx.Response(200, json={"code": 30500001, "message": "认证流程不存在"})

    client = EsignClient(
        "https://esign.test",
        SignatureAuth("app", "secret"),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_retries=0),
        breaker=CircuitBreaker(failure_threshold=3, cooldown=5, monotonic=clock),
        monotonic=clock,
        sleep=clock.sleep,
    )
    for _ in range(3):
        with pytest.raises(EsignUnavailable):
            client.get_outline(FLOW)
    started = time.perf_counter()
    for _ in range(20):
        with pytest.raises(CircuitOpen):
            client.get_outline(FLOW)
    assert time.perf_counter() - started < 0.5
    assert len(calls) == 3  # no call reached e签宝 while open
    up.set()
    clock.now += 5
    with pytest.raises(FlowNotFound):  # e签宝 answers again: a real answer, breaker closes
        client.get_outline(FLOW)
    with pytest.raises(FlowNotFound):
        client.get_outline(FLOW)
    assert len(calls) == 5


def test_rate_limiter_paces_calls_to_the_quota() -> None:
    clock = Clock()
    limiter = CallRateLimiter(per_second=40, monotonic=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(400):
        limiter.acquire(max_wait=60)
    elapsed = clock.now - start
    # 400 calls at 40 per second take about 10 s, less the initial burst.
    assert 9.5 <= elapsed <= 10.1


def test_rate_limiter_refuses_a_wait_past_the_deadline() -> None:
    clock = Clock()
    limiter = CallRateLimiter(per_second=1, burst=1, monotonic=clock, sleep=clock.sleep)
    limiter.acquire(max_wait=0)
    with pytest.raises(RateLimited, match="pacing"):
        limiter.acquire(max_wait=0.5)


def test_rate_limiter_under_threads_stays_under_quota() -> None:
    limiter = CallRateLimiter(per_second=40)  # the bot's default
    stamps: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        limiter.acquire(max_wait=10)
        with lock:
            stamps.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    busiest = max(sum(1 for s in stamps if first <= s < first + 1.0) for first in stamps)
    # At most the burst (8) plus one second's refill (40): under e签宝's 50 QPS in any second.
    assert busiest <= 50


class _FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("limit", [40.0, 10.0, 5.0, 100.0])
def test_the_window_budget_never_lets_more_than_the_limit_into_any_second(limit: float) -> None:
    from bot.esign.rate_limit import window_budget

    rate, burst = window_budget(limit)
    fake = _FakeTime()
    limiter = CallRateLimiter(
        per_second=rate, burst=burst, monotonic=fake.monotonic, sleep=fake.sleep
    )
    calls = []
    for _ in range(int(limit * 5)):
        limiter.acquire(max_wait=10.0)
        calls.append(fake.now)
    busiest = max(sum(1 for t in calls if start <= t < start + 1.0) for start in calls)
    assert busiest <= limit
    # A ceiling, not a trickle: the sustained rate stays close to the limit.
    assert (len(calls) - burst) / (calls[-1] - calls[0]) >= 0.8 * limit
