"""The `worker:` process keeps receiving through what Slack's network does: `disconnect`
messages, TCP cut without a close frame, a half-open link, acks lost and envelopes delivered
again, `apps.connections.open` failing.

The worker runs from the Procfile's command line with a 1 s ping interval (2 s pong deadline),
so what takes seconds in production takes a fraction here. Its links go through the stand-in's
faulty network (stand_ins/slack_playground/socket_network.py).
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from stand_ins.slack_playground.socket_mode import SocketModeServer
from stand_ins.slack_playground.socket_network import FaultyNetwork
from tests.e2e.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotProcess,
    bot_env,
    cards,
    procfile_command,
)

#: Promises about seconds (Slack's 3 s, a 5 s deadline): run alone, on a quiet machine.
pytestmark = pytest.mark.serial

APP_TOKEN = "xapp-1-A0PLAYGRND-1-e2efaults"
DOC_FLOW = "803719636976683872"
PING_INTERVAL = 1.0
#: What the worker promises with a 5 s ping interval, scaled to the test's 1 s.
CUT_PROMISE = 15.0 * PING_INTERVAL / 5
HALF_OPEN_PROMISE = 60.0 * PING_INTERVAL / 5


@pytest.fixture(scope="module")
def faulty_playground() -> Iterator[Playground]:
    with Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ) as playground:
        assert playground.socket_mode is not None
        playground.socket_mode.use_faulty_network()
        # Slack's own wait for an ack: a link moving under load may take most of it.
        playground.socket_mode.ack_wait = 3.0
        yield playground


@pytest.fixture(scope="module")
def worker(
    simulator: EsignSimulator,
    faulty_playground: Playground,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotProcess]:
    run_dir = tmp_path_factory.mktemp("faulty-worker")
    env = bot_env(
        simulator,
        faulty_playground,
        SLACK_APP_TOKEN=APP_TOKEN,
        SOCKET_MODE_PING_INTERVAL=str(PING_INTERVAL),
        WORKER_HEALTH_PORT="0",
        BIND_HOST="127.0.0.1",
    )
    del env["SLACK_SIGNING_SECRET"]
    log_path = run_dir / "worker.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            procfile_command("worker"),
            cwd=run_dir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    bot = BotProcess(process, base_url="", log_path=log_path)
    try:
        assert faulty_playground.wait_socket_connected(timeout=20), bot.log()
    except AssertionError:
        bot.stop(signal.SIGKILL)
        raise
    yield bot
    bot.stop()


@pytest.fixture
def slack(worker: BotProcess, faulty_playground: Playground) -> Playground:
    assert worker.process.poll() is None, worker.log()
    faulty_playground.workspace.reset()
    return faulty_playground


def _server(slack: Playground) -> SocketModeServer:
    assert slack.socket_mode is not None
    return slack.socket_mode


def _network(slack: Playground) -> FaultyNetwork:
    return _server(slack).use_faulty_network()


def _wait_for_link(server: SocketModeServer, opened_before: int, timeout: float) -> float:
    """Seconds until a link after the first `opened_before` is open (hello sent)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.connections_opened > opened_before and server.connected:
            return time.monotonic() - started
        time.sleep(0.01)
    raise AssertionError(f"no new link within {timeout} s")


