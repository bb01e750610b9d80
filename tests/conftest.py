"""Suite-wide guard: every log record the tests produce, at DEBUG, is checked for secrets.

The bot processes started by the end-to-end tests log at DEBUG too; their logs are checked when
each one stops (tests/e2e/conftest.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

# Loads the filter that hides token-endpoint secrets in httpx's request log, as the bot does.
import bot.esign.token_auth  # noqa: F401
from stand_ins.slack_sink import SlackSink
from tests.redis_server import (
    CLUSTER_PASSWORD,
    ENGINE_PASSWORD,
    ClusterSet,
    require_redis_server,
)

#: Every secret the tests configure anywhere. None may appear in any log line.
KNOWN_SECRETS = (
    "e2e-signing-secret-0123456789",
    "xoxb-e2e-bot-token-not-real",
    "simulator-app-secret",
    "unit-test-app-secret",
    "token-secret",
    "wrong-secret-value",
    "playground-test-signing-secret",
    "test-app-secret",
    "xapp-1-A0PLAYGRND-1-e2esocket",
    CLUSTER_PASSWORD,
    ENGINE_PASSWORD,
)


class _SecretWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.leaks: list[str] = []
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        try:
            text = self.format(record) + " " + " ".join(map(str, vars(record).values()))
        except (TypeError, ValueError):  # a record that cannot format still gets checked
            text = f"{record.msg} {record.args}"
        for secret in KNOWN_SECRETS:
            if secret in text:
                self.leaks.append(f"{record.name}: secret {secret[:4]}… in {text[:200]!r}")


_watch = _SecretWatch()


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_watch)
    root.setLevel(logging.DEBUG)


@pytest.fixture(autouse=True)
def _no_secret_in_logs() -> Iterator[None]:
    """Each test fails on a secret logged while it ran: this holds in every xdist worker too,
    where the session's own summary below cannot fail the run."""
    yield
    if _watch.leaks:
        leaks = list(_watch.leaks)
        _watch.leaks.clear()
        pytest.fail("SECRET LEAKED INTO LOGS:\n" + "\n".join(leaks[:20]), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_watch)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if _watch.leaks:
        if reporter is not None:
            reporter.write_line("SECRET LEAKED INTO LOGS:", red=True)
            for leak in _watch.leaks[:20]:
                reporter.write_line(f"  {leak}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter is not None and _watch.records:
        reporter.write_line(
            f"secret check: {_watch.records} log records at DEBUG, none has a secret"
        )
    elif reporter is not None and session.config.pluginmanager.hasplugin("dsession"):
        reporter.write_line("secret check: every log record, test by test, in each worker")


@pytest.fixture(autouse=True)
def _state_in_a_temp_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test keeps the bot's watches and preferences in a file of its own."""
    monkeypatch.setenv("STATE_DB_PATH", str(tmp_path_factory.mktemp("state") / "state.sqlite3"))


@pytest.fixture
def sink() -> Iterator[SlackSink]:
    """The benchmark's Slack sink, on a loopback port of its own for one test."""
    sink = SlackSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterSet]:
    """One 3-primary Redis Cluster for the whole run (started by the first test that asks);
    each user flushes it first."""
    require_redis_server()
    cluster = ClusterSet(tmp_path_factory.mktemp("redis-cluster"), password=CLUSTER_PASSWORD)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
