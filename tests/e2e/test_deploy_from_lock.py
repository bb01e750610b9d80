"""A deploy as a Python buildpack makes it: a fresh venv with requirements.txt alone (hashes
required, nothing from the dev or local extras), then the Procfile's web line in the app
directory; and with the project installed too, `esign-bot serve` from anywhere, with no warning
at start-up and no stand-in loaded. A trial workspace runs on the simulator only when asked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.app.test_local_extra import PRODUCTION_START, warnings_in
from tests.conftest import KNOWN_SECRETS
from tests.e2e.conftest import (
    BOT_TOKEN,
    ROOT,
    SIGNING_SECRET,
    BotProcess,
    bot_env,
    free_port,
    procfile_command,
    wait_until_healthy,
)


@pytest.fixture(scope="module")
def lock_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("deploy") / "venv"
    venv.EnvBuilder(with_pip=True).create(home)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run(
        [*pip, "--require-hashes", "-r", str(ROOT / "requirements.txt")],
        check=True,
        timeout=300,
    )
    return home


@pytest.fixture(scope="module")
def installed_venv(lock_venv: Path) -> Path:
    """The lock's venv with the project installed too (no extras), as `pip install .` does."""
    subprocess.run(
        [str(lock_venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "."],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return lock_venv


def deploy_env(
    home: Path, simulator: EsignSimulator, playground: Playground, port: int
) -> dict[str, str]:
    """Only what a platform would set: no PYTHONPATH, no test settings, this venv first."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ESIGN_", "SLACK_", "REDIS_", "PYTHON", "VIRTUAL_ENV", "WEB_"))
    }
    return {
        **kept,
        "PATH": f"{home / 'bin'}{os.pathsep}{kept.get('PATH', '')}",
        "ESIGN_APP_ID": simulator.app_id,
        "ESIGN_APP_SECRET": simulator.app_secret,
        "ESIGN_BASE_URL": simulator.base_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": playground.api_url,
        "PORT": str(port),
        "BIND_HOST": "127.0.0.1",
    }


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def check_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, base, log, timeout=30)
    health = httpx.get(f"{base}/healthz", timeout=5).json()
    assert health == {"status": "ok", "simulated_esign": False, "redis": "off", "slack": "ok"}
    text = log.read_text()
    assert not [s[:4] for s in KNOWN_SECRETS if s in text]
    assert warnings_in(text) == []


def test_the_lock_alone_runs_the_procfile_web_line(
    lock_venv: Path,
    simulator: EsignSimulator,
    playground: Playground,
    serve: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    listed = subprocess.run(
        [str(lock_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    for dev_only in ("pytest", "mypy", "ruff", "pip-tools", "playwright"):
        assert f"{dev_only}==" not in listed
    assert "esign-flow-bot" not in listed  # a buildpack does not install the project itself
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        serve.append(
            subprocess.Popen(
                procfile_command("web"),
                cwd=ROOT,
                env=deploy_env(lock_venv, simulator, playground, port),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        )
    check_serving(serve[-1], port, log)


def test_with_the_project_installed_esign_bot_serve_runs_from_anywhere(
    installed_venv: Path,
    simulator: EsignSimulator,
    playground: Playground,
    serve: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    lock_venv = installed_venv
    port = free_port()
    log = tmp_path / "serve.log"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with log.open("wb") as out:
        serve.append(
            subprocess.Popen(
                [str(lock_venv / "bin" / "esign-bot"), "serve"],
                cwd=elsewhere,
                env=deploy_env(lock_venv, simulator, playground, port),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        )
    check_serving(serve[-1], port, log)


def test_the_installed_web_and_worker_processes_load_no_stand_in(
    installed_venv: Path, simulator: EsignSimulator, playground: Playground, tmp_path: Path
) -> None:
    # The web worker's app and the Socket Mode worker's runtime, built as the processes build
    # them, by the installed code (not the checkout's) from a directory outside it.
    result = subprocess.run(
        [str(installed_venv / "bin" / "python"), "-c", PRODUCTION_START],
        cwd=tmp_path,
        env=deploy_env(installed_venv, simulator, playground, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["stand_ins"] == []
    assert report["bot_from"].startswith(str(installed_venv))
    assert warnings_in(result.stderr) == []


def test_a_trial_workspace_runs_on_the_simulator_only_when_asked(
    simulator: EsignSimulator, playground: Playground, tmp_path: Path
) -> None:
    env = bot_env(simulator, playground, PORT=str(free_port()), BIND_HOST="127.0.0.1")
    for credential in ("ESIGN_APP_ID", "ESIGN_APP_SECRET", "ESIGN_BASE_URL"):
        del env[credential]
    env["STATE_DB_PATH"] = str(tmp_path / "state.sqlite3")
    refused = subprocess.run(
        procfile_command("web"), cwd=tmp_path, env=env, capture_output=True, timeout=60
    )
    assert refused.returncode == 2
    assert refused.stderr.decode().startswith("ESIGN_APP_ID / ESIGN_APP_SECRET are not set")

    log = tmp_path / "trial.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            procfile_command("web"),
            cwd=tmp_path,
            env={**env, "ESIGN_SIMULATOR": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    bot = BotProcess(process, f"http://127.0.0.1:{env['PORT']}", log)
    try:
        wait_until_healthy(process, bot.base_url, log, timeout=30)
        assert httpx.get(f"{bot.base_url}/healthz", timeout=5).json()["simulated_esign"] is True
        assert "ESIGN_SIMULATOR=1: answering from the built-in e签宝 SIMULATOR" in log.read_text()
        playground.workspace.reset()
        playground.bot_events_url = f"{bot.base_url}/slack/events"
        assert playground.slash_command("803719636976683872").status == 200
        # This flow's card: an earlier module's bot may still be posting into the workspace.
        [card] = playground.workspace.wait_for(
            lambda ms: (
                [m for m in ms if m.bot and "Flow 803719636976683872" in m.visible_text()] or None
            )
        )
        assert "Simulated e签宝 data" in card.visible_text()
    finally:
        bot.stop()
