"""A short Redis lock: `SET NX PX` to take it, a token-checked delete to give it back.

redis-py's `Lock` keeps its token per thread and raises on a lost lock; here the holder only
ever needs "did I get it" and "give it back if it is still mine", across process boundaries.
"""

from __future__ import annotations

import secrets

from bot.state.shared.health import SharedRedis

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class ShortLock:
    """Raises RedisUnavailable (from `SharedRedis.call`) when Redis is not there."""

    def __init__(self, shared: SharedRedis, key: str, *, seconds: float) -> None:
        self._shared = shared
        self.key = key
        self._millis = max(1, int(seconds * 1000))
        self._release = shared.script(_RELEASE)

    def acquire(self) -> str | None:
        """The holder's token when this caller got the lock, None when someone else holds it."""
        holder = secrets.token_hex(8)
        taken = self._shared.call(
            lambda client: client.set(self.key, holder, nx=True, px=self._millis)
        )
        return holder if taken else None

    def holder(self) -> str | None:
        value = self._shared.call(lambda client: client.get(self.key))
        return str(value) if value is not None else None

    def release(self, holder: str) -> None:
        """Give the lock back if it is still ours (it may have expired and been taken over)."""
        self._shared.call(
            lambda client: self._release(keys=[self.key], args=[holder], client=client)
        )
