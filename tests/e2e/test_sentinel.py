"""Two bot processes (the Procfile's `web:` line) on a Sentinel-managed primary and replica, in
e签宝's token mode: the primary is killed mid-run, commands are still answered while the
sentinels fail over, and within seconds of the election everything the processes share works
through the new primary again: one e签宝 call per flow, one access token, one call budget, the
watches set before the failover, and each change told once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Message, Playground
from tests.e2e.conftest import BotProcess, start_bot
from tests.e2e.test_watch import moving_flow, notices, watched_card
from tests.redis_server import SentinelSet

DOC_FLOW = "803719636976683872"
MASTER = "esign-flow-primary"
REDIS_PASSWORD = "sentinel-redis-password-5c1e"
#: Low, so that the shared budget shows in the e签宝 calls' times within a couple of seconds:
#: a burst of 1 and 4 a second (bot.esign.rate_limit.window_budget), for both processes.
MAX_QPS = 5
#: Sent at once after the election, half through each process.
BUDGET_FLOWS = 10
#: How long after the kill the bots may take to share through the new primary (the sentinels
#: here decide a primary is down after 0.5 s; the bots look for it every 0.5 s).
ELECTION_SECONDS = 20


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
        "ESIGN_AUTH_MODE": "token",
        "ESIGN_MAX_QPS": str(MAX_QPS),
        # Only callbacks tell a change here: no poll comes during the test.
        "WATCH_FIRST_POLL_SECONDS": "30",
    }
    simulator.clear_faults()
    simulator.reset_stats()  # the token fetches are counted from here
    started = [
        start_bot(simulator, playground, logs / f"bot-{n}.log", **env)
        for n, playground in enumerate(playgrounds)
    ]
    yield started
    for bot in started:
        assert bot.stop() == 0, bot.log()
        assert REDIS_PASSWORD not in bot.log()


def card_of(playground: Playground, flow_id: str, timeout: float = 10.0) -> Message:
    """The private card of `flow_id` (the workspace is never reset: it holds a watched card)."""

    def shown(messages: list[Message]) -> Message | None:
        return next(
            (m for m in messages if m.is_ephemeral and f"Flow {flow_id}" in m.visible_text()), None
        )

    found: Message = playground.workspace.wait_for(shown, timeout=timeout)
    return found


def one_card(playground: Playground, flow_id: str) -> str:
    exchange = playground.slash_command(flow_id)
    assert exchange.acked_in_time, exchange
    return card_of(playground, flow_id).visible_text()


def shared_once(fleet: list[Playground], simulator: EsignSimulator, flow_id: str) -> bool:
    """Asked through both processes: did the second find the first's outline in Redis?"""
    one_card(fleet[0], flow_id)
    return "cached" in one_card(fleet[1], flow_id) and simulator.outline_calls(flow_id) == 1


def health(bot: BotProcess) -> dict[str, str]:
    answer: dict[str, str] = httpx.get(f"{bot.base_url}/healthz", timeout=5).json()
    return answer


def tokens_issued(simulator: EsignSimulator) -> int:
    return simulator.token_fetches + simulator.token_refreshes


def busiest_second(times: list[float]) -> int:
    """The most calls in any one-second window [t, t + 1)."""
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 1) for t in times)


def test_a_failover_costs_no_answer_and_all_sharing_resumes_on_the_new_primary(
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
    # The second process's own call to e签宝 takes the first one's token from Redis.
    assert "cached" not in one_card(playgrounds[1], fresh_flow(DOC_FLOW))
    assert (simulator.token_fetches, simulator.token_refreshes) == (1, 0)  # one for both
    # A watch set before the failover, on a card in the first workspace.
    watched_flow, move = moving_flow(simulator)
    watched_card(playgrounds[0], watched_flow)

    old_primary = sentinel_set.primary.port
    sentinel_set.primary.kill()  # SIGKILL
    killed = time.monotonic()
    # The sentinels still name the dead primary for a moment (down-after-milliseconds 500).
    assert health(bots[0])["redis"] == "down"
    flows = [fresh_flow(DOC_FLOW) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        exchanges = list(pool.map(lambda n: playgrounds[n % 2].slash_command(flows[n]), range(4)))
    assert all(e.acked_in_time for e in exchanges)
    for n, flow_id in enumerate(flows):  # answered from e签宝, each process on its own
        card_of(playgrounds[n % 2], flow_id)

    while not shared_once(playgrounds, simulator, fresh_flow(DOC_FLOW)):
        assert time.monotonic() - killed < ELECTION_SECONDS, "no sharing on the new primary"
        time.sleep(0.2)
    resumed = time.monotonic() - killed
    assert sentinel_set.primary_port() == sentinel_set.replica.port != old_primary
    print(f"sharing resumed {resumed:.1f} s after the primary was killed")
    for bot in bots:
        assert bot.process.poll() is None, bot.log()
        now = health(bot)
        assert (now["redis"], now["redis_kind"]) == ("ok", "sentinel")
        assert "is unreachable" in bot.log()  # the commands during the failover fell back

    # The token: still the one fetched before the failover (each process kept its copy while
    # Redis was away); and when e签宝 stops taking it, one process replaces it for both,
    # through the new primary.
    assert tokens_issued(simulator) == 1
    simulator.expire_tokens()
    for playground in playgrounds:
        assert "Flow " in one_card(playground, fresh_flow(DOC_FLOW))
    assert tokens_issued(simulator) == 2, (simulator.token_fetches, simulator.token_refreshes)

    # The budget: flows asked through both processes at once share one ESIGN_MAX_QPS.
    budget_flows = [fresh_flow(DOC_FLOW) for _ in range(BUDGET_FLOWS)]
    asked = time.time()
    with ThreadPoolExecutor(BUDGET_FLOWS) as pool:
        sent = list(
            pool.map(
                lambda n: playgrounds[n % 2].slash_command(budget_flows[n]), range(BUDGET_FLOWS)
            )
        )
    assert all(e.acked_in_time for e in sent)
    for n, flow_id in enumerate(budget_flows):
        card_of(playgrounds[n % 2], flow_id)
    outline_times = [
        r.time
        for r in simulator.requests()
        if r.time >= asked and any(f in r.path for f in budget_flows)
    ]
    assert len(outline_times) == BUDGET_FLOWS
    # Alone, each process would let 5 through in the first second and be done within ~1 s.
    assert busiest_second(outline_times) <= MAX_QPS + 1, sorted(outline_times)
    spread = max(outline_times) - min(outline_times)
    assert spread >= 1.5, sorted(outline_times)
    busiest = busiest_second(outline_times)
    print(f"{BUDGET_FLOWS} calls over {spread:.2f} s, at most {busiest} in a second")

    # The watch set before the failover is on the new primary; the change is told once,
    # though both processes hear of it (e签宝's callback reaches each).
    move("SUCCESS", "SUCCESS")
    for bot in bots:
        simulator.callback_url = f"{bot.base_url}/esign/callback"
        simulator.send_callback(watched_flow)

    def told(playground: Playground) -> int:
        return len(notices("C0GENERAL", watched_flow)(playground.workspace.messages()) or [])

    deadline = time.monotonic() + 10
    while sum(told(p) for p in playgrounds) < 1:
        assert time.monotonic() < deadline, "the watched flow's change was not told"
        time.sleep(0.1)
    time.sleep(1.5)  # the time a second notice would need to show up
    assert sum(told(p) for p in playgrounds) == 1
