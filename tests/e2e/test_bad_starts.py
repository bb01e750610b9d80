"""Deploys that start wrong, run as the platform runs them: the real process, real sockets.

What the first lines of the log say decides how fast someone fixes a deploy. A setting Slack or
the machine refuses stops the start with one plain line naming it (no traceback, no secret);
an unreachable Slack does not stop it: the process waits, says so once, and serves as soon as
Slack answers.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from stand_ins.esign_simulator import EsignSimulator
from stand_ins.slack_playground import Playground
from tests.e2e.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotProcess,
    bot_env,
    cards,
    free_port,
    procfile_command,
)

REFUSED_TOKEN = "xoxb-0000-refused-by-slack-e2e"
APP_TOKEN = "xapp-1-A0PLAYGRND-1-e2ebadstarts"
CLI = [sys.executable, "-m", "bot.app.cli"]
#: Entry points that serve Slack: the web process, the Socket Mode worker, and bare `esign-bot`.
ENTRY_POINTS = {"serve": ["serve"], "socket": ["socket"], "esign-bot": []}
START_TIMEOUT = 30.0


def run_to_exit(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = START_TIMEOUT
) -> tuple[int, str]:
    """Run the CLI until it exits by itself: its exit code and everything it printed."""
    done = subprocess.run(
        CLI + args, cwd=cwd, env=env, capture_output=True, timeout=timeout, check=False
    )
    return done.returncode, (done.stdout + done.stderr).decode(errors="replace")


def assert_one_plain_line(output: str, setting: str, *also: str) -> str:
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    [line] = lines
    assert setting in line
    for word in also:
        assert word in line
    return line


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    # An empty working directory, as on a dyno: no `.env` from the checkout is read.
    return tmp_path


def env_for(
    simulator: EsignSimulator, playground: Playground, run_dir: Path, **extra: str
) -> dict[str, str]:
    settings = {
        "PORT": str(free_port()),
        "BIND_HOST": "127.0.0.1",
        "STATE_DB_PATH": str(run_dir / "state.sqlite3"),
        "SLACK_RECHECK_SECONDS": "0.5",
        **extra,
    }
    return bot_env(simulator, playground, **settings)


# ------------------------------------------------------------------ a token Slack refuses


@pytest.mark.parametrize(
    ("entry", "socket_mode"),
    [("serve", False), ("socket", True), ("esign-bot", False), ("esign-bot", True)],
    ids=["serve", "socket", "esign-bot-http", "esign-bot-socket-mode"],
)
def test_a_refused_bot_token_stops_the_start_with_one_line_naming_it(
    entry: str,
    socket_mode: bool,
    simulator: EsignSimulator,
    playground: Playground,
    run_dir: Path,
) -> None:
    playground.workspace.reset()
    extra = {"SLACK_BOT_TOKEN": REFUSED_TOKEN}
    if socket_mode:
        extra["SLACK_APP_TOKEN"] = APP_TOKEN
    code, output = run_to_exit(
        ENTRY_POINTS[entry], env_for(simulator, playground, run_dir, **extra), run_dir
    )
    assert code != 0
    line = assert_one_plain_line(output, "SLACK_BOT_TOKEN", "invalid_auth")
    assert REFUSED_TOKEN not in output
    assert line.startswith("SLACK_BOT_TOKEN was refused by Slack (invalid_auth)")
    # Asked once, before any worker: no worker was started to crash and be respawned.
    asked = [c for c in playground.workspace.calls() if c.method == "auth.test"]
    assert len(asked) == 1 and not asked[0].response["ok"]


# ------------------------------------------------------------------ Slack away at start


def _healthz(base_url: str) -> dict[str, object] | None:
    try:
        answer = httpx.get(f"{base_url}/healthz", timeout=1)
    except httpx.TransportError:
        return None
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _wait(what: str, ready: Callable[[], bool], bot: BotProcess, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert bot.process.poll() is None, f"exited while waiting for {what}:\n{bot.log()}"
        assert time.monotonic() < deadline, f"no {what} in {timeout} s:\n{bot.log()}"
        time.sleep(0.1)


@pytest.fixture
def slack_later() -> Iterator[Playground]:
    """A Slack that is down at first: its port is known and closed until `start()`."""
    port = free_port()
    later = Playground(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, port=port)
    later.base_url = f"http://127.0.0.1:{port}"
    yield later
    later.stop()


def _start(command: list[str], env: dict[str, str], run_dir: Path, base_url: str) -> BotProcess:
    log_path = run_dir / "bot.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=run_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    return BotProcess(process, base_url, log_path)


def test_the_web_process_waits_for_slack_and_serves_once_it_answers(
    simulator: EsignSimulator,
    slack_later: Playground,
    run_dir: Path,
    fresh_flow: Callable[[str], str],
) -> None:
    env = env_for(simulator, slack_later, run_dir)
    bot = _start(procfile_command("web"), env, run_dir, f"http://127.0.0.1:{env['PORT']}")
    try:
        # Up and saying why it cannot reach Slack; the platform's health check still passes.
        _wait("/healthz", lambda: _healthz(bot.base_url) is not None, bot)
        health = _healthz(bot.base_url)
        assert health is not None and health["slack"] == "unreachable"

        # A request meanwhile: Slack's signature needs no Slack, so the bot can answer it.
        slack_later.bot_events_url = f"{bot.base_url}/slack/events"
        helped = slack_later.slash_command("help")
        assert helped.status == 200
        assert "/esign-flow" in helped.json()["text"]

        slack_later.workspace.reset()
        slack_later.start()
        _wait("Slack back", lambda: (_healthz(bot.base_url) or {}).get("slack") == "ok", bot)
        flow_id = fresh_flow("803719636976683872")
        assert slack_later.slash_command(flow_id).status == 200
        [card] = slack_later.workspace.wait_for(cards(ephemeral=True))
        assert f"Flow {flow_id}" in card.visible_text()
    finally:
        assert bot.stop() == 0
    log = bot.log()
    assert "Traceback" not in log
    assert log.count("Slack is unreachable") == 1, log
    assert log.count("Slack answers again") == 1, log


def test_the_socket_mode_worker_waits_for_slack_and_connects_once_it_answers(
    simulator: EsignSimulator, run_dir: Path
) -> None:
    port = free_port()
    slack = Playground(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN, port=port
    )
    slack.base_url = f"http://127.0.0.1:{port}"
    env = env_for(simulator, slack, run_dir, SLACK_APP_TOKEN=APP_TOKEN)
    del env["SLACK_SIGNING_SECRET"]
    worker = _start(procfile_command("worker"), env, run_dir, "")
    try:
        _wait("the unreachable line", lambda: "Slack is unreachable" in worker.log(), worker)
        time.sleep(1.5)  # a few retries: each must stay quiet
        slack.start()
        _wait("a Socket Mode link", lambda: slack.socket_connected, worker)
        helped = slack.slash_command("help")
        assert helped.status == 200
        assert "/esign-flow" in helped.json()["text"]
    finally:
        slack.stop()
        worker.stop()
    log = worker.log()
    assert "Traceback" not in log
    assert log.count("Slack is unreachable") == 1, log
    assert log.count("Slack answers again") == 1, log


# ------------------------------------------------------------------ the state file


def test_a_state_file_that_is_not_a_database_is_named_and_left_untouched(
    simulator: EsignSimulator, playground: Playground, run_dir: Path
) -> None:
    notes = run_dir / "notes.txt"
    notes.write_text("Not a database: someone's notes, which must survive a bad deploy.\n")
    before = notes.read_bytes()
    for entry in ("serve", "socket"):
        extra = {"STATE_DB_PATH": str(notes)}
        if entry == "socket":
            extra["SLACK_APP_TOKEN"] = APP_TOKEN
        code, output = run_to_exit(
            [entry], env_for(simulator, playground, run_dir, **extra), run_dir
        )
        assert code != 0
        assert_one_plain_line(output, "STATE_DB_PATH", str(notes), "not a SQLite database")
    assert notes.read_bytes() == before
    assert sorted(p.name for p in run_dir.iterdir()) == ["notes.txt"]  # no -wal, no -shm


def test_a_state_file_in_a_missing_folder_gets_its_folder(
    simulator: EsignSimulator, playground: Playground, run_dir: Path
) -> None:
    state = run_dir / "not" / "there" / "yet" / "state.sqlite3"
    env = env_for(simulator, playground, run_dir, STATE_DB_PATH=str(state))
    bot = _start(procfile_command("web"), env, run_dir, f"http://127.0.0.1:{env['PORT']}")
    try:
        _wait("/healthz", lambda: (_healthz(bot.base_url) or {}).get("slack") == "ok", bot)
    finally:
        assert bot.stop() == 0
    assert state.is_file()
    assert "Traceback" not in bot.log()


# ------------------------------------------------------------------ every other setting


@pytest.fixture(scope="module")
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


BAD_SETTINGS: dict[str, tuple[str, str]] = {
    # id: (setting, value); the value "{taken_port}" / "{missing}" / "{folder}" is filled in.
    "port-not-a-number": ("PORT", "http"),
    "port-out-of-range": ("PORT", "70000"),
    "port-taken": ("PORT", "{taken_port}"),
    "bind-host-not-here": ("BIND_HOST", "192.0.2.1"),
    "bind-host-garbage": ("BIND_HOST", "local host"),
    "seconds-not-a-number": ("ESIGN_READ_TIMEOUT", "fast"),
    "seconds-nan": ("ESIGN_CONNECT_TIMEOUT", "nan"),
    "count-negative": ("ESIGN_MAX_RETRIES", "-1"),
    "workers-zero": ("WEB_CONCURRENCY", "0"),
    "recheck-zero": ("SLACK_RECHECK_SECONDS", "0"),
    "log-level": ("LOG_LEVEL", "verbose"),
    "esign-env": ("ESIGN_ENV", "staging"),
    "esign-url-garbage": ("ESIGN_BASE_URL", "http://[::1"),
    "esign-url-no-scheme": ("ESIGN_BASE_URL", "openapi.esign.cn"),
    "slack-url-garbage": ("SLACK_API_URL", "http://slack.com:99999/api/"),
    "slack-url-no-host": ("SLACK_API_URL", "http:///api/"),
    "redis-url-garbage": ("REDIS_URL", "not a url at all"),
    "redis-url-scheme": ("REDIS_URL", "http://127.0.0.1:6379/0"),
    "redis-url-option": ("REDIS_URL", "redis://127.0.0.1:9/0?socket_timeout=soon"),
    "redis-tls-file-unreadable": ("REDIS_URL", "rediss://127.0.0.1:9/0?ssl_ca_certs={missing}"),
    "redis-cluster-socket": ("REDIS_CLUSTER_URL", "unix:///run/redis.sock"),
    "redis-cluster-database": ("REDIS_CLUSTER_URL", "redis://127.0.0.1:9/3"),
    "redis-sentinel-tls": ("REDIS_SENTINEL_TLS", "sometimes"),
    "allowed-ids": ("ALLOWED_CHANNEL_IDS", "general"),
    "state-db-is-a-folder": ("STATE_DB_PATH", "{folder}"),
}


@pytest.mark.parametrize(("setting", "value"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_a_bad_setting_gets_one_line_naming_it(
    setting: str,
    value: str,
    simulator: EsignSimulator,
    playground: Playground,
    run_dir: Path,
    taken_port: int,
) -> None:
    value = value.format(taken_port=taken_port, missing=run_dir / "no-ca.pem", folder=run_dir)
    code, output = run_to_exit(
        ["serve"], env_for(simulator, playground, run_dir, **{setting: value}), run_dir
    )
    assert code == 2
    assert_one_plain_line(output, setting)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_names_a_bad_setting_the_same_way(
    entry: str, simulator: EsignSimulator, playground: Playground, run_dir: Path
) -> None:
    env = env_for(simulator, playground, run_dir, SLACK_APP_TOKEN=APP_TOKEN, WEB_CONCURRENCY="x")
    code, output = run_to_exit(ENTRY_POINTS[entry], env, run_dir)
    assert code == 2
    assert_one_plain_line(output, "WEB_CONCURRENCY")


def test_a_dotenv_that_is_not_text_is_named(
    simulator: EsignSimulator, playground: Playground, run_dir: Path
) -> None:
    (run_dir / ".env").write_bytes(b"LOG_LEVEL=INFO\nPORT=\xff\xfe\n")
    code, output = run_to_exit(["serve"], env_for(simulator, playground, run_dir), run_dir)
    assert code == 2
    assert_one_plain_line(output, ".env", "UTF-8")
