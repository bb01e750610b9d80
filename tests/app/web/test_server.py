"""The web process: how many workers, what granian is told, and the drain when a worker stops."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bot.app.settings import load_settings
from bot.app.web import server as web_server
from bot.app.web.server import server_options, worker_count

ESIGN = {"esign_app_id": "7438000000000001", "esign_app_secret": "unit-test-app-secret"}
REDIS = {"redis_url": "redis://127.0.0.1:6379/0"}


@pytest.mark.parametrize(
    ("settings", "workers", "warned"),
    [
        ({}, 1, False),
        ({"web_concurrency": 1, **ESIGN}, 1, False),
        ({"web_concurrency": 4, **ESIGN, **REDIS}, 4, False),
        ({"web_concurrency": 4, **ESIGN}, 1, True),
        ({"web_concurrency": 3, **REDIS}, 1, True),  # built-in simulator: one per process
    ],
)
def test_worker_count(settings: dict[str, object], workers: int, warned: bool) -> None:
    count, warning = worker_count(load_settings(**settings))
    assert count == workers
    assert (warning is not None) == warned
    if warning:
        assert "REDIS_URL" in warning and "1 worker" in warning


def test_granian_serves_the_bots_factory_where_the_settings_say() -> None:
    settings = load_settings(port=4321, bind_host="127.0.0.1", log_level="DEBUG")
    options = server_options(settings, 3)
    assert options["target"] == "bot.app.web.server:serving_app" and options["factory"] is True
    assert (options["address"], options["port"], options["workers"]) == ("127.0.0.1", 4321, 3)
    assert options["interface"] == "asginl" and options["log_level"] == "debug"
    assert options["blocking_threads"] == 1
    # Inside the platform's 30 s between SIGTERM and SIGKILL, after the drain's 20 s.
    assert web_server.DRAIN_SECONDS < options["workers_kill_timeout"] < 30


def test_a_stopping_process_finishes_its_drain_before_it_exits() -> None:
    # As in a granian worker: the main thread returns, then the drain runs, then the exit.
    script = textwrap.dedent(
        """
        import time
        from bot.app.web import server as web_server

        class App:
            def shutdown(self, timeout):
                time.sleep(0.3)
                print("drained within", timeout, flush=True)

        web_server._drain_after_serving(App())
        print("main thread done", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.splitlines() == ["main thread done", "drained within 20.0"]


def test_the_master_gets_the_options_granian_is_told_and_imports_only_granian() -> None:
    # The master is a fresh interpreter (bot.app.web.server.serve execs it): the bot's settings,
    # Redis and Slack modules stay in the workers, where they are used.
    argv = web_server.master_argv(server_options(load_settings(), 1))
    assert argv[1:3] == ["-m", "bot.app.web.server"]
    script = textwrap.dedent(
        f"""
        import json, sys
        import bot.app.web.server
        options = json.loads({argv[3]!r})
        heavy = ("bot.app.settings", "pydantic_settings", "redis", "httpx", "slack_bolt")
        heavy = [m for m in heavy if m in sys.modules]
        print(options["interface"], options["log_level"], heavy)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.split() == ["asginl", "info", "[]"]
