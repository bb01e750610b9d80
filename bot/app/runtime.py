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

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

import handlers
from bot.app.daily_digest import DailyDigest, build_daily_digest
from bot.app.lookup_stack import LookupStack, StartSimulator, build_lookup_stack
from bot.app.metrics import Metrics, build_metrics, read_live_facts
from bot.app.settings import Settings
from bot.app.slack_calls import CountedRequestClient, counted_web_client
from bot.app.slack_presence import SlackPresence
from bot.delivery.background import BackgroundWork
from bot.delivery.channels import ChannelDelivery
from bot.delivery.doors import Doors
from bot.delivery.home import HomeTab
from bot.delivery.messages import MessageDelivery
from bot.delivery.modal import ModalDelivery
from bot.delivery.watches import SlackWatchNotifier, WatchDelivery
from bot.delivery.workflow_step import FlowStep
from bot.esign.rate_limit import CallPacer, CallRateLimiter, window_budget
from bot.flows.links import FlowLinks
from bot.slack.access import AccessPolicy, UsergroupMembers
from bot.slack.locales import SlackLocales
from bot.slack.replies import SlackReplies, response_url_guard
from bot.slack.web_client import client_like
from bot.state.event_receipts import EventReceipts
from bot.state.history import PersonalHistory
from bot.state.records import StateStore
from bot.state.shared.engine import SharedState
from bot.state.store import open_state_store
from bot.watch.callbacks import CallbackReceiver
from bot.watch.poller import POLL_SHARE, WatchPoller
from bot.watch.service import WatchLimits, WatchService

log = logging.getLogger(__name__)

#: Bolt's listeners only ack and hand over, so a small pool is plenty.
BOLT_LISTENER_THREADS = 8
#: views.open calls at once: a person's click each, rare and short.
VIEW_THREADS = 2


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
    daily: DailyDigest
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
        self.daily.scheduler.stop()
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


def create_runtime(
    settings: Settings,
    *,
    socket_mode: bool = False,
    simulator: StartSimulator | None = None,
    clock: Callable[[], float] | None = None,
) -> Runtime:
    metrics = build_metrics(settings)
    stack = build_lookup_stack(settings, simulator, metrics)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    # Every Web API call is counted by its client; response_url posts by SlackReplies.
    slack_call = metrics.slack_call if metrics else None
    web_client = counted_web_client(settings.slack_api_url, token, slack_call)
    work = BackgroundWork(settings.lookup_workers)
    views = BackgroundWork(VIEW_THREADS, name="views")
    store = open_state_store(settings.state_db_path, stack.shared)
    replies = SlackReplies(
        web_client,
        allow_response_url=response_url_guard(settings.slack_api_url),
        on_call=slack_call,
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
    poller = WatchPoller(watches, polls_budget := poll_pacer(settings, stack.shared))
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
    daily = build_daily_digest(settings, stack, replies, work, store, history, polls_budget, clock)
    links, receipts = FlowLinks(settings.unfurl_url_patterns), EventReceipts(store)
    watch_door = WatchDelivery(
        stack.cards, replies, work, watches=watches, notifier=notifier, languages=history
    )
    doors = Doors(
        messages=MessageDelivery(
            stack.cards,
            replies,
            work,
            modal=modal,
            watches=watches,
            languages=history,
            memory=daily.memory,
        ),
        watches=watch_door,
        modal=modal,
        home=HomeTab(history, stack.cards, replies, work, watches, notifier, store.digests_of_user),
        step=FlowStep(stack.cards, replies, work),
        events=receipts,
        max_ids=settings.max_ids_per_command,
        digests=daily.door,
        channels=ChannelDelivery(
            stack.cards,
            replies,
            work,
            store,
            links=links,
            watches=watch_door,
            languages=history,
            receipts=receipts,
            memory=daily.memory,
        ),
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
            settings.slack_api_url,
            token,
            recheck_seconds=settings.slack_recheck_seconds,
            on_call=slack_call,
        ).start()
        bolt_client = client_like(web_client, token=None)
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
    if slack_call is not None:
        app.use(CountedRequestClient(slack_call))
    handlers.register(app, doors, policy)
    if metrics is not None:
        read_live_facts(metrics, store, stack.shared)
    poller.start()
    daily.scheduler.start()
    return Runtime(
        settings,
        stack,
        work,
        views,
        replies,
        store,
        watches,
        poller,
        daily,
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
