"""gunicorn settings for the Procfile's web process.

One worker process with many threads: the TTL cache and the one-call-per-flow guarantee live in
process memory, and the threads only wait for `ack()`, which never waits on e签宝.
"""

from __future__ import annotations

import sys
from typing import Any

from bot.settings import ConfigError, load_settings

try:
    _settings = load_settings()
except ConfigError as exc:
    sys.exit(str(exc))

bind = f"{_settings.bind_host}:{_settings.port}"
worker_class = "gthread"
workers = 1
threads = 32
# Heroku-style platforms send SIGKILL 30 s after SIGTERM: finish in-flight lookups before that.
graceful_timeout = 28
timeout = 60
keepalive = 5
errorlog = "-"
loglevel = _settings.log_level.lower()
#: How long the worker waits for acked lookups to deliver their cards on shutdown.
DRAIN_SECONDS = 20.0


def worker_exit(server: Any, worker: Any) -> None:
    """Runs in the worker once it has stopped taking requests: deliver what was acked."""
    app = getattr(worker, "wsgi", None)
    shutdown = getattr(app, "shutdown", None)
    if callable(shutdown):
        shutdown(DRAIN_SECONDS)
