"""The Procfile's web process: the bot behind granian (`python -m bot.app.cli serve`).

granian parses HTTP in Rust and calls the app (ASGI, `bot.app.web.asgi`) on one Python thread per
worker, its event loop: a request's body is awaited there without holding it, so a slow client
stalls nobody, and the routes then run on it one request after another. Every
listener only acks and hands the rest to the background pools, so a request needs the GIL for
a fraction of a millisecond and never waits on e签宝 or Slack; one thread then serves requests
one after another with no thread waiting for the GIL another holds. More request threads made
the tail worse, not better: runnable threads queue for the GIL and are switched in 5 ms steps
(bench/RESULTS.md, "One request thread"). The only waits left on that thread are the state
stores (Redis, SQLite), local and bounded by their timeouts.

The number of workers is `WEB_CONCURRENCY` (Heroku's convention), but only when the workers can
share their state through Redis (`REDIS_URL`, a real e签宝): otherwise the TTL cache, the
one-call-per-flow guarantee, the token and the call budget live in one process's memory, and
a second worker would split them, so the bot runs one and says why.

The master only watches its workers, yet `python -m bot.app.cli serve` has imported the whole bot
(pydantic-settings, redis, httpx, slack_sdk, the handlers) to check the settings: 33 MB more
than the bare app's master. Forking does not make that free: refcounts and the worker's full
collection write to the objects' pages, so copy-on-write copies them (30 of the master's 63 MB
were its alone at idle). Once the checks pass, `serve` therefore replaces the process (same pid,
for signals and the platform) with a fresh interpreter that imports only granian and this
module's top, as the bare app's master does (bench/RESULTS.md, "Idle memory, where it goes").
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from bot.app.logs import granian_log_config

if TYPE_CHECKING:
    # Types only: the exec'd master (`_master`) must not import pydantic-settings and redis.
    from bot.app.lookup_stack import StartSimulator
    from bot.app.settings import Settings
    from bot.app.web.asgi import BotAsgi

log = logging.getLogger(__name__)

#: Python threads calling the app, per worker (see above for why one).
REQUEST_THREADS = 1
#: Heroku-style platforms send SIGKILL 30 s after SIGTERM: a worker that has not finished
#: delivering acked lookups by then is stopped by granian first, so the exit stays clean.
WORKER_KILL_SECONDS = 28
#: How long a stopping worker waits for acked lookups to deliver their cards.
DRAIN_SECONDS = 20.0
#: Slack's requests come from its edge over keep-alive connections; a new request thread after
#: every idle spell would cost a thread start on the next ack.
THREAD_IDLE_SECONDS = 600
APP_FACTORY = "bot.app.web.server:serving_app"
#: prometheus_client's multiprocess mode reads its directory from this variable.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def worker_count(settings: Settings) -> tuple[int, str | None]:
    """How many workers to run, and a warning when that is fewer than asked for."""
    asked = settings.web_concurrency
    if asked == 1 or (settings.redis_configured and settings.esign_configured):
        return asked, None
    if settings.redis_configured:
        missing = "the built-in e签宝 simulator is per process"
    else:
        missing = "no Redis is set"
    return 1, (
        f"WEB_CONCURRENCY={asked} but {missing}: running 1 worker, since more would each keep "
        "their own cache, e签宝 token and call budget. Set REDIS_URL (or REDIS_SENTINELS, "
        "REDIS_CLUSTER_URL) to run several."
    )


def server_options(
    settings: Settings, workers: int, app_factory: str = APP_FACTORY
) -> dict[str, Any]:
    """Everything granian is told, from the bot's settings."""
    return {
        "target": app_factory,
        "factory": True,
        # ASGI without lifespan: the app is built by the factory, drained by its own thread.
        "interface": Interfaces.ASGINL,
        "websockets": False,
        "address": settings.bind_host,
        "port": settings.port,
        "workers": workers,
        "blocking_threads": REQUEST_THREADS,
        "blocking_threads_idle_timeout": THREAD_IDLE_SECONDS,
        "workers_kill_timeout": WORKER_KILL_SECONDS,
        # A worker that dies is replaced, as a process manager would.
        "respawn_failed_workers": True,
        "log_level": LogLevels(settings.log_level.lower()),
        "log_access": False,
        # LOG_FORMAT=json: granian's own lines too, in master and workers (a dictConfig is
        # plain data, fit for the master's argv); otherwise granian's format, as ever.
        **({"log_dictconfig": granian_log_config("json")} if settings.log_format == "json" else {}),
    }


def serving_app(simulator: StartSimulator | None = None) -> BotAsgi:
    """granian's app factory, called once in each worker: the app, and its drain on exit.

    `simulator`: only from the ESIGN_SIMULATOR=1 factory (stand_ins.simulated_esign)."""
    # Imported here, not by the master process, which only manages the workers.
    from bot.app.web.asgi import create_app

    app = create_app(simulator)
    _drain_after_serving(app)
    return app


def _drain_after_serving(app: BotAsgi) -> None:
    # A stopping worker returns from its main thread once it no longer takes requests, and the
    # interpreter then waits for every non-daemon thread: this one delivers what was acked.
    main = threading.main_thread()

    def drain() -> None:
        main.join()
        app.shutdown(DRAIN_SECONDS)

    threading.Thread(target=drain, name="drain-on-exit", daemon=False).start()


def serve(settings: Settings, app_factory: str = APP_FACTORY) -> int:
    """Run the web process until it is told to stop (SIGTERM, SIGINT): the settings were
    checked, so this process becomes granian's master (`_master`), and does not return."""
    workers, fewer = worker_count(settings)
    options = server_options(settings, workers, app_factory)
    if fewer:
        log.warning(fewer)
    if settings.metrics:
        # Inherited by the master and so by every worker, which write their figures there.
        os.environ[MULTIPROCESS_ENV] = fresh_metrics_dir(settings.port)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # exec drops what Python still buffers
    os.execv(sys.executable, master_argv(options))  # noqa: S606 - this interpreter, fixed argv
    return 0  # not reached: execv returns only by raising


def fresh_metrics_dir(port: int) -> str:
    """An empty directory for prometheus_client's per-worker files (`bot.app.metrics`): figures
    left by an earlier run would be summed with this one's. PROMETHEUS_MULTIPROC_DIR when the
    operator sets it, else one per port, so two web processes on one machine stay apart."""
    directory = os.environ.get(MULTIPROCESS_ENV) or os.path.join(
        tempfile.gettempdir(), f"esign-flow-metrics-{port or os.getpid()}"
    )
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, mode=0o700)
    return directory


def master_argv(options: dict[str, Any]) -> list[str]:
    """The command line of the slim master: this module run with `options` as JSON.

    It shows in `ps`, so the options must stay free of secrets (they are today: addresses,
    counts, timeouts). Enums travel as their values, and `_master` turns them back.
    """
    plain = {key: getattr(value, "value", value) for key, value in options.items()}
    return [sys.executable, "-m", "bot.app.web.server", json.dumps(plain)]


def _master(argv: Sequence[str]) -> int:
    options: dict[str, Any] = json.loads(argv[0])
    options["interface"] = Interfaces(options["interface"])
    options["log_level"] = LogLevels(options["log_level"])
    Granian(**options).serve()
    return 0


if __name__ == "__main__":
    sys.exit(_master(sys.argv[1:]))
