"""The e签宝 access token in Redis, for every process of the app (a `TokenShare`).

Every new token cuts the previous one's life, so processes fetching their own would keep
knocking each other's out: here one process fetches under a short lock and the rest read it.
Whenever Redis is unreachable this share finds nothing and grants every claim, and each process
goes back to keeping a token of its own.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

from bot.esign.token_auth import AccessToken
from bot.state.shared.connection import RedisUnavailable
from bot.state.shared.health import SharedRedis
from bot.state.shared.keys import KeySpace
from bot.state.shared.locks import ShortLock

#: Longer than one token request can take (connect + read timeouts), short enough that a
#: process that died while fetching holds the others up only briefly.
LOCK_SECONDS = 10.0
#: The claim handed out while Redis is down: "fetch your own", nothing to release.
UNSHARED = ""


class SharedTokens:
    def __init__(
        self,
        shared: SharedRedis,
        keys: KeySpace,
        *,
        lock_seconds: float = LOCK_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._shared = shared
        self._key = keys.token
        self._lock = ShortLock(shared, keys.token_lock, seconds=lock_seconds)
        self._clock = clock
        self.wait_seconds = lock_seconds

    def load(self) -> AccessToken | None:
        try:
            text = self._shared.call(lambda client: client.get(self._key))
        except RedisUnavailable:
            return None
        if not isinstance(text, str):
            return None
        try:
            value = json.loads(text)
            return AccessToken(
                value=str(value["token"]),
                refresh_token=value.get("refreshToken"),
                expires_at=float(value["expiresAt"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, token: AccessToken) -> None:
        millis = int((token.expires_at - self._clock()) * 1000)
        if millis <= 0:
            return
        text = json.dumps(
            {
                "token": token.value,
                "refreshToken": token.refresh_token,
                "expiresAt": token.expires_at,
            }
        )
        with contextlib.suppress(RedisUnavailable):
            self._shared.call(lambda client: client.set(self._key, text, px=millis))

    def claim_refresh(self) -> str | None:
        try:
            return self._lock.acquire()
        except RedisUnavailable:
            return UNSHARED

    def release_refresh(self, claim: str) -> None:
        if claim == UNSHARED:
            return
        with contextlib.suppress(RedisUnavailable):  # it expires by itself
            self._lock.release(claim)
