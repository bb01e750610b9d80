"""A deploy as a Python buildpack makes it: a fresh venv with requirements.txt alone (hashes
required, nothing from the dev or local extras), then the Procfile's web line in the app
directory; and with the project installed too, `esign-bot serve` from anywhere."""

from __future__ import annotations

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
from tests.conftest import KNOWN_SECRETS
from tests.e2e.conftest import (
    BOT_TOKEN,
    ROOT,
    SIGNING_SECRET,
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
    assert not [s[:4] for s in KNOWN_SECRETS if s in log.read_text()]


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
    lock_venv: Path,
    simulator: EsignSimulator,
    playground: Playground,
    serve: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    subprocess.run(
        [str(lock_venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "."],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
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
