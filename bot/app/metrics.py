"""What the bot counts, and GET /metrics: Prometheus's text format through `prometheus_client`.

The web process runs `WEB_CONCURRENCY` workers and a scrape reaches whichever one the socket
hands it to, so every figure goes through the client's multiprocess mode: each worker writes
its values to files in `PROMETHEUS_MULTIPROC_DIR` (made fresh by `bot.app.web.server.serve`
before the workers start) and a scrape sums them all. Counters and histograms of a worker that
died stay in the sum (a total must not go backwards); its live gauges are dropped
(`mark_process_dead`) the next time anyone scrapes. Without that variable (the Socket Mode
worker, tests in one process) the values live in this process's memory.

The layers below `bot.app` never import this: the composition root hands them plain callables
(`bot.app.runtime`), and with METRICS=0 it hands them none at all.

Label values come from small fixed sets (outcomes, method names, doors, verdicts): never a
flow, user, channel or team id, which would make a series per person and leak who asked.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from bot.app.settings import Settings
from bot.delivery.flow_cards import LookupOutcome
from bot.esign.errors import (
    CircuitOpen,
    EsignUnavailable,
    FlowNotFound,
    GatewayRejected,
    InvalidFlowId,
    RateLimited,
)
from bot.esign.rate_limit import CallPacer
from bot.state.records import StateStore
from bot.state.shared.engine import SharedState

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The files prometheus_client writes per process: `<kind>_<pid>.db`.
_PID_FILE = re.compile(r"_(\d+)\.db$")

#: Slack gives up on an ack after 3 s: the buckets are finest well below that.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
ESIGN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0)

#: Payload types Slack sends to /slack/events; anything else (a forged body) counts as "other".
DOORS = frozenset(
    {
        "command",
        "block_actions",
        "shortcut",
        "message_action",
        "view_submission",
        "view_closed",
        "block_suggestion",
        "event_callback",
        "url_verification",
    }
)

#: e签宝 callback refusals by reason (bot.esign.callbacks), as verdicts.
_CALLBACK_VERDICTS = {
    "unknown app id": "foreign_app",
    "stale timestamp": "stale",
    "body too large": "too_large",
    "body is not JSON": "malformed",
    "body is not a JSON object": "malformed",
}

#: Live facts read at scrape time: (name, help, value), or no value when it cannot be read.
LiveFacts = Callable[[], Iterable[tuple[str, str, float | None]]]


def lookup_outcome(outcome: LookupOutcome) -> tuple[str, str]:
    """The (outcome, source) labels of one lookup."""
    if outcome.snapshot is not None:
        return "ok", "cache" if outcome.snapshot.from_cache else "esign"
    error = outcome.error
    if error is None:
        name = "internal_error"
    elif isinstance(error, FlowNotFound):
        name = "not_found"
    elif isinstance(error, InvalidFlowId):
        name = "invalid_id"
    elif isinstance(error, CircuitOpen):
        name = "refused"  # the breaker kept the call from e签宝
    elif isinstance(error, RateLimited):
        name = "rate_limited"
    elif isinstance(error, GatewayRejected):
        name = "rejected"
    elif isinstance(error, EsignUnavailable):
        name = "unavailable"
    else:
        name = "esign_error"
    return name, "esign"


def callback_verdict(status: int, reason: str) -> str:
    if status == 200:
        return "accepted"
    return _CALLBACK_VERDICTS.get(reason, "forged" if status == 401 else "malformed")


def slack_door(body: object) -> str:
    """The kind of Slack request, from the body Bolt parsed, as a bounded label."""
    if not isinstance(body, Mapping):
        return "other"
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in DOORS else "other"


class Metrics:
    """The bot's metric families and the hooks the composition root hands to the layers."""

    def __init__(self, *, token: str | None = None) -> None:
        self._token = token.encode() if token else None
        self._live: list[LiveFacts] = []
        # A registry per instance: tests build several runtimes in one process.
        self._registry = registry = CollectorRegistry(auto_describe=False)
        self._live_collector = _LiveCollector(self._live)
        registry.register(self._live_collector)
        self._lookups = Counter(
            "esign_flow_lookups",
            "Flows looked up, by outcome and where the answer came from.",
            ["outcome", "source"],
            registry=registry,
        )
        self._esign = Histogram(
            "esign_flow_esign_request_seconds",
            "HTTP requests to e签宝 (each retry its own), by outcome.",
            ["outcome"],
            buckets=ESIGN_BUCKETS,
            registry=registry,
        )
        self._slack = Counter(
            "esign_flow_slack_api_calls",
            "Slack Web API calls and response_url posts, by method and outcome.",
            ["method", "outcome"],
            registry=registry,
        )
        self._ack = Histogram(
            "esign_flow_ack_seconds",
            "From a request's arrival to its answer (Slack's ack, e签宝's 200), by door.",
            ["door"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self._notices = Counter(
            "esign_flow_notices",
            "Watch notices: delivered, retried later, given up, dropped.",
            ["kind"],
            registry=registry,
        )
        self._callbacks = Counter(
            "esign_flow_callbacks",
            "e签宝 status callbacks received, by verdict.",
            ["verdict"],
            registry=registry,
        )
        self._budget_waits = Counter(
            "esign_flow_esign_budget_waits",
            "e签宝 calls that waited for the call budget (ESIGN_MAX_QPS).",
            registry=registry,
        )
        # Per worker; summed over the live ones, as each holds its own.
        self._cache_entries = Gauge(
            "esign_flow_cache_entries",
            "Flows held in the workers' TTL caches.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        # Each worker has its own breaker (README): 1 when any live one is open.
        self._breaker_open = Gauge(
            "esign_flow_esign_breaker_open",
            "1 while a worker's e签宝 circuit breaker is open.",
            registry=registry,
            multiprocess_mode="livemax",
        )

    # Hooks, handed to the layers below as plain callables.

    def lookups(self, cached_flows: Callable[[], int]) -> Callable[[LookupOutcome], None]:
        """For FlowCards: count each lookup, and how many flows the cache now holds."""

        def observe(outcome: LookupOutcome) -> None:
            name, source = lookup_outcome(outcome)
            self._lookups.labels(name, source).inc()
            self._cache_entries.set(cached_flows())

        return observe

    def esign_requests(self, breaker_open: Callable[[], bool]) -> Callable[[str, float], None]:
        """For EsignClient: time each request; the breaker changes only as calls end."""

        def observe(outcome: str, seconds: float) -> None:
            self._esign.labels(outcome).observe(seconds)
            self._breaker_open.set(1 if breaker_open() else 0)

        return observe

    def budget_waited(self) -> None:
        self._budget_waits.inc()

    def slack_call(self, method: str, outcome: str) -> None:
        self._slack.labels(method, outcome).inc()

    def acked(self, door: str, seconds: float) -> None:
        self._ack.labels(door).observe(seconds)

    def socket_mode_acked(self, payload: object, seconds: float) -> None:
        """An envelope's ack: the same doors as over HTTP, from the envelope's payload."""
        self._ack.labels(slack_door(payload)).observe(seconds)

    def notice(self, kind: str) -> None:
        self._notices.labels(kind).inc()

    def callback(self, status: int, reason: str) -> None:
        self._callbacks.labels(callback_verdict(status, reason)).inc()

    def read_live(self, facts: LiveFacts) -> None:
        """Facts read from the shared store at each scrape, the same whichever worker answers."""
        self._live.append(facts)

    # The endpoint.

    def allowed(self, authorization: str | None) -> int:
        """200, or the status for a scrape without the right METRICS_TOKEN (401 none, 403
        wrong)."""
        if self._token is None:
            return 200
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return 401
        return 200 if hmac.compare_digest(given.strip().encode(), self._token) else 403

    def scrape(self, authorization: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
        """What a GET /metrics gets, on the web port or the worker's: status, headers, body."""
        status = self.allowed(authorization)
        if status == 401:
            return 401, [("WWW-Authenticate", 'Bearer realm="metrics"')], b""
        if status != 200:
            return status, [], b""
        body, content_type = self.exposition()
        return 200, [("Content-Type", content_type)], body

    def exposition(self) -> tuple[bytes, str]:
        """The text a scrape gets, and its content type."""
        directory = os.environ.get(MULTIPROCESS_ENV)
        registry = self._registry
        if directory:
            # The sum of every worker's files, this one's included, and the live facts.
            registry = CollectorRegistry(auto_describe=False)
            forget_dead_workers(directory)
            MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
            registry.register(self._live_collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _LiveCollector(Collector):
    def __init__(self, sources: list[LiveFacts]) -> None:
        self._sources = sources

    def collect(self) -> Iterable[Metric]:
        for source in self._sources:
            try:
                facts = list(source())
            except Exception:  # a scrape must answer even when a store is down
                log.warning("metrics: a live figure could not be read", exc_info=True)
                continue
            for name, help_text, value in facts:
                if value is not None:
                    yield GaugeMetricFamily(name, help_text, value=value)


def forget_dead_workers(directory: str) -> None:
    """Drop the live gauges of workers that are gone (granian respawns a dead one under a new
    pid); their counters stay, so totals never go backwards."""
    pids = set()
    for name in os.listdir(directory):
        found = _PID_FILE.search(name)
        if found:
            pids.add(int(found.group(1)))
    for pid in pids:
        if not _alive(pid):
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CountedPacer:
    """The call budget, counting the calls that had to wait for it."""

    #: Below this the budget let the call straight through (the lock and clock alone).
    WAITED_SECONDS = 0.001

    def __init__(self, pacer: CallPacer, waited: Callable[[], None]) -> None:
        self._pacer = pacer
        self._waited = waited

    def acquire(self, max_wait: float) -> None:
        started = time.perf_counter()
        try:
            self._pacer.acquire(max_wait)
        finally:
            if time.perf_counter() - started >= self.WAITED_SECONDS:
                self._waited()


def build_metrics(settings: Settings) -> Metrics | None:
    if not settings.metrics:
        return None
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    return Metrics(token=token)


def read_live_facts(metrics: Metrics, store: StateStore, shared: SharedState | None) -> None:
    """Figures read from the shared store at each scrape: the same whichever worker answers."""
    metrics.read_live(
        lambda: [("esign_flow_watches_active", "Watches running.", store.count_watches())]
    )
    if shared is not None:
        redis = shared.redis
        metrics.read_live(
            lambda: [("esign_flow_redis_up", "1 while Redis answers.", redis.status() == "ok")]
        )
