"""The Procfile's `worker:` process (`esign-bot socket`) over Slack Socket Mode: the playground
plays Slack's WebSocket endpoint, the e签宝 simulator answers the lookups.

The worker runs as production would: from the Procfile's command line, in an empty directory
(so no local `.env` is read), with an app-level token and no signing secret.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.slack.ids import ACTION_RECHECK, BLOCK_FLOW_IDS
from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import VIEWER_USER_ID, Playground
from tests.e2e.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotProcess,
    bot_env,
    cards,
    free_port,
    procfile_command,
)

#: Fake on purpose, and not shaped like a real app token (xapp-N-A…-NNNNNN…-hex…).
APP_TOKEN = "xapp-1-A0PLAYGRND-1-e2esocket"
DOC_FLOW = "803719636976683872"
SUCCESS_FLOW = "2987366201948372992"
CONNECT_TIMEOUT = 20.0


@pytest.fixture(scope="module")
def socket_playground() -> Iterator[Playground]:
    # The signing secret is never given to the worker: Socket Mode has no signatures.
    with Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ) as playground:
        yield playground


@pytest.fixture(scope="module")
def worker(
    simulator: EsignSimulator,
    socket_playground: Playground,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotProcess]:
    run_dir = tmp_path_factory.mktemp("worker")
    env = bot_env(
        simulator, socket_playground, SLACK_APP_TOKEN=APP_TOKEN, METRICS_PORT=str(free_port())
    )
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode has no request signatures
    log_path = run_dir / "worker.log"
    with log_path.open("wb") as log_file:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            procfile_command("worker"),
            cwd=run_dir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    # A worker serves no Slack URL (Slack is the server, the bot dials out), only /metrics.
    bot = BotProcess(process, f"http://127.0.0.1:{env['METRICS_PORT']}", log_path=log_path)
    try:
        _wait_until_connected(bot, socket_playground)
    except AssertionError:
        bot.stop(signal.SIGKILL)
        raise
    yield bot
    bot.stop()  # a no-op once the SIGTERM test has stopped it


def _wait_until_connected(bot: BotProcess, playground: Playground) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while not playground.wait_socket_connected(timeout=0.2):
        if bot.process.poll() is not None:
            raise AssertionError(f"the worker exited at start-up:\n{bot.log()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no Socket Mode connection in {CONNECT_TIMEOUT} s:\n{bot.log()}")


@pytest.fixture
def slack(
    worker: BotProcess, socket_playground: Playground, simulator: EsignSimulator
) -> Playground:
    """A clean workspace and e签宝 for each test, with the same connected worker."""
    assert worker.process.poll() is None, worker.log()
    socket_playground.workspace.reset()
    simulator.clear_faults()
    simulator.set_latency(0.0)
    simulator.reset_stats()
    return socket_playground


def test_the_worker_connects_with_the_app_token(
    worker: BotProcess, socket_playground: Playground
) -> None:
    opened = [c for c in socket_playground.workspace.calls() if c.method == "apps.connections.open"]
    assert opened and all(c.response["ok"] for c in opened)
    assert opened[-1].response["url"].startswith("ws://127.0.0.1:")
    assert socket_playground.transport == "socket" and socket_playground.socket_connected
    # The playground page tells its reader the bot is there, over the socket as over HTTP.
    state = httpx.get(f"{socket_playground.base_url}/playground/state", timeout=5).json()
    assert state["bot_connected"] is True
    # The playground sees the link just before the bot's handshake returns and it logs.
    deadline = time.monotonic() + 5
    while "connected to Slack in Socket Mode" not in worker.log():
        assert time.monotonic() < deadline, worker.log()
        time.sleep(0.05)


def test_slash_command_is_acked_over_the_socket_and_answered_by_response_url(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(DOC_FLOW)
    exchange = slack.slash_command(flow_id)
    assert exchange.status == 200
    assert exchange.elapsed < 1.0
    [card] = slack.workspace.wait_for(cards(ephemeral=True))
    assert card.ephemeral_to == VIEWER_USER_ID
    assert card.response_url is not None  # posted through the command's response_url
    assert f"Flow {flow_id}" in card.visible_text()
    assert simulator.outline_calls(flow_id) == 1
    assert slack.socket_mode is not None
    assert slack.socket_mode.acks()[-1].elapsed == pytest.approx(exchange.elapsed)


def test_help_comes_back_in_the_ack_payload(slack: Playground, simulator: EsignSimulator) -> None:
    exchange = slack.slash_command("help")
    assert exchange.status == 200
    assert "/esign-flow" in exchange.json()["text"]
    [shown] = slack.workspace.wait_for(cards(ephemeral=True))
    assert "flowId" in shown.visible_text()
    assert simulator.outline_calls() == 0


def test_message_shortcut_answers_in_the_thread(slack: Playground) -> None:
    parent = slack.post_user_message(f"客户说 {SUCCESS_FLOW} 一直卡住")
    exchange = slack.message_shortcut(parent.ts)
    assert exchange.status == 200
    assert exchange.elapsed < 1.0
    [reply] = slack.workspace.wait_for(cards(ephemeral=False))
    assert reply.thread_ts == parent.ts
    assert f"Flow {SUCCESS_FLOW}" in reply.visible_text()


def test_recheck_updates_the_card_in_place(
    slack: Playground, simulator: EsignSimulator, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(SUCCESS_FLOW)
    slack.slash_command(flow_id)
    [card] = slack.workspace.wait_for(cards(ephemeral=True))
    exchange = slack.click(card, ACTION_RECHECK)
    assert exchange.status == 200
    assert exchange.elapsed < 1.0
    updated = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.ts == card.ts and m.edited >= 1), None)
    )
    assert f"Flow {flow_id}" in updated.visible_text()
    assert len(slack.workspace.messages()) == 1  # the same card, never a second one


def test_the_form_and_the_workflow_step_work_over_the_socket(
    slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    flow_id = fresh_flow(SUCCESS_FLOW)
    assert slack.doors.global_shortcut().acked_in_time
    [modal] = slack.workspace.surfaces.wait(lambda s: s.open_modals(VIEWER_USER_ID))
    # The submission's ack comes back as the envelope's response payload.
    exchange = slack.doors.submit(modal.id, {BLOCK_FLOW_IDS: "not-an-id!"})
    assert json.loads(exchange.body)["response_action"] == "errors"
    slack.doors.submit(modal.id, {BLOCK_FLOW_IDS: flow_id})
    slack.workspace.surfaces.wait(
        lambda s: (v := s.view(modal.id)) and f"Flow {flow_id}" in json.dumps(v.body), timeout=8
    )
    execution, _ = slack.doors.run_step({"flow_id": flow_id})
    done = slack.workspace.surfaces.wait(
        lambda s: (e := s.execution(execution.id)) and e.state != "running" and e, timeout=8
    )
    assert done.state == "completed" and done.tokens_used == [execution.token]
    assert (done.outputs or {})["flow_status"] == "SUCCESS"


def test_envelope_acks_and_web_api_calls_show_in_the_workers_metrics(
    worker: BotProcess, slack: Playground, fresh_flow: Callable[[str], str]
) -> None:
    def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        answer = httpx.get(f"{worker.base_url}/metrics", timeout=5)
        assert answer.status_code == 200, answer.text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples
        }

    def count(
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
    ) -> float:
        wanted = set(labels.items())
        return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))

    acks = "esign_flow_ack_seconds_count"
    before = scrape()
    assert (
        count(
            before, "esign_flow_slack_api_calls_total", method="apps.connections.open", outcome="ok"
        )
        >= 1
    )
    slack.slash_command(fresh_flow(DOC_FLOW))
    [card] = slack.workspace.wait_for(cards(ephemeral=True))
    slack.click(card, ACTION_RECHECK)
    slack.doors.open_home()
    slack.workspace.surfaces.wait(lambda s: s.home_of(VIEWER_USER_ID), timeout=5)
    after = scrape()
    for door in ("command", "block_actions", "event_callback"):
        assert count(after, acks, door=door) - count(before, acks, door=door) == 1, door
    # Each ack was timed from the envelope's arrival: well under Slack's 3 s.
    fast = count(after, "esign_flow_ack_seconds_bucket", door="command", le="1.0")
    assert fast == count(after, acks, door="command")
    published = count(
        after, "esign_flow_slack_api_calls_total", method="views.publish", outcome="ok"
    )
    assert (
        published
        - count(before, "esign_flow_slack_api_calls_total", method="views.publish", outcome="ok")
        == 1
    )


def test_sigterm_stops_the_worker_cleanly(
    worker: BotProcess, socket_playground: Playground
) -> None:
    """Last in this file: it stops the module's worker."""
    started = time.monotonic()
    code = worker.stop(signal.SIGTERM, timeout=15)
    took = time.monotonic() - started
    assert code == 0, worker.log()
    assert took < 15
    assert not socket_playground.socket_connected
    assert APP_TOKEN not in worker.log()  # the app token is a secret too
