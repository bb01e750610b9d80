"""WEB_CONCURRENCY workers only when they can share their state through Redis."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from bot import gunicorn_conf
from bot.gunicorn_conf import worker_count
from bot.settings import load_settings

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


def test_a_workers_request_threads_are_all_running_before_it_serves() -> None:
    pool = ThreadPoolExecutor(max_workers=gunicorn_conf.threads, thread_name_prefix="gthread-t")
    try:
        gunicorn_conf.post_worker_init(SimpleNamespace(tpool=pool))
        running = [t for t in threading.enumerate() if t.name.startswith("gthread-t")]
        assert len(running) == gunicorn_conf.threads
    finally:
        pool.shutdown(wait=True)
