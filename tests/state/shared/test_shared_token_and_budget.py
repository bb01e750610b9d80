"""Token mode and the call budget across processes sharing one real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.esign.client import EsignClient
from bot.esign.errors import RateLimited
from bot.esign.rate_limit import CallRateLimiter
from bot.esign.token_auth import TokenAuth
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.state.shared.keys import KeySpace
from bot.state.shared.rate_budget import SharedCallBudget
from bot.state.shared.token_store import SharedTokens
from tests.redis_server import Engine, RedisServer

FLOW = "803719636976683872"
KEYS = KeySpace("sandbox", "app-1")


class TokenServer:
    """e签宝's token endpoints and one outline, as a MockTransport handler (one for all)."""

    def __init__(self, *, slow: float = 0.05) -> None:
        self.slow = slow
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/v1/oauth2/access_token", "/v1/oauth2/refresh_token"):
            time.sleep(self.slow)
            with self.lock:
                token = f"token-{len(self.issued) + 1}"
                self.issued.append(token)
                self.valid = {token}  # a new token ends the previous ones
            expires = int((time.time() + 7200) * 1000)
            data = {"token": token, "expiresIn": str(expires), "refreshToken": f"r-{token}"}
            return httpx.Response(200, json={"code": 0, "data": data})
        if request.headers.get("X-Tsign-Open-Token") not in self.valid:
            return httpx.Response(401, json={"code": 401, "message": "TOKEN错误"})
        data = {"flowId": FLOW, "flowStatus": "ING"}
        return httpx.Response(200, json={"code": 0, "message": "成功", "data": data})


class Process:
    def __init__(self, redis: SharedRedis, server: TokenServer) -> None:
        self.redis = redis
        self.auth = TokenAuth(
            "app-1",
            "token-secret",
            base_url="https://esign.test",
            share=SharedTokens(self.redis, KEYS),
        )
        self.client = EsignClient(
            "https://esign.test", self.auth, transport=httpx.MockTransport(server)
        )

    def close(self) -> None:
        self.client.close()
        self.redis.close()


@pytest.fixture
def token_server() -> TokenServer:
    return TokenServer()


@pytest.fixture
def fleet(redis_engine: Engine, token_server: TokenServer) -> Iterator[list[Process]]:
    """Four processes on one Redis server, then on a Redis Cluster."""
    processes = [Process(redis_engine.shared(), token_server) for _ in range(4)]
    yield processes
    for process in processes:
        process.close()


@pytest.fixture
def single_fleet(redis_url: str, token_server: TokenServer) -> Iterator[list[Process]]:
    """Two processes on the one server a test may kill."""
    processes = [Process(single(redis_url), token_server) for _ in range(2)]
    yield processes
    for process in processes:
        process.close()


def single(url: str) -> SharedRedis:
    return SharedRedis(redis_client(url), location="test", recheck_seconds=0.2)


def test_all_processes_fetch_one_token(fleet: list[Process], token_server: TokenServer) -> None:
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: fleet[n % 4].client.get_outline(FLOW), range(64)))
    assert {r.flow_id for r in results} == {FLOW}
    assert token_server.issued == ["token-1"]
    assert sum(p.auth.fetches for p in fleet) == 1


def test_a_refused_token_is_replaced_once_for_the_whole_fleet(
    fleet: list[Process], token_server: TokenServer
) -> None:
    for process in fleet:
        process.client.get_outline(FLOW)
    token_server.valid = set()  # e签宝 dropped the token early
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: fleet[n % 4].client.get_outline(FLOW), range(16)))
    assert len(token_server.issued) == 2


def test_without_redis_each_process_keeps_its_own_token(
    single_fleet: list[Process], token_server: TokenServer, redis_server: RedisServer
) -> None:
    fleet = single_fleet
    redis_server.kill()
    try:
        started = time.monotonic()
        fleet[0].client.get_outline(FLOW)
        fleet[0].client.get_outline(FLOW)
        assert time.monotonic() - started < 0.5
        assert token_server.issued == ["token-1"]
    finally:
        redis_server.start()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self.lock:
            self.waits.append(seconds)


def budget(
    shared: SharedRedis, sleeps: Sleeps, per_second: float = 10, burst: int = 2
) -> SharedCallBudget:
    # Connected already, as in a running process: the waits are counted from the first call.
    assert shared.status() == "ok"
    fallback = CallRateLimiter(per_second=per_second, burst=burst)
    return SharedCallBudget(
        shared,
        KEYS.call_budget,
        per_second=per_second,
        fallback=fallback,
        burst=burst,
        sleep=sleeps,
    )


def test_the_budget_holds_across_processes(redis_engine: Engine) -> None:
    sleeps = Sleeps()
    processes = [budget(redis_engine.shared(), sleeps) for _ in range(3)]
    for n in range(12):
        processes[n % 3].acquire(max_wait=5.0)
    # 10 per second with a burst of 2, counted for all three: two at once, then one per 0.1 s.
    waits = sorted(sleeps.waits)  # the first two never sleep
    assert waits == pytest.approx([0.1 * n for n in range(1, 11)], abs=0.03)


def test_a_wait_beyond_the_deadline_is_refused_and_reserves_nothing(
    redis_engine: Engine,
) -> None:
    sleeps = Sleeps()
    first, second = budget(redis_engine.shared(), sleeps), budget(redis_engine.shared(), sleeps)
    first.acquire(max_wait=0.0)
    second.acquire(max_wait=0.0)
    with pytest.raises(RateLimited) as refused:
        first.acquire(max_wait=0.05)
    assert refused.value.retry_after == pytest.approx(0.1, abs=0.02)
    second.acquire(max_wait=0.5)  # the refusal took no slot
    assert max(sleeps.waits) == pytest.approx(0.1, abs=0.02)


def test_without_redis_each_process_paces_itself(redis_url: str, redis_server: RedisServer) -> None:
    sleeps = Sleeps()
    pacer = budget(single(redis_url), sleeps, per_second=1000, burst=50)
    redis_server.kill()
    try:
        started = time.monotonic()
        for _ in range(20):
            pacer.acquire(max_wait=1.0)
        assert time.monotonic() - started < 0.2
        assert sleeps.waits == []  # the local bucket slept (for real, briefly) instead
    finally:
        redis_server.start()
