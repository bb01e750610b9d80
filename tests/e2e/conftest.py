"""The real app, started from the Procfile's `web:` line, between two local stand-ins:
the e签宝 simulator behind it and the Slack playground in front of it."""

from __future__ import annotations

import itertools
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stand_ins.esign_simulator import EsignSimulator, catalogue_outline
from stand_ins.slack_playground import Message, Playground
from tests.conftest import KNOWN_SECRETS
from tests.e2e.channel_talk import LINK_TEMPLATE
from tests.redis_server import ENGINE_PASSWORD, ENGINES, ClusterSet, RunningRedis, start_redis

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-e2e-bot-token-not-real"
SIGNING_SECRET = "e2e-signing-secret-0123456789"
CACHE_TTL = 3.0


def procfile_command(process: str) -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return shlex.split(command.strip())
    raise AssertionError(f"no {process}: line in the Procfile")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        log = self.log()
        leaked = [secret[:4] for secret in KNOWN_SECRETS if secret in log]
        assert not leaked, f"secrets starting {leaked} appear in the bot's DEBUG log"
        return code


def bot_env(simulator: EsignSimulator, playground: Playground, **extra_env: str) -> dict[str, str]:
    """The environment of a bot process: e签宝 is the simulator, Slack is the playground.

    Nothing is inherited from the caller's ESIGN_/SLACK_ settings, so no real credentials can
    leak into a test.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ESIGN_", "SLACK_", "CACHE_", "LOOKUP_", "ALLOWED_"))
    }
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "ESIGN_APP_ID": simulator.app_id,
            "ESIGN_APP_SECRET": simulator.app_secret,
            "ESIGN_BASE_URL": simulator.base_url,
            "ESIGN_READ_TIMEOUT": "2",
            "ESIGN_DEADLINE": "4",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": playground.api_url,
            "CACHE_TTL_SECONDS": str(CACHE_TTL),
            "LOG_LEVEL": "DEBUG",
            # Many tests fail e签宝 on purpose; the breaker has tests of its own.
            "ESIGN_BREAKER_FAILURES": "100",
            **extra_env,
        }
    )
    return env


def start_bot(
    simulator: EsignSimulator,
    playground: Playground,
    log_path: Path,
    **extra_env: str,
) -> BotProcess:
    port = free_port()
    env = bot_env(
        simulator,
        playground,
        **{
            "PORT": str(port),
            "BIND_HOST": "127.0.0.1",
            # Each bot its own state (recent lookups, event claims), never the checkout's.
            "STATE_DB_PATH": str(log_path.with_suffix(".state.sqlite3")),
            **extra_env,
        },
    )
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        procfile_command("web"), cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
    )
    bot = BotProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_until_healthy(process, bot.base_url, log_path)
    except AssertionError:
        bot.stop(signal.SIGKILL)
        raise
    playground.bot_events_url = f"{bot.base_url}/slack/events"
    return bot


def wait_until_healthy(
    process: subprocess.Popen[bytes], base_url: str, log_path: Path, timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited at start-up:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no answer on /healthz in {timeout} s:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def simulator() -> Iterator[EsignSimulator]:
    with EsignSimulator() as sim:
        yield sim


@pytest.fixture(scope="session")
def playground() -> Iterator[Playground]:
    with Playground(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN) as pg:
        yield pg


@pytest.fixture(scope="session")
def bot(
    simulator: EsignSimulator, playground: Playground, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    process = start_bot(simulator, playground, tmp_path_factory.mktemp("bot") / "bot.log")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def playgrounds() -> Iterator[list[Playground]]:
    """Two Slack workspaces, one per bot process, for the tests of processes sharing state."""
    made = [Playground(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN) for _ in range(2)]
    for playground in made:
        playground.start()
    yield made
    for playground in made:
        playground.stop()


@pytest.fixture
def slack(bot: BotProcess, simulator: EsignSimulator, playground: Playground) -> Playground:
    """A clean Slack workspace and e签宝 for each test, with the same running bot."""
    playground.workspace.reset()
    playground.bot_events_url = f"{bot.base_url}/slack/events"
    simulator.clear_faults()
    simulator.set_latency(0.0)
    simulator.reset_stats()
    return playground


_fresh_ids = itertools.count(1)


@pytest.fixture
def fresh_flow(simulator: EsignSimulator) -> Callable[[str], str]:
    """A copy of a catalogue flow under a never-used id, so no earlier test's cache answers it."""

    def copy_of(template_id: str) -> str:
        outline = catalogue_outline(template_id)
        assert outline is not None, template_id
        flow_id = f"29880{next(_fresh_ids):014d}"
        simulator.add_flow({**outline, "flowId": flow_id})
        return flow_id

    return copy_of


def cards(
    channel: str = "C0GENERAL", *, count: int = 1, ephemeral: bool | None = None
) -> Callable[[list[Message]], list[Message] | None]:
    """A wait_for predicate: the bot's messages in `channel`, once there are `count` of them."""

    def ready(messages: list[Message]) -> list[Message] | None:
        found = [
            m
            for m in messages
            if m.bot
            and m.channel_id == channel
            and (ephemeral is None or m.is_ephemeral == ephemeral)
        ]
        return found if len(found) >= count else None

    return ready


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`./scripts/run` with nothing configured (bot, playground and e签宝 simulator in one
    process), once per module: its base URL."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ESIGN_", "SLACK_", "ALLOWED_"))
    }
    env.update(PORT=str(port), PYTHONPATH=str(ROOT))
    log_path = tmp_path_factory.mktemp("local-run") / "esign-bot.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            # Outside the checkout: a developer's .env with real credentials is never read.
            [sys.executable, "-m", "bot.app.cli"],
            cwd=log_path.parent,
            env=env,
            stdout=log,
            stderr=log,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base_url, log_path)
        output = log_path.read_text()
        assert f"Open      {base_url}/" in output
        assert "SIMULATOR" in output and "local playground" in output
        yield base_url
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


@pytest.fixture(scope="module")
def channel_bot(
    simulator: EsignSimulator, playground: Playground, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    """A bot of the module's own that unfurls the playground's flow links (channel tests)."""
    logs = tmp_path_factory.mktemp("channel-bot")
    bot = start_bot(simulator, playground, logs / "bot.log", UNFURL_URL_PATTERNS=LINK_TEMPLATE)
    yield bot
    assert bot.stop() == 0, bot.log()
    playground.workspace.reset()  # the next module finds the workspace as it expects


def channel_slack(bot: BotProcess, simulator: EsignSimulator, playground: Playground) -> Playground:
    """The playground, emptied and pointed at `bot`, with e签宝 back to normal."""
    playground.workspace.reset()
    playground.bot_events_url = f"{bot.base_url}/slack/events"
    simulator.clear_faults()
    simulator.reset_stats()
    return playground


@pytest.fixture(scope="module", params=ENGINES)
def redis_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningRedis]:
    """Each kind of Redis in turn (one server, Sentinel, Cluster), for the module's bots.

    A test that holds only on one kind narrows it: `@pytest.mark.parametrize("redis_engine",
    ["redis"], indirect=True)`.
    """
    cluster: ClusterSet | None = None
    if request.param == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
    workdir = tmp_path_factory.mktemp(f"redis-{request.param}")
    running = start_redis(request.param, workdir, password=ENGINE_PASSWORD, cluster=cluster)
    try:
        yield running
    finally:
        running.stop()
