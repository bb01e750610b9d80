"""gunicorn settings for the Procfile's web process.

Each worker has many threads: they only wait for `ack()`, which never waits on e签宝. The
number of workers is `WEB_CONCURRENCY` (gunicorn's and Heroku's convention), but only when the
workers can share their state through Redis (`REDIS_URL`, a real e签宝): otherwise the TTL cache,
the one-call-per-flow guarantee, the token and the call budget live in one process's memory,
and a second worker would split them, so the bot runs one and says why.
"""

from __future__ import annotations

import sys
from typing import Any

from bot.settings import ConfigError, Settings, load_settings
from bot.thread_pools import prestart_threads

try:
    _settings = load_settings()
except ConfigError as exc:
    sys.exit(str(exc))


def worker_count(settings: Settings) -> tuple[int, str | None]:
    """How many workers to run, and a warning when that is fewer than asked for."""
    asked = settings.web_concurrency
    if asked == 1 or (settings.redis_configured and settings.esign_configured):
        return asked, None
    if settings.redis_configured:
        missing = "the built-in e签宝 simulator is per process"
    else:
        missing = "REDIS_URL is not set"
    return 1, (
        f"WEB_CONCURRENCY={asked} but {missing}: running 1 worker, since more would each keep "
        "their own cache, e签宝 token and call budget. Set REDIS_URL to run several."
    )


bind = f"{_settings.bind_host}:{_settings.port}"
worker_class = "gthread"
workers, _fewer_workers = worker_count(_settings)
threads = 32
# Heroku-style platforms send SIGKILL 30 s after SIGTERM: finish in-flight lookups before that.
graceful_timeout = 28
timeout = 60
keepalive = 5
errorlog = "-"
loglevel = _settings.log_level.lower()
#: How long the worker waits for acked lookups to deliver their cards on shutdown.
DRAIN_SECONDS = 20.0


def on_starting(server: Any) -> None:
    if _fewer_workers:
        server.log.warning(_fewer_workers)


def post_worker_init(worker: Any) -> None:
    """Start the request threads now, not one by one under the first burst of requests."""
    pool = getattr(worker, "tpool", None)
    if pool is not None:
        prestart_threads(pool, threads)


def worker_exit(server: Any, worker: Any) -> None:
    """Runs in the worker once it has stopped taking requests: deliver what was acked."""
    app = getattr(worker, "wsgi", None)
    shutdown = getattr(app, "shutdown", None)
    if callable(shutdown):
        shutdown(DRAIN_SECONDS)
