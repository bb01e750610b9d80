"""The composition root: builds the e签宝 client, the lookup, the Slack app and their pools.

With no e签宝 credentials the bot answers from a simulator only when its caller hands one in
(the local run, `esign-bot check`, ESIGN_SIMULATOR=1): the stand-ins are not production code
and this module never imports them. Without credentials and without a simulator it refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

import handlers
from bot.app.metrics import CountedPacer, Metrics, build_metrics, read_live_facts
from bot.app.settings import ConfigError, Settings
from bot.app.slack_presence import SlackPresence
from bot.delivery.background import BackgroundWork
from bot.delivery.doors import Doors
from bot.delivery.flow_cards import FlowCards
from bot.delivery.home import HomeTab
from bot.delivery.messages import MessageDelivery
from bot.delivery.modal import ModalDelivery
from bot.delivery.watches import SlackWatchNotifier, WatchDelivery
from bot.delivery.workflow_step import FlowStep
from bot.esign.circuit_breaker import CircuitBreaker
from bot.esign.client import EsignClient, RetryPolicy
from bot.esign.rate_limit import CallPacer, CallRateLimiter, window_budget
from bot.esign.signing import SignatureAuth
from bot.esign.token_auth import TokenAuth
from bot.flows.cache import FlowLookup
from bot.slack.access import AccessPolicy, UsergroupMembers
from bot.slack.locales import SlackLocales
from bot.slack.replies import SlackReplies, response_url_guard
from bot.slack.retries import slack_retry_handlers
from bot.state.event_receipts import EventReceipts
from bot.state.history import PersonalHistory
from bot.state.records import StateStore
from bot.state.shared.engine import SharedState, open_shared_state
from bot.state.store import open_state_store
from bot.watch.callbacks import CallbackReceiver
from bot.watch.poller import POLL_SHARE, WatchPoller
from bot.watch.service import WatchLimits, WatchService

log = logging.getLogger(__name__)

#: Bolt's listeners only ack and hand over, so a small pool is plenty.
BOLT_LISTENER_THREADS = 8
#: views.open calls at once: a person's click each, rare and short.
VIEW_THREADS = 2


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


@dataclass
class Runtime:
    settings: Settings
    stack: LookupStack
    work: BackgroundWork
    views: BackgroundWork
    replies: SlackReplies
    store: StateStore
    watches: WatchService
    poller: WatchPoller
    callbacks: CallbackReceiver
    history: PersonalHistory
    app: App
    #: Whether Slack answers the bot token (None when there is no token).
    slack: SlackPresence | None = None
    #: What /metrics shows (None with METRICS=0: nothing is counted).
    metrics: Metrics | None = None

    @property
    def simulated(self) -> bool:
        return self.stack.lookup.simulated

    def health(self) -> dict[str, str]:
        """What /healthz adds to "ok": whether the shared state and Slack are reachable."""
        shared = self.stack.shared
        health = {
            "redis": shared.redis.status() if shared else "off",
            # Still 200: a process waiting for Slack must not be restarted by a health check.
            "slack": self.slack.status() if self.slack else "off",
        }
        if shared:
            # Which kind ("url", "sentinel", "cluster"): a deploy shows which setting it runs on.
            health["redis_kind"] = shared.kind
        return health

    def close(self, timeout: float = 20.0) -> bool:
        """Finish the lookups already acked (within `timeout`), then release connections."""
        self.poller.stop()
        if self.slack is not None:
            self.slack.close()
        drained = self.work.drain(timeout)
        drained = self.views.drain(1.0) and drained  # a trigger is dead 3 s after the click
        self.history.flush()  # recent lookups still waiting to be written
        if not drained:
            log.warning(
                "shutdown: gave up waiting for lookups in flight", extra={"timeout": timeout}
            )
        else:
            # Only once no lookup is still answering: closing under a post would break it.
            self.replies.close()
        self.store.close()
        self.stack.close()
        return drained


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


def create_runtime(
    settings: Settings, *, socket_mode: bool = False, simulator: StartSimulator | None = None
) -> Runtime:
    metrics = build_metrics(settings)
    stack = build_lookup_stack(settings, simulator, metrics)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    web_client = WebClient(
        token=token, base_url=settings.slack_api_url, retry_handlers=slack_retry_handlers()
    )
    work = BackgroundWork(settings.lookup_workers)
    views = BackgroundWork(VIEW_THREADS, name="views")
    store = open_state_store(settings.state_db_path, stack.shared)
    replies = SlackReplies(
        web_client,
        allow_response_url=response_url_guard(settings.slack_api_url),
        on_call=metrics.slack_call if metrics else None,
    )
    notifier = SlackWatchNotifier(stack.cards, replies)
    watches = WatchService(
        store,
        stack.lookup,
        notifier,
        WatchLimits(
            max_hours=settings.watch_max_hours,
            per_channel=settings.watch_max_per_channel,
            total=settings.watch_max_total,
            first_poll_seconds=settings.watch_first_poll_seconds,
        ),
        on_notice=metrics.notice if metrics else None,
    )
    poller = WatchPoller(watches, poll_pacer(settings, stack.shared))
    callbacks = CallbackReceiver(
        watches,
        app_id=stack.endpoint.app_id,
        app_secret=stack.endpoint.app_secret,
        run_later=poller.submit,
    )
    history = PersonalHistory(store, locale_of=SlackLocales(web_client))
    stack.cards.remember_in(history)
    modal = ModalDelivery(
        stack.cards,
        replies,
        work,
        views=views,
        languages=history,
        max_ids=settings.max_ids_per_command,
    )
    doors = Doors(
        messages=MessageDelivery(
            stack.cards, replies, work, modal=modal, watches=watches, languages=history
        ),
        watches=WatchDelivery(
            stack.cards, replies, work, watches=watches, notifier=notifier, languages=history
        ),
        modal=modal,
        home=HomeTab(history, stack.cards, replies, work, watches, notifier),
        step=FlowStep(stack.cards, replies, work),
        events=EventReceipts(store),
        max_ids=settings.max_ids_per_command,
    )
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    presence = None
    bolt_options: dict[str, Any] = {"client": web_client}
    if token is not None:
        # Bolt would call auth.test here and raise if Slack is away; it gets the token and the
        # bot's ids from `authorize` instead, and copies `client` (base URL, retries) per request.
        presence = SlackPresence(
            settings.slack_api_url, token, recheck_seconds=settings.slack_recheck_seconds
        ).start()
        bolt_client = WebClient(
            base_url=settings.slack_api_url, retry_handlers=slack_retry_handlers()
        )
        bolt_options = {"client": bolt_client, "authorize": presence.bolt_authorize()}
    bolt_log = logging.getLogger("slack_bolt.App")
    bolt_log.addFilter(_UNUSED_ENVIRONMENT_TOKEN)
    app = App(
        signing_secret=signing_secret,
        **bolt_options,
        request_verification_enabled=not socket_mode,
        # Listeners only ack and hand the slow part to the background pool, so they run in
        # the request's own thread: no hop to Bolt's listener pool and no polling for the ack.
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(
            max_workers=BOLT_LISTENER_THREADS, thread_name_prefix="bolt"
        ),
        logger=bolt_log,
    )
    group_members = None
    if settings.allowed_usergroup_ids:
        group_members = UsergroupMembers(web_client)
        group_members.warm(settings.allowed_usergroup_ids)
        stack.closers.append(group_members.close)
    policy = AccessPolicy(
        team_ids=settings.allowed_team_ids,
        channel_ids=settings.allowed_channel_ids,
        user_ids=settings.allowed_user_ids,
        usergroup_ids=settings.allowed_usergroup_ids,
        group_members=group_members,
    )
    handlers.register(app, doors, policy)
    if metrics is not None:
        read_live_facts(metrics, store, stack.shared)
    poller.start()
    return Runtime(
        settings,
        stack,
        work,
        views,
        replies,
        store,
        watches,
        poller,
        callbacks,
        history,
        app,
        presence,
        metrics,
    )


class _UnusedEnvironmentToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and, given `client` as well, warns
    at every start that the token goes unused. Here the token reaches Bolt through `authorize`
    on purpose (see above), so that one line, and only it, is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_UNUSED_ENVIRONMENT_TOKEN = _UnusedEnvironmentToken()


def poll_pacer(settings: Settings, shared: SharedState | None) -> CallPacer:
    """Watches' polls get their own share of ESIGN_MAX_QPS (across processes with Redis)."""
    rate, burst = window_budget(max(settings.esign_max_qps * POLL_SHARE, 0.1))
    local = CallRateLimiter(per_second=rate, burst=burst)
    if shared is None:
        return local
    return shared.call_budget(rate, fallback=local, burst=burst, name="watch-polls")
