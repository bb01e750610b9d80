"""The lookup stack: e签宝's address and credentials, the signed client with its budget and
breaker, the shared state and the cached lookup — everything that turns a flow id into a card
without Slack (the bot's processes and `esign-bot check` build it the same way)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.app.metrics import CountedPacer, Metrics
from bot.app.settings import ConfigError, Settings
from bot.delivery.flow_cards import FlowCards
from bot.esign.circuit_breaker import CircuitBreaker
from bot.esign.client import EsignClient, RetryPolicy
from bot.esign.rate_limit import CallPacer, CallRateLimiter, window_budget
from bot.esign.signing import SignatureAuth
from bot.esign.token_auth import TokenAuth
from bot.flows.cache import FlowLookup
from bot.state.shared.engine import SharedState, open_shared_state

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EsignEndpoint:
    base_url: str
    app_id: str
    app_secret: str
    simulated: bool


#: Starts a stand-in e签宝 for these settings: where it answers, and how to stop it.
StartSimulator = Callable[[Settings], tuple[EsignEndpoint, Callable[[], None]]]


def build_esign_client(
    settings: Settings,
    endpoint: EsignEndpoint,
    shared: SharedState | None = None,
    metrics: Metrics | None = None,
) -> EsignClient:
    auth: httpx.Auth
    if settings.esign_auth_mode == "token":
        auth = TokenAuth(
            endpoint.app_id,
            endpoint.app_secret,
            base_url=endpoint.base_url,
            share=shared.tokens() if shared else None,
        )
    else:
        auth = SignatureAuth(endpoint.app_id, endpoint.app_secret)
    rate, burst = window_budget(settings.esign_max_qps)
    pacer: CallPacer = CallRateLimiter(per_second=rate, burst=burst)
    if shared is not None:
        pacer = shared.call_budget(rate, fallback=pacer, burst=burst)
    # Per process on purpose (see the README): each process sees its own calls fail.
    breaker = CircuitBreaker(
        failure_threshold=settings.esign_breaker_failures,
        cooldown=settings.esign_breaker_cooldown,
    )
    on_request = None
    if metrics is not None:
        pacer = CountedPacer(pacer, metrics.budget_waited)
        on_request = metrics.esign_requests(lambda: breaker.is_open)
    return EsignClient(
        endpoint.base_url,
        auth,
        connect_timeout=settings.esign_connect_timeout,
        read_timeout=settings.esign_read_timeout,
        retry=RetryPolicy(max_retries=settings.esign_max_retries, deadline=settings.esign_deadline),
        max_connections=settings.lookup_workers,
        breaker=breaker,
        rate_limiter=pacer,
        on_request=on_request,
    )


def esign_endpoint(
    settings: Settings, closers: list[Any], simulator: StartSimulator | None = None
) -> EsignEndpoint:
    if settings.esign_configured:
        assert settings.esign_app_id and settings.esign_app_secret  # noqa: S101 (narrowing)
        doubt = settings.esign_env_doubt()
        if doubt:
            log.warning(doubt)
        return EsignEndpoint(
            settings.esign_url,
            settings.esign_app_id,
            settings.esign_app_secret.get_secret_value(),
            simulated=False,
        )
    if simulator is None:
        raise ConfigError(settings.esign_missing() or "e签宝: no credentials and no simulator")
    endpoint, stop = simulator(settings)
    closers.append(stop)
    return endpoint


@dataclass(frozen=True, slots=True)
class LookupStack:
    """Everything needed to turn a flow id into a card, without Slack (also `esign-bot check`)."""

    esign: EsignClient
    lookup: FlowLookup
    cards: FlowCards
    closers: list[Any]
    endpoint: EsignEndpoint
    shared: SharedState | None = None

    def close(self) -> None:
        self.esign.close()
        if self.shared is not None:
            self.shared.close()
        for close in reversed(self.closers):
            close()


def shared_state(settings: Settings, endpoint: EsignEndpoint) -> SharedState | None:
    """Redis-backed state when REDIS_URL is set, except with the built-in simulator: each
    process has its own, so its tokens and flows mean nothing to another process."""
    target = settings.redis_target
    if target is None:
        return None
    if endpoint.simulated:
        log.warning("Redis is set but the built-in e签宝 simulator is per process: not sharing")
        return None
    return open_shared_state(
        target,
        env=settings.esign_env,
        app_id=endpoint.app_id,
        recheck_seconds=settings.redis_recheck_seconds,
        lookup_deadline=settings.esign_deadline,
    )


def build_lookup_stack(
    settings: Settings, simulator: StartSimulator | None = None, metrics: Metrics | None = None
) -> LookupStack:
    """`simulator`: what answers when no e签宝 credentials are set (only callers outside
    production have one); with credentials it is never started."""
    closers: list[Any] = []
    endpoint = esign_endpoint(settings, closers, simulator)
    shared = shared_state(settings, endpoint)
    esign = build_esign_client(settings, endpoint, shared, metrics)
    lookup = FlowLookup(
        esign,
        ttl_seconds=settings.cache_ttl_seconds,
        max_flows=settings.cache_max_flows,
        simulated=endpoint.simulated,
        shared=shared.outlines(settings.cache_ttl_seconds) if shared else None,
    )
    cards = FlowCards(lookup)
    if metrics is not None:
        cards.observe_with(metrics.lookups(lambda: lookup.cached_flows))
    return LookupStack(esign, lookup, cards, closers, endpoint, shared)
