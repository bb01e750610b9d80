"""Two bot processes, each from the Procfile's `web:` line with two workers (WEB_CONCURRENCY=2),
against one password-protected Redis and one e签宝 simulator: what the issue asks of scaling out.

The module runs on each kind of Redis in turn: one server (REDIS_URL), a Sentinel-managed
primary and replica (REDIS_SENTINELS), a 3-primary Cluster (REDIS_CLUSTER_URL). Each process
gets its own Slack playground, so requests to both can run at once.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.e2e.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotProcess,
    bot_env,
    cards,
    procfile_command,
    start_bot,
)
from tests.redis_server import RedisServer, RunningRedis

DOC_FLOW = "803719636976683872"
#: Short in tests; the default (5 s) keeps the promise of finding Redis within 30 s.
RECHECK_SECONDS = 1.0
#: What /healthz says of each kind.
KINDS = {"redis": "url", "sentinel": "sentinel", "cluster": "cluster"}
ONE_SERVER = pytest.mark.parametrize("redis_engine", ["redis"], indirect=True)


@pytest.fixture
def redis_server(redis_engine: RunningRedis) -> RedisServer:
    """The one server, for the tests that kill it (Sentinel's failover has its own tests)."""
    assert redis_engine.server is not None
    return redis_engine.server


def scaled_env(redis_engine: RunningRedis, **extra: str) -> dict[str, str]:
    return {
        **redis_engine.env,
        "REDIS_RECHECK_SECONDS": str(RECHECK_SECONDS),
        "WEB_CONCURRENCY": "2",
        "CACHE_TTL_SECONDS": "30",
        **extra,
    }


@pytest.fixture(scope="module")
def bots(
    simulator: EsignSimulator,
    playgrounds: list[Playground],
    redis_engine: RunningRedis,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[BotProcess]]:
    logs = tmp_path_factory.mktemp("scale-out")
    started = [
        start_bot(simulator, playground, logs / f"bot-{n}.log", **scaled_env(redis_engine))
        for n, playground in enumerate(playgrounds)
    ]
    yield started
    for bot in started:
        assert bot.stop() == 0, bot.log()
        assert redis_engine.password not in bot.log()


@pytest.fixture
def fleet(
    bots: list[BotProcess], playgrounds: list[Playground], simulator: EsignSimulator
) -> list[Playground]:
    for bot, playground in zip(bots, playgrounds, strict=True):
        assert bot.process.poll() is None, bot.log()
        playground.workspace.reset()
    simulator.clear_faults()
    simulator.set_latency(0.0)
    simulator.reset_stats()
    return playgrounds


def one_card(playground: Playground, flow_id: str, timeout: float = 10.0) -> str:
    exchange = playground.slash_command(flow_id)
    assert exchange.acked_in_time, exchange
    [card] = playground.workspace.wait_for(cards(ephemeral=True), timeout=timeout)
    playground.workspace.reset()
    return card.visible_text()


def test_each_process_runs_two_workers_sharing_redis(
    bots: list[BotProcess], redis_engine: RunningRedis
) -> None:
    for bot in bots:
        assert len(re.findall(r"Spawning worker-\d+ with PID", bot.log())) == 2, bot.log()
        health = httpx.get(f"{bot.base_url}/healthz", timeout=5).json()
        assert (health["redis"], health["redis_kind"]) == ("ok", KINDS[redis_engine.name])
        assert "sharing the outline cache" in bot.log()


def test_a_stampede_through_both_processes_makes_one_esign_call(
    fleet: list[Playground], simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    simulator.set_latency(0.6, flow_id)  # every request arrives while the first is in flight
    per_process = 4
    with ThreadPoolExecutor(2 * per_process) as pool:
        exchanges = list(
            pool.map(lambda n: fleet[n % 2].slash_command(flow_id), range(2 * per_process))
        )
    assert all(e.acked_in_time for e in exchanges)
    for playground in fleet:
        shown = playground.workspace.wait_for(cards(ephemeral=True, count=per_process), timeout=10)
        assert all(f"Flow {flow_id}" in card.visible_text() for card in shown)
    assert simulator.outline_calls(flow_id) == 1


def test_a_flow_cached_through_one_is_warm_on_the_other(
    fleet: list[Playground], simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    first = one_card(fleet[0], flow_id)
    assert "cached" not in first
    time.sleep(1.1)
    second = one_card(fleet[1], flow_id)
    assert re.search(r"cached, \d+ s old", second), second  # the age is the fetch's, not 0
    assert "cached, 0 s old" not in second
    assert simulator.outline_calls(flow_id) == 1


@ONE_SERVER
def test_redis_killed_mid_run_then_back_on_the_same_port(
    fleet: list[Playground],
    bots: list[BotProcess],
    simulator: EsignSimulator,
    redis_server: RedisServer,
    fresh_flow: Callable[[str], str],
) -> None:
    redis_server.kill()
    flows = [fresh_flow(DOC_FLOW) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        exchanges = list(pool.map(lambda n: fleet[n % 2].slash_command(flows[n]), range(6)))
    slowest = max(e.elapsed for e in exchanges)
    assert all(e.acked_in_time for e in exchanges) and slowest < 3.0
    for playground in fleet:
        shown = playground.workspace.wait_for(cards(ephemeral=True, count=3), timeout=10)
        assert all("Flow " in card.visible_text() for card in shown)
        playground.workspace.reset()
    for bot in bots:
        assert bot.process.poll() is None, bot.log()
        assert httpx.get(f"{bot.base_url}/healthz", timeout=5).json()["redis"] == "down"

    redis_server.start()  # the same port, an empty Redis
    back = time.monotonic()
    while True:
        flow_id = fresh_flow(DOC_FLOW)
        one_card(fleet[0], flow_id)
        if "cached" in one_card(fleet[1], flow_id):
            break
        assert time.monotonic() - back < 30, "sharing did not resume within 30 s"
        time.sleep(0.2)
    resumed_after = time.monotonic() - back
    assert resumed_after < 30
    for bot in bots:
        log = bot.log()
        assert len(re.findall(r"Spawning worker-\d+ with PID", log)) == 2, (
            log
        )  # no worker died and was replaced
        lost = log.count("is unreachable")
        assert 1 <= lost <= 2, log  # one warning per worker that noticed, not one per request
        assert log.count("is reachable again") <= lost
        assert redis_server.password is not None and redis_server.password not in log


@pytest.fixture
def token_bots(
    simulator: EsignSimulator,
    playgrounds: list[Playground],
    redis_engine: RunningRedis,
    bots: list[BotProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[BotProcess]]:
    """Two more processes, in token mode, in place of the signature-mode ones."""
    simulator.reset_stats()
    logs = tmp_path_factory.mktemp("token-mode")
    env = scaled_env(redis_engine, ESIGN_AUTH_MODE="token")
    started = [
        start_bot(simulator, playground, logs / f"token-{n}.log", **env)
        for n, playground in enumerate(playgrounds)
    ]
    yield started
    for bot in started:
        assert bot.stop() == 0, bot.log()
        assert redis_engine.password not in bot.log()
    for playground, old in zip(playgrounds, bots, strict=True):
        playground.bot_events_url = f"{old.base_url}/slack/events"


# Sentinel's primary is one server like any: the token's keys only matter for a Cluster's slots.
@pytest.mark.parametrize("redis_engine", ["redis", "cluster"], indirect=True)
def test_in_token_mode_all_workers_fetch_one_token(
    token_bots: list[BotProcess],
    playgrounds: list[Playground],
    simulator: EsignSimulator,
    fresh_flow: Callable[[str], str],
) -> None:
    flows = [fresh_flow(DOC_FLOW) for _ in range(12)]
    with ThreadPoolExecutor(12) as pool:
        exchanges = list(pool.map(lambda n: playgrounds[n % 2].slash_command(flows[n]), range(12)))
    assert all(e.acked_in_time for e in exchanges)
    for playground in playgrounds:
        shown = playground.workspace.wait_for(cards(ephemeral=True, count=6), timeout=10)
        assert all("Flow " in card.visible_text() for card in shown), shown
        playground.workspace.reset()
    assert simulator.token_fetches == 1
    assert simulator.token_refreshes == 0
    obtained = sum(bot.log().count("e签宝 access token obtained") for bot in token_bots)
    assert obtained == 1


#: Fake, like the Socket Mode tests' token.
APP_TOKEN = "xapp-1-A0PLAYGRND-1-e2esocket"


@pytest.fixture
def socket_worker(
    simulator: EsignSimulator,
    redis_engine: RunningRedis,
    tmp_path: Path,
) -> Iterator[tuple[BotProcess, Playground]]:
    """The Procfile's `worker:` process (Socket Mode) on the same Redis as the web processes."""
    with Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ) as playground:
        env = bot_env(simulator, playground, SLACK_APP_TOKEN=APP_TOKEN, **scaled_env(redis_engine))
        del env["SLACK_SIGNING_SECRET"]
        with (tmp_path / "worker.log").open("wb") as log_file:
            process = subprocess.Popen(
                procfile_command("worker"),
                cwd=tmp_path,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        worker = BotProcess(process, base_url="", log_path=tmp_path / "worker.log")
        try:
            deadline = time.monotonic() + 20
            while not playground.wait_socket_connected(timeout=0.2):
                assert process.poll() is None, worker.log()
                assert time.monotonic() < deadline, worker.log()
            yield worker, playground
        finally:
            assert worker.stop() == 0, worker.log()
            assert redis_engine.password not in worker.log()


@ONE_SERVER
def test_the_web_and_the_socket_mode_worker_share_the_cache(
    fleet: list[Playground],
    socket_worker: tuple[BotProcess, Playground],
    simulator: EsignSimulator,
    fresh_flow: Callable[[str], str],
) -> None:
    worker, socket_playground = socket_worker
    flow_id = fresh_flow(DOC_FLOW)
    assert "cached" not in one_card(fleet[0], flow_id)
    assert "cached" in one_card(socket_playground, flow_id)
    assert simulator.outline_calls(flow_id) == 1
    assert "sharing the outline cache" in worker.log()
