"""Opens the shared state for one bot process: what runtime.py wires behind its seams."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.esign.rate_limit import CallPacer
from bot.state.shared.connection import RedisKind, RedisTarget, RedisUnavailable
from bot.state.shared.health import SharedRedis
from bot.state.shared.keys import KeySpace
from bot.state.shared.outline_cache import SharedOutlines
from bot.state.shared.rate_budget import SharedCallBudget
from bot.state.shared.token_store import SharedTokens

log = logging.getLogger(__name__)

#: Beyond the lookup's own deadline, so a slow holder is never overtaken while it still works.
LOCK_MARGIN_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class SharedState:
    redis: SharedRedis
    keys: KeySpace
    lookup_deadline: float
    #: For /healthz: which kind of Redis this is.
    kind: RedisKind = "url"

    def outlines(self, ttl_seconds: float) -> SharedOutlines:
        return SharedOutlines(
            self.redis,
            self.keys,
            ttl_seconds=ttl_seconds,
            lock_seconds=self.lookup_deadline + LOCK_MARGIN_SECONDS,
        )

    def tokens(self) -> SharedTokens:
        return SharedTokens(self.redis, self.keys)

    def call_budget(
        self, per_second: float, fallback: CallPacer, *, burst: int | None = None, name: str = ""
    ) -> SharedCallBudget:
        key = f"{self.keys.call_budget}:{name}" if name else self.keys.call_budget
        return SharedCallBudget(
            self.redis, key, per_second=per_second, fallback=fallback, burst=burst
        )

    def close(self) -> None:
        self.redis.close()


def open_shared_state(
    target: RedisTarget,
    *,
    env: str,
    app_id: str,
    recheck_seconds: float,
    lookup_deadline: float,
) -> SharedState:
    """Never fails on a dead Redis: the bot starts on per-process state and finds Redis later."""
    location = target.location
    shared = SharedRedis(target.client(), location=location, recheck_seconds=recheck_seconds)
    try:
        shared.call(lambda client: client.ping())
    except RedisUnavailable:
        pass  # SharedRedis logged the warning
    else:
        log.info(
            "sharing the outline cache, the e签宝 token and the call budget through Redis at %s",
            location,
        )
    return SharedState(shared, KeySpace(env, app_id), lookup_deadline, target.kind)
