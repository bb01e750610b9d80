"""Slack down while a watch notice is due: the notice waits in the state store and is told
once Slack is back, exactly once, never in a hot loop. The bot's Web API is the Slack sink,
switched to answer chat.postMessage / chat.update with 503, 429 + Retry-After, or a hang."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from stand_ins.slack_sink import OutageMode, SlackSink
from tests.e2e.conftest import BotProcess, start_bot
from tests.e2e.signed_commands import command, dm_notices, person, wait_answer
from tests.e2e.test_watch import moving_flow

#: The notice client's own timeout (bot.watch.notices.NOTICE_CALL_TIMEOUT) is 10 s.
HANG_SECONDS = 13.0


@pytest.fixture(scope="module")
def slack_sink() -> Iterator[SlackSink]:
    sink = SlackSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def sink_bot(
    simulator: EsignSimulator,
    playground: Playground,
    slack_sink: SlackSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotProcess]:
    directory = tmp_path_factory.mktemp("outage")
    bot = start_bot(
        simulator,
        playground,
        directory / "bot.log",
        SLACK_API_URL=slack_sink.api_url(),
        STATE_DB_PATH=str(directory / "state.sqlite3"),
        WATCH_FIRST_POLL_SECONDS="0.5",
        CACHE_TTL_SECONDS="1",
    )
    yield bot
    assert bot.stop() == 0, bot.log()


@pytest.fixture
def sink(slack_sink: SlackSink, sink_bot: BotProcess, simulator: EsignSimulator) -> SlackSink:
    slack_sink.reset()
    simulator.clear_faults()
    simulator.set_latency(0.0)
    return slack_sink


def posts_since(sink: SlackSink, since: float) -> list[float]:
    return [at for method, at in sink.api_calls(since) if method == "chat.postMessage"]


def wait_notices(sink: SlackSink, count: int, flow_id: str, n: int, timeout: float) -> list[float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(found := dm_notices(sink, person(n), flow_id)) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{count} notice(s) expected: {sink.answers()}")


@pytest.mark.parametrize(("mode", "n"), [("503", 1), ("429", 2)])
def test_slack_down_when_the_flow_moves_then_back_tells_once(
    sink: SlackSink,
    sink_bot: BotProcess,
    simulator: EsignSimulator,
    mode: OutageMode,
    n: int,
) -> None:
    flow_id, move = moving_flow(simulator)
    key, exchange = command(sink_bot, sink, f"watch {flow_id}", person(n))
    assert exchange.acked_in_time, exchange
    wait_answer(sink, key)

    down = time.monotonic()
    sink.slack_down(mode, 8.0, retry_after=7)
    move("SUCCESS", "SUCCESS")
    [told] = wait_notices(sink, 1, flow_id, n, timeout=40)
    assert told - down >= 8.0  # not before Slack was back
    attempts = posts_since(sink, down)
    first, second = attempts[0], attempts[1]
    if mode == "429":
        assert second - first >= 7.0  # Slack's Retry-After, honoured
    # Never a hot loop: a few seconds between attempts, so a handful over the outage.
    assert all(b - a >= 4.5 for a, b in itertools.pairwise(attempts)), attempts
    assert len(attempts) <= 4, attempts
    time.sleep(3)  # more polls and retries find nothing more to tell
    assert len(dm_notices(sink, person(n), flow_id)) == 1
    assert "watch notice delivered after Slack failed" in sink_bot.log()


def test_a_notice_that_reached_slack_but_timed_out_is_not_told_twice(
    sink: SlackSink, sink_bot: BotProcess, simulator: EsignSimulator
) -> None:
    flow_id, move = moving_flow(simulator)
    key, exchange = command(sink_bot, sink, f"watch {flow_id}", person(3))
    assert exchange.acked_in_time, exchange
    wait_answer(sink, key)

    down = time.monotonic()
    sink.slack_down("hang", 5.0, hang_seconds=HANG_SECONDS)
    move("SUCCESS", "SUCCESS")
    wait_notices(sink, 1, flow_id, 3, timeout=10)  # it reached Slack; no answer came
    time.sleep(HANG_SECONDS + 4)  # the bot's timeout, and well past a first retry
    assert len(dm_notices(sink, person(3), flow_id)) == 1
    assert len(posts_since(sink, down)) == 1
    assert "not sent again" in sink_bot.log()
