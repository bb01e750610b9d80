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
