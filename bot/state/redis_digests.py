"""The digest's records in the Redis engine: settings, the day's claims, the shown memory.

A part of RedisStateStore (which mixes it in and supplies `_key`, `_do` and the scripts), so
every key here is built by the engine's own `_key` like every other record's. The shown memory
is a sorted set per channel (flow → when shown) beside a hash (flow → thread), trimmed on each
write and expiring with the channel's last showing, so a quiet channel leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.state.digest_records import (
    DIGEST_CLAIM_SECONDS,
    SHOWN_KEEP_SECONDS,
    SHOWN_PER_CHANNEL,
    DigestSetting,
    ShownFlow,
)
from bot.state.shared.connection import RedisClient
from bot.state.shared.health import SharedRedis


class RedisDigests:
    """Mixed into RedisStateStore, which provides the helpers below."""

    _shared: SharedRedis

    def _key(self, *parts: str) -> str:
        raise NotImplementedError

    def _do(self, operation: Callable[[RedisClient], Any]) -> Any:
        raise NotImplementedError

    def put_digest(self, setting: DigestSetting) -> None:
        old = self.get_digest(setting.channel_id)

        def write(r: RedisClient) -> None:
            pipe = r.pipeline(transaction=True)
            pipe.hset(self._key("digests"), setting.channel_id, setting.to_json())
            if old is not None and old.user_id != setting.user_id:
                pipe.srem(self._key("digests-of", old.user_id), setting.channel_id)
            pipe.sadd(self._key("digests-of", setting.user_id), setting.channel_id)
            pipe.execute()

        self._do(write)

    _UPDATE_DIGEST = """
    if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
    return 1
    """

    def update_digest(self, setting: DigestSetting) -> bool:
        script = self._shared.script(self._UPDATE_DIGEST)
        keys = [self._key("digests")]
        args = [setting.channel_id, setting.to_json()]
        return bool(self._do(lambda r: script(keys=keys, args=args, client=r)))

    def get_digest(self, channel_id: str) -> DigestSetting | None:
        raw = self._do(lambda r: r.hget(self._key("digests"), channel_id))
        return None if raw is None else DigestSetting.from_json(raw)

    def remove_digest(self, channel_id: str) -> bool:
        old = self.get_digest(channel_id)

        def delete(r: RedisClient) -> int:
            pipe = r.pipeline(transaction=True)
            pipe.hdel(self._key("digests"), channel_id)
            if old is not None:
                pipe.srem(self._key("digests-of", old.user_id), channel_id)
            return int(pipe.execute()[0])

        return bool(self._do(delete))

    def all_digests(self) -> list[DigestSetting]:
        raws = self._do(lambda r: r.hgetall(self._key("digests")))
        found = [s for raw in raws.values() if (s := DigestSetting.from_json(raw)) is not None]
        return sorted(found, key=lambda s: s.channel_id)

    def digests_of_user(self, user_id: str) -> list[DigestSetting]:
        channels = sorted(self._do(lambda r: r.smembers(self._key("digests-of", user_id))))
        if not channels:
            return []
        raws = self._do(lambda r: r.hmget(self._key("digests"), channels))
        return [
            s
            for raw in raws
            if raw is not None and (s := DigestSetting.from_json(raw)) is not None
            if s.user_id == user_id
        ]

    def claim_digest(self, channel_id: str, local_date: str) -> bool:
        millis = int(DIGEST_CLAIM_SECONDS * 1000)
        key = self._key("digest-claim", channel_id, local_date)
        return bool(self._do(lambda r: r.set(key, "1", nx=True, px=millis)))

    # KEYS: the channel's sorted set (flow -> when) and hash (flow -> thread).
    # ARGV: when, oldest kept, most kept, milliseconds to keep, then flow/thread pairs.
    _RECORD_SHOWN = """
    local at = tonumber(ARGV[1])
    for i = 5, #ARGV, 2 do
      redis.call('ZADD', KEYS[1], at, ARGV[i])
      redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    end
    local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
    local extra = redis.call('ZCARD', KEYS[1]) - #gone - tonumber(ARGV[3])
    if extra > 0 then
      for _, flow in ipairs(redis.call('ZRANGE', KEYS[1], #gone, #gone + extra - 1)) do
        table.insert(gone, flow)
      end
    end
    for _, flow in ipairs(gone) do
      redis.call('ZREM', KEYS[1], flow)
      redis.call('HDEL', KEYS[2], flow)
    end
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
    return #gone
    """

    def record_shown(
        self, channel_id: str, flow_ids: list[str], thread_ts: str | None, at: float
    ) -> None:
        if not flow_ids:
            return
        script = self._shared.script(self._RECORD_SHOWN)
        keys = [self._key("shown", channel_id), self._key("shown-thread", channel_id)]
        args: list[str | float | int] = [
            at,
            at - SHOWN_KEEP_SECONDS,
            SHOWN_PER_CHANNEL,
            int(SHOWN_KEEP_SECONDS * 1000),
        ]
        for flow_id in flow_ids:
            args += [flow_id, thread_ts or ""]
        self._do(lambda r: script(keys=keys, args=args, client=r))

    def shown_since(self, channel_id: str, since: float) -> list[ShownFlow]:
        def read(r: RedisClient) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.zrevrangebyscore(self._key("shown", channel_id), "+inf", since, withscores=True)
            pipe.hgetall(self._key("shown-thread", channel_id))
            return list(pipe.execute())

        shown, threads = self._do(read)
        found: list[ShownFlow] = []
        for raw_flow, at in shown:
            flow = _text(raw_flow)
            thread = _text(threads.get(raw_flow)) or None
            found.append(ShownFlow(flow, thread, float(at)))
        return found


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""
