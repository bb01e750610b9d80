"""The stand-ins stay out of production: their own dependencies are the `local` extra, the
playground without it says in one line how to get it, and a configured bot never loads them."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.local_extra import LOCAL_EXTRA_MODULES, install_hint, missing_local_modules
from stand_ins.slack_playground import Playground

ROOT = Path(__file__).resolve().parents[2]
#: Run first in each child: the local extra's modules cannot be imported, as after `pip install .`.
WITHOUT_LOCAL_EXTRA = f"import sys; sys.modules.update(dict.fromkeys({LOCAL_EXTRA_MODULES!r}))"
BOT_TOKEN = "xoxb-production-path-not-real"
SIGNING_SECRET = "production-path-signing-secret"


def child_env(**env: str) -> dict[str, str]:
    """No settings from the caller's environment; PYTHONPATH finds the code from anywhere."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("ESIGN_", "SLACK_"))}
    return {**kept, "PYTHONPATH": str(ROOT), **env}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Outside the checkout, so a developer's .env is never read.
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "tests",
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_extra_lists_what_the_check_looks_for() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    names = [
        re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0] for requirement in extras["local"]
    ]
    assert tuple(name.replace("-", "_") for name in names) == LOCAL_EXTRA_MODULES
    assert "esign-flow-bot[local]" in extras["dev"]
    production = " ".join(pyproject["project"]["dependencies"])
    assert not any(name in production for name in names)


def test_the_check_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_local_modules() == []  # the test environment has the extra
    monkeypatch.setitem(sys.modules, "websockets", None)
    assert missing_local_modules() == ["websockets"]


@pytest.mark.parametrize("args", [[], ["run"]])
def test_without_the_extra_the_playground_says_in_one_line_how_to_get_it(args: list[str]) -> None:
    result = run_python(
        f"{WITHOUT_LOCAL_EXTRA}; from bot.app.cli import main; raise SystemExit(main({args!r}))"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [install_hint(list(LOCAL_EXTRA_MODULES))]
    assert "pip install 'esign-flow-bot[local]'" in result.stderr


def test_without_the_extra_a_lookup_still_runs_on_the_simulator() -> None:
    result = run_python(
        f"{WITHOUT_LOCAL_EXTRA}; from bot.app.cli import main; "
        "raise SystemExit(main(['check', '803719636976683872']))"
    )
    assert result.returncode == 0, result.stderr
    assert "Flow 803719636976683872" in result.stdout


@pytest.fixture
def slack_api() -> Iterator[Playground]:
    # Bolt checks the bot token (auth.test) when the app is built.
    with Playground(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN) as playground:
        yield playground


def unused_local_url() -> str:
    """A loopback URL nothing listens on: a start-up that called e签宝 would fail."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


PRODUCTION_START = f"""
{WITHOUT_LOCAL_EXTRA}
import asyncio, json
import bot
from bot.app.runtime import create_runtime
from bot.app.settings import load_settings
from bot.app.web.asgi import create_app

app = create_app()  # as each web worker builds it
sent = []

async def receive():
    return {{"type": "http.request", "body": b"", "more_body": False}}

async def send(message):
    sent.append(message)

scope = {{"type": "http", "method": "GET", "path": "/healthz", "query_string": b"", "headers": []}}
asyncio.run(app(scope, receive, send))
statuses = [str(sent[0]["status"])]
body = sent[1]["body"]
worker = create_runtime(load_settings(), socket_mode=True)  # as the Socket Mode worker does
print(json.dumps({{
    "health": [statuses[0], json.loads(body)["simulated_esign"]],
    "stand_ins": sorted(m for m in sys.modules if m.split(".")[0] == "stand_ins"),
    "bot_from": bot.__file__,
}}))
worker.close()
app.shutdown(timeout=5)
"""


def test_a_configured_bot_loads_no_stand_in(slack_api: Playground) -> None:
    result = run_python(
        PRODUCTION_START,
        ESIGN_APP_ID="7438000000000001",
        ESIGN_APP_SECRET="production-path-app-secret",
        ESIGN_BASE_URL=unused_local_url(),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN="xapp-1-A0PRODPATH-1-notreal",
        SLACK_API_URL=slack_api.api_url,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["health"] == ["200", False]
    assert report["stand_ins"] == []
    assert warnings_in(result.stderr) == []


def warnings_in(log: str) -> list[str]:
    """The log lines at WARNING or above: a correctly configured start has none (Bolt used to
    warn on every start that the token from SLACK_BOT_TOKEN went unused)."""
    return [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