def _wait_log(worker: BotProcess, needle: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while needle not in (log := worker.log()):
        assert time.monotonic() < deadline, f"{needle!r} not in the log:\n{log[-3000:]}"
        time.sleep(0.05)
    return log


def _cards_for(slack: Playground, flow_id: str) -> list[str]:
    return [m.ts for m in slack.workspace.messages() if f"Flow {flow_id}" in m.visible_text()]


def _help_acked(slack: Playground) -> bool:
    exchange = slack.slash_command("help")
    return exchange.status == 200 and "/esign-flow" in exchange.json()["text"]


@pytest.mark.parametrize("reason", ["refresh_requested", "warning", "link_disabled"])
def test_slacks_disconnect_moves_the_link_and_no_envelope_is_lost(
    slack: Playground, worker: BotProcess, reason: str
) -> None:
    server = _server(slack)
    opened = server.connections_opened
    assert server.request_reconnect(reason) == 1
    # Envelopes keep coming while the link moves: every one is acked.
    acked = [_help_acked(slack) for _ in range(5)]
    _wait_for_link(server, opened, timeout=5)
    acked += [_help_acked(slack) for _ in range(3)]
    assert all(acked)
    assert server.connections_opened == opened + 1  # one new link, not a storm
    _wait_log(worker, f"new link open (reason: Slack sent disconnect ({reason})")


@pytest.mark.parametrize("reset", [True, False], ids=["rst", "fin"])
def test_a_link_cut_without_a_close_frame_is_replaced_quickly(
    slack: Playground, worker: BotProcess, reset: bool
) -> None:
    server = _server(slack)
    opened = server.connections_opened
    assert _network(slack).cut(reset=reset) >= 1
    took = _wait_for_link(server, opened, timeout=CUT_PROMISE)
    print(f"\nTCP cut ({'RST' if reset else 'FIN'}) to new link: {took:.2f} s")
    assert _help_acked(slack)
    _wait_log(worker, "new link open (reason:")


def test_a_half_open_link_is_noticed_and_replaced(
    slack: Playground, worker: BotProcess, simulator: EsignSimulator
) -> None:
    server = _server(slack)
    opened = server.connections_opened
    started = time.monotonic()
    assert _network(slack).go_half_open() >= 1
    lost = slack.slash_command("help")  # swallowed by the dead path, as Slack would see it
    assert lost.status == 0
    _wait_for_link(server, opened, timeout=HALF_OPEN_PROMISE)
    took = time.monotonic() - started
    print(f"\nhalf-open to new link: {took:.2f} s (deadline {2 * PING_INTERVAL:.0f} s)")
    # Slack delivers the unacked envelope again on the new link: it is answered there.
    again = server.redeliver(server.sent()[-1])
    assert again.ack is not None and again.ack.payload is not None
    assert "/esign-flow" in again.ack.payload["text"]
    _wait_log(worker, "half-open link")


def test_an_envelope_delivered_again_is_answered_once(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    server = _server(slack)
    flow_id = fresh_flow(DOC_FLOW)
    first = slack.slash_command(flow_id)
    assert first.status == 200
    again = server.redeliver(server.sent()[-1], retry_reason="timeout")
    assert again.ack is not None
    slack.workspace.wait_for(cards(ephemeral=True))
    time.sleep(1.0)  # room for a second card, which must not come
    assert len(_cards_for(slack, flow_id)) == 1
    assert simulator.outline_calls(flow_id) == 1


def test_an_ack_lost_with_its_link_is_not_answered_twice(
    slack: Playground,
    worker: BotProcess,
    simulator: EsignSimulator,
    fresh_flow: Callable[[str], str],
) -> None:
    server = _server(slack)
    flow_id = fresh_flow(DOC_FLOW)
    server.lose_acks(1)
    lost = slack.slash_command(flow_id)
    assert lost.status == 0  # the worker answered; its ack never arrived
    slack.workspace.wait_for(cards(ephemeral=True))
    opened = server.connections_opened
    _network(slack).cut()
    _wait_for_link(server, opened, timeout=CUT_PROMISE)
    again = server.redeliver(server.sent()[-1], retry_reason="timeout")
    assert again.ack is not None
    # The same ack as the lost one: run again, the command would find the flow cached and
    # answer with its card in the ack.
    assert not (again.ack.payload or {}).get("blocks"), again.ack.payload
    time.sleep(1.0)
    assert len(_cards_for(slack, flow_id)) == 1
    assert simulator.outline_calls(flow_id) == 1
    _wait_log(worker, "envelope delivered again, acked without running it twice")


def test_apps_connections_open_failing_is_retried_with_backoff(
    slack: Playground, worker: BotProcess
) -> None:
    server = _server(slack)
    refused = server.connection_opens_refused
    server.fail_connection_opens(3)
    opened = server.connections_opened
    _network(slack).cut()
    took = _wait_for_link(server, opened, timeout=20)
    print(f"\n3 refusals of apps.connections.open, then a new link: {took:.2f} s")
    assert server.connection_opens_refused == refused + 3
    log = _wait_log(worker, "no new link yet (apps.connections.open: internal_error); try 4")
    waits = [float(w) for w in re.findall(r"internal_error\); try \d in ([\d.]+) s", log)][-3:]
    assert waits[0] < waits[2]  # backing off
    assert _help_acked(slack)


def test_the_health_endpoint_says_how_long_the_link_is_up(
    slack: Playground, worker: BotProcess
) -> None:
    match = re.search(r"worker serving /healthz on port (\d+)", worker.log())
    assert match, worker.log()
    url = f"http://127.0.0.1:{match.group(1)}/healthz"
    time.sleep(0.3)
    before = httpx.get(url, timeout=5).json()
    assert before["ok"] is True and before["link_up_seconds"] >= 0.2
    server = _server(slack)
    opened = server.connections_opened
    _network(slack).cut()
    _wait_for_link(server, opened, timeout=CUT_PROMISE)
    deadline = time.monotonic() + 5
    while (after := httpx.get(url, timeout=5)).status_code != 200 or (
        after.json()["reconnects"] == before["reconnects"]
    ):
        assert time.monotonic() < deadline, after.text
        time.sleep(0.05)
    assert after.json()["link_up_seconds"] < before["link_up_seconds"] + 5
    assert APP_TOKEN not in worker.log()
