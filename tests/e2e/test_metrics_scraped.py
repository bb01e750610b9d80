"""GET /metrics on the real web process: two workers (WEB_CONCURRENCY=2) sharing a Redis, so a
scrape is answered by either, and each must show the whole process's figures."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import COLLEAGUE_USER_ID, VIEWER_USER_ID, Playground
from stand_ins.slack_playground.surfaces import Execution, Surfaces
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
    playground.workspace.reset()  # only these commands' cards count below
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


def web_api_calls(playground: Playground) -> Counter[str]:
    """What the Slack stand-in was asked, each try its own, by method."""
    return Counter(c.method for c in playground.workspace.calls() if c.kind == "web_api")


def test_every_web_api_call_is_counted_by_its_method(
    bot: BotProcess, playground: Playground, fresh_flow: Callable[[str], str]
) -> None:
    calls = "esign_flow_slack_api_calls_total"
    before, asked_before = scrape(bot), web_api_calls(playground)
    # The Home tab (views.publish, the person's Slack locale by users.info) and a workflow
    # step, finished through the client Bolt makes for the request (functions.completeSuccess).
    playground.doors.open_home(user_id=COLLEAGUE_USER_ID)
    playground.workspace.surfaces.wait(lambda s: s.home_of(COLLEAGUE_USER_ID), timeout=5)
    execution, _ = playground.doors.run_step({"flow_id": fresh_flow(DOC_FLOW)})

    def finished(surfaces: Surfaces) -> Execution | None:
        found = surfaces.execution(execution.id)
        return found if found is not None and found.state != "running" else None

    playground.workspace.surfaces.wait(finished, timeout=8)
    asked = web_api_calls(playground) - asked_before
    assert {"views.publish", "users.info", "functions.completeSuccess"} <= set(asked), asked

    def counted(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> Counter[str]:
        grown: Counter[str] = Counter()
        for method in set(asked) | {"auth.test", "chat.postMessage"}:
            grown[method] = int(
                total(samples, calls, method=method) - total(before, calls, method=method)
            )
        return +grown

    deadline = time.monotonic() + 5
    while (seen := counted(scrape(bot))) != asked:
        assert time.monotonic() < deadline, (seen, asked)
        time.sleep(0.1)
    after = scrape(bot)
    for method in ("views.publish", "functions.completeSuccess"):
        assert (
            total(after, calls, method=method, outcome="ok")
            - total(before, calls, method=method, outcome="ok")
            == asked[method]
        )

    # Slack says "later" three times (the call and both retries): one call, rate_limited.
    playground.workspace.inject_fault("views.publish", 429, times=3, retry_after=0)
    playground.doors.open_home(user_id=VIEWER_USER_ID)
    deadline = time.monotonic() + 10
    while (
        total(now := scrape(bot), calls, method="views.publish", outcome="rate_limited")
        - total(after, calls, method="views.publish", outcome="rate_limited")
        < 1
    ):
        assert time.monotonic() < deadline, "the rate-limited publish was not counted"
        time.sleep(0.2)
    assert web_api_calls(playground)["views.publish"] - asked_before["views.publish"] == 1 + 3
    assert (
        total(now, calls, method="views.publish") - total(after, calls, method="views.publish") == 1
    )


def test_the_token_guards_metrics(bot: BotProcess) -> None:
    url = f"{bot.base_url}/metrics"
    assert httpx.get(url, timeout=5).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 403
    assert httpx.get(url, headers={"Authorization": "Basic x"}, timeout=5).status_code == 401
    answer = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert answer.status_code == 200
    assert "esign_flow_lookups_total" in answer.text or "esign_flow_lookups" in answer.text
