"""GET /metrics on the real web process: two workers (WEB_CONCURRENCY=2) sharing a Redis, so a
scrape is answered by either, and each must show the whole process's figures."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.e2e.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotProcess,
    cards,
    start_bot,
)
from tests.redis_server import RedisServer

DOC_FLOW = "803719636976683872"
TOKEN = "metrics-token-5b0e1c"
COMMANDS = 6
SCRAPES = 12


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(Path(tmp_path_factory.mktemp("redis")))
    yield server.start()
    server.kill()


@pytest.fixture(scope="module")
def playground() -> Iterator[Playground]:
    made = Playground(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    made.start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def bot(
    simulator: EsignSimulator,
    playground: Playground,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotProcess]:
    log = tmp_path_factory.mktemp("metrics") / "bot.log"
    started = start_bot(
        simulator,
        playground,
        log,
        REDIS_URL=redis_server.url,
        WEB_CONCURRENCY="2",
        METRICS_TOKEN=TOKEN,
    )
    yield started
    assert started.stop() == 0, started.log()
    assert TOKEN not in started.log()


def scrape(bot: BotProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    # A new connection each time: either worker may take it.
    answer = httpx.get(
        f"{bot.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def test_every_scrape_shows_the_whole_process(
    bot: BotProcess,
    playground: Playground,
    simulator: EsignSimulator,
    fresh_flow: Callable[[str], str],
) -> None:
    assert len(re.findall(r"Spawning worker-\d+ with PID", bot.log())) == 2, bot.log()
    before = scrape(bot)
    flows = [fresh_flow(DOC_FLOW) for _ in range(COMMANDS)]
    for flow_id in flows:
        assert playground.slash_command(flow_id).acked_in_time
    playground.workspace.wait_for(cards(ephemeral=True, count=COMMANDS), timeout=15)

    def grew(
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
    ) -> float:
        return total(samples, name, **labels) - total(before, name, **labels)

    deadline = time.monotonic() + 5
    while grew(scrape(bot), "esign_flow_slack_api_calls_total", method="response_url") < COMMANDS:
        assert time.monotonic() < deadline, "response_url posts not counted"
        time.sleep(0.1)

    seen = [scrape(bot) for _ in range(SCRAPES)]
    for samples in seen:
        assert grew(samples, "esign_flow_lookups_total", outcome="ok", source="esign") == COMMANDS
        assert grew(samples, "esign_flow_esign_request_seconds_count", outcome="ok") == COMMANDS
        assert grew(samples, "esign_flow_ack_seconds_count", door="command") == COMMANDS
        assert (
            grew(samples, "esign_flow_slack_api_calls_total", method="response_url", outcome="ok")
            == COMMANDS
        )
        assert total(samples, "esign_flow_watches_active") == 0
        assert total(samples, "esign_flow_redis_up") == 1
        assert total(samples, "esign_flow_esign_breaker_open") == 0
        assert total(samples, "esign_flow_cache_entries") >= COMMANDS
    # Whichever worker answered, the counters agree.
    counters = [
        {key: value for key, value in samples.items() if key[0].endswith(("_total", "_count"))}
        for samples in seen
    ]
    assert all(c == counters[0] for c in counters)

    flow_like = re.compile(r"^\d{8,}$|^[UCTWDG][A-Z0-9]{6,}$")
    text = httpx.get(
        f"{bot.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ).text
    for flow_id in flows:
        assert flow_id not in text
    for samples in seen:
        for _name, labels in samples:
            for _label, value in labels:
                assert not flow_like.match(value), value


def test_the_token_guards_metrics(bot: BotProcess) -> None:
    url = f"{bot.base_url}/metrics"
    assert httpx.get(url, timeout=5).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 403
    assert httpx.get(url, headers={"Authorization": "Basic x"}, timeout=5).status_code == 401
    answer = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert answer.status_code == 200
    assert "esign_flow_lookups_total" in answer.text or "esign_flow_lookups" in answer.text
