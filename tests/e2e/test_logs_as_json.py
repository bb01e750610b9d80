"""LOG_FORMAT=json, run as the platform runs it: the real web process from start-up to SIGTERM.

Every line it writes (granian's master and worker lines, the bot's, the audit line) parses as
one JSON object, and no configured secret appears in either format, the Redis password of a
real password-protected redis-server included.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.e2e.conftest import BOT_TOKEN, SIGNING_SECRET, cards, start_bot
from tests.redis_server import RedisServer

REDIS_PASSWORD = "json-logs-redis-pass-9c2e"
APP_TOKEN = "xapp-1-A0JSONLOGS-1-json-logs-app-token"
FLOW_ID = "2987366201948372992"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(Path(tmp_path_factory.mktemp("redis")), password=REDIS_PASSWORD)
    yield server.start()
    server.kill()


def _run_once(
    simulator: EsignSimulator,
    playground: Playground,
    redis_server: RedisServer,
    log_path: Path,
    log_format: str,
) -> tuple[int, str]:
    """Start, one slash command, one forged request, SIGTERM: the exit code and the output."""
    playground.workspace.reset()
    bot = start_bot(
        simulator,
        playground,
        log_path,
        LOG_FORMAT=log_format,
        LOG_LEVEL="DEBUG",
        REDIS_URL=redis_server.url,
        SLACK_APP_TOKEN=APP_TOKEN,
    )
    try:
        playground.workspace.reset()  # only this bot's card counts below
        assert playground.slash_command(FLOW_ID, user_id="U0PLAYER2").status == 200
        playground.workspace.wait_for(cards())
        forged = {
            **playground.sign(b"text=x"),
            "X-Slack-Signature": "v0=" + "0" * 64,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        assert playground.send_raw(b"text=x", forged).status == 401
        time.sleep(0.3)  # the audit line is written once the card is delivered
    finally:
        code = bot.stop(signal.SIGTERM)
    return code, bot.log()


def _secrets(simulator: EsignSimulator, redis_server: RedisServer) -> list[str]:
    return [
        BOT_TOKEN,
        SIGNING_SECRET,
        APP_TOKEN,
        simulator.app_secret,
        redis_server.url,
        REDIS_PASSWORD,
    ]


def test_every_line_of_the_web_process_is_one_json_object_without_a_secret(
    simulator: EsignSimulator,
    playground: Playground,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    code, output = _run_once(simulator, playground, redis_server, tmp_path / "bot.log", "json")
    assert code == 0, output
    lines: list[dict[str, Any]] = []
    for text in output.splitlines():
        line = json.loads(text)  # every line, no exception: a bare text line fails here
        assert isinstance(line, dict), text
        assert {"time", "level", "logger", "message"} <= line.keys(), text
        lines.append(line)
    messages = [line["message"] for line in lines]
    for granian_says in ("Starting granian", "Spawning worker", "Shutting down granian"):
        assert any(m.startswith(granian_says) for m in messages), messages
    [audit] = [
        line
        for line in lines
        if line["logger"] == "esign_flow.audit" and line.get("flow_id") == FLOW_ID
    ]
    assert audit["message"] == "flow_lookup" and audit["trigger"] == "command"
    assert audit["outcome"] == "ok" and audit["duration_ms"] >= 0
    assert isinstance(audit["cached"], bool) and audit["user"] == "U0PLAYER2"
    for secret in _secrets(simulator, redis_server):
        assert secret not in output, f"a secret starting {secret[:6]} appears"


def test_the_human_format_stays_the_default_and_shows_no_secret_either(
    simulator: EsignSimulator,
    playground: Playground,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    code, output = _run_once(simulator, playground, redis_server, tmp_path / "bot.log", "human")
    assert code == 0, output
    audit = [line for line in output.splitlines() if "esign_flow.audit" in line]
    # The audit line as before: the fields as one JSON object after the logger's name.
    entries = [json.loads(line[line.index("{") :]) for line in audit]
    assert any(e["flow_id"] == FLOW_ID and e["trigger"] == "command" for e in entries), audit
    assert "Starting granian" in output
    for secret in _secrets(simulator, redis_server):
        assert secret not in output, f"a secret starting {secret[:6]} appears"
