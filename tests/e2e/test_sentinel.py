"""Two bot processes (the Procfile's `web:` line) on a Sentinel-managed primary and replica: one
e签宝 call per flow across processes, then the primary is killed, commands are still answered
while the sentinels fail over, and within seconds the bots share through the new primary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.e2e.conftest import BotProcess, cards, start_bot
from tests.redis_server import SentinelSet

DOC_FLOW = "803719636976683872"
MASTER = "esign-flow-primary"
REDIS_PASSWORD = "sentinel-redis-password-5c1e"


@pytest.fixture(scope="module")
def sentinel_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSet]:
    made = SentinelSet(
        Path(tmp_path_factory.mktemp("sentinel")), master=MASTER, password=REDIS_PASSWORD
    )
    try:
        yield made.start()
    finally:
        made.stop()


@pytest.fixture(scope="module")
def bots(
    simulator: EsignSimulator,
    playgrounds: list[Playground],
    sentinel_set: SentinelSet,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[BotProcess]]:
    logs = tmp_path_factory.mktemp("sentinel-bots")
    env = {
        "REDIS_SENTINELS": sentinel_set.sentinels,
        "REDIS_SENTINEL_MASTER": MASTER,
        "REDIS_PASSWORD": REDIS_PASSWORD,
        "REDIS_RECHECK_SECONDS": "0.5",
        "CACHE_TTL_SECONDS": "30",
    }
    started = [
        start_bot(simulator, playground, logs / f"bot-{n}.log", **env)
        for n, playground in enumerate(playgrounds)
    ]
    yield started
    for bot in started:
        assert bot.stop() == 0, bot.log()
        assert REDIS_PASSWORD not in bot.log()


def one_card(playground: Playground, flow_id: str) -> str:
    exchange = playground.slash_command(flow_id)
    assert exchange.acked_in_time, exchange
    [card] = playground.workspace.wait_for(cards(ephemeral=True), timeout=10)
    playground.workspace.reset()
    return card.visible_text()


def shared_once(fleet: list[Playground], simulator: EsignSimulator, flow_id: str) -> bool:
    """Asked through both processes: did the second find the first's outline in Redis?"""
    one_card(fleet[0], flow_id)
    return "cached" in one_card(fleet[1], flow_id) and simulator.outline_calls(flow_id) == 1


def health(bot: BotProcess) -> dict[str, str]:
    answer: dict[str, str] = httpx.get(f"{bot.base_url}/healthz", timeout=5).json()
    return answer


def test_a_failover_costs_no_answer_and_sharing_resumes_on_the_new_primary(
    bots: list[BotProcess],
    playgrounds: list[Playground],
    simulator: EsignSimulator,
    sentinel_set: SentinelSet,
    fresh_flow: Callable[[str], str],
) -> None:
    for bot in bots:
        assert health(bot)["redis"] == "ok" and health(bot)["redis_kind"] == "sentinel"
        assert "sharing the outline cache" in bot.log()
    assert shared_once(playgrounds, simulator, fresh_flow(DOC_FLOW))

    old_primary = sentinel_set.primary.port
    sentinel_set.primary.kill()  # SIGKILL
    killed = time.monotonic()
    # The sentinels still name the dead primary for a moment (down-after-milliseconds 500).
    assert health(bots[0])["redis"] == "down"
    flows = [fresh_flow(DOC_FLOW) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        exchanges = list(pool.map(lambda n: playgrounds[n % 2].slash_command(flows[n]), range(4)))
    assert all(e.acked_in_time for e in exchanges)
    for playground in playgrounds:
        shown = playground.workspace.wait_for(cards(ephemeral=True, count=2), timeout=10)
        assert all("Flow " in card.visible_text() for card in shown)
        playground.workspace.reset()

    while not shared_once(playgrounds, simulator, fresh_flow(DOC_FLOW)):
        assert time.monotonic() - killed < 20, "sharing did not resume on the new primary"
        time.sleep(0.2)
    assert sentinel_set.primary_port() == sentinel_set.replica.port != old_primary
    print(f"sharing resumed {time.monotonic() - killed:.1f} s after the primary was killed")
    for bot in bots:
        assert bot.process.poll() is None, bot.log()
        now = health(bot)
        assert (now["redis"], now["redis_kind"]) == ("ok", "sentinel")
        assert "is unreachable" in bot.log()  # the commands during the failover fell back
