"""`esign-bot` from a terminal: check a flow, print Block Kit, refuse bad settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**env: str) -> dict[str, str]:
    """No credentials from the caller's environment; PYTHONPATH finds the code from anywhere."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("ESIGN_", "SLACK_"))}
    return {**kept, "PYTHONPATH": str(ROOT), **env}


def esign_bot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Run outside the checkout, so a developer's .env with real credentials is never read.
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args],
        cwd=ROOT / "tests",
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_prints_the_card_on_the_simulator() -> None:
    result = esign_bot("check", "803719636976683872")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Flow 803719636976683872" in out and "In progress 进行中" in out
    assert "Simulated e签宝 data" in out
    assert "<!date" not in out  # times shown in the terminal's zone
    assert "SIMULATOR" in result.stderr  # said loudly on start


def test_check_json_is_block_kit_for_the_builder() -> None:
    result = esign_bot("check", "--json", "2987366388415348736")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"blocks"}
    assert payload["blocks"][1]["type"] == "header"


@pytest.mark.parametrize("flow_id", ["2987390000030500001", "../etc/passwd"])
def test_check_failure_exits_1_with_a_readable_card(flow_id: str) -> None:
    result = esign_bot("check", flow_id)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "Flow not found" in result.stdout or "Not a valid flow id" in result.stdout


def test_bad_setting_is_named_and_exits_2() -> None:
    result = esign_bot("check", "803719636976683872", ESIGN_ENV="prod")
    assert result.returncode == 2
    assert "ESIGN_ENV" in result.stderr
    assert "Traceback" not in result.stderr


def test_simulator_subcommand_starts_and_lists_samples() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "simulator", "--port", "0"],
        cwd=ROOT / "tests",
        env=clean_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("e签宝 simulator on http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(timeout=10)


SLACK_HTTP = {"SLACK_BOT_TOKEN": "xoxb-refused-start", "SLACK_SIGNING_SECRET": "refused-secret"}
SLACK_SOCKET = {"SLACK_BOT_TOKEN": "xoxb-refused-start", "SLACK_APP_TOKEN": "xapp-refused-start"}


@pytest.mark.parametrize(
    ("args", "slack"),
    [(["serve"], SLACK_HTTP), (["socket"], SLACK_SOCKET), ([], SLACK_HTTP), ([], SLACK_SOCKET)],
    ids=["serve", "socket", "esign-bot-http", "esign-bot-socket-mode"],
)
def test_serving_slack_without_esign_credentials_refuses_to_start(
    args: list[str], slack: dict[str, str]
) -> None:
    # The Slack settings point nowhere reachable: the refusal comes before any call to Slack.
    result = esign_bot(*args, SLACK_API_URL="http://127.0.0.1:9/api/", **slack)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("ESIGN_APP_ID / ESIGN_APP_SECRET are not set: ")
    assert "ESIGN_SIMULATOR=1" in line
    assert "SIMULATOR at" not in result.stderr  # no simulator was started
    assert not [secret for secret in slack.values() if secret in result.stderr]


def test_the_simulator_on_purpose_contradicts_credentials() -> None:
    result = esign_bot(
        "serve", ESIGN_SIMULATOR="1", ESIGN_APP_ID="7438000000000001", ESIGN_APP_SECRET="s3cret"
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ESIGN_SIMULATOR=1 contradicts ESIGN_APP_ID: unset one or the other"
    ]
