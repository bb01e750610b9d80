"""The Redis engine of the state store (`REDIS_URL`): the same records for every process of
the bot, which is what survives a restart on a platform whose disk is wiped (Heroku's dynos).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.language import Language, as_language
from bot.state.records import (
    SCHEMA_VERSION,
    ChannelAuto,
    PendingNotice,
    RecentLookup,
    StoreUnavailable,
    Watch,
    newest_first,
)
from bot.state.redis_digests import RedisDigests
from bot.state.shared.connection import RedisClient, RedisUnavailable
from bot.state.shared.health import SharedRedis
from bot.state.shared.keys import with_hash_tag


class RedisStateStore(RedisDigests):
    """The same records in Redis, under the bot's key prefix and e签宝 environment and app id.

    Watches and preferences live until removed (the person can remove them); notice claims and
    leases expire by themselves.

    Every key comes from `_key`. On a Redis Cluster (`one_slot`) they all share one hash tag
    (the base's): the scripts and transactions here touch several records at once, which a
    Cluster allows only within one slot, and one app's records fit one node (watches and
    preferences are small and bounded). On one server or Sentinel the names stay as they were
    before Cluster was supported, so an upgraded bot keeps its watches and preferences.
    """

    def __init__(self, shared: SharedRedis, base: str, *, one_slot: bool = False) -> None:
        self._shared = shared
        base = with_hash_tag(base) if one_slot else base
        self._base = f"{base}:state:v{SCHEMA_VERSION}"

    def _key(self, *parts: str) -> str:
        return ":".join((self._base, *parts))

    def _do(self, operation: Callable[[RedisClient], Any]) -> Any:
        """Run on Redis; a dead Redis fails at once (SharedRedis) as StoreUnavailable."""
        try:
            return self._shared.call(operation)
        except RedisUnavailable as exc:
            raise StoreUnavailable(str(exc)) from None

    def _load(self, watch_ids: Iterable[str]) -> list[Watch]:
        ids = list(watch_ids)
        if not ids:
            return []
        raws = self._do(lambda r: r.hmget(self._key("watches"), ids))
        return [w for raw in raws if raw is not None and (w := Watch.from_json(raw)) is not None]

    def put_watch(self, watch: Watch) -> None:
        wid = watch.watch_id

        def write(r: RedisClient) -> None:
            pipe = r.pipeline(transaction=True)
            pipe.hset(self._key("watches"), wid, watch.to_json())
            pipe.zadd(self._key("due"), {wid: watch.next_poll_at})
            pipe.sadd(self._key("by-flow", watch.flow_id), wid)
            pipe.sadd(self._key("by-user", watch.user_id), wid)
            if watch.channel_id:
                pipe.sadd(self._key("by-channel", watch.channel_id), wid)
            pipe.execute()

        self._do(write)

    _UPDATE = """
    if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
    return 1
    """

    def update_watch(self, watch: Watch) -> bool:
        script = self._shared.script(self._UPDATE)
        keys = [self._key("watches"), self._key("due")]
        args: list[str | float] = [watch.watch_id, watch.to_json(), watch.next_poll_at]
        return bool(self._do(lambda r: script(keys=keys, args=args, client=r)))

    def get_watch(self, watch_id: str) -> Watch | None:
        found = self._load([watch_id])
        return found[0] if found else None

    def remove_watch(self, watch_id: str) -> bool:
        watch = self.get_watch(watch_id)

        def delete(r: RedisClient) -> int:
            pipe = r.pipeline(transaction=True)
            pipe.hdel(self._key("watches"), watch_id)
            pipe.zrem(self._key("due"), watch_id)
            pipe.delete(self._key("lease", watch_id))
            if watch is not None:
                pipe.srem(self._key("by-flow", watch.flow_id), watch_id)
                pipe.srem(self._key("by-user", watch.user_id), watch_id)
                if watch.channel_id:
                    pipe.srem(self._key("by-channel", watch.channel_id), watch_id)
            return int(pipe.execute()[0])

        return bool(self._do(delete))

    def _members(self, *parts: str) -> list[Watch]:
        return self._load(sorted(self._do(lambda r: r.smembers(self._key(*parts)))))

    def watches_for_flow(self, flow_id: str) -> list[Watch]:
        return self._members("by-flow", flow_id)

    def watches_in_channel(self, channel_id: str) -> list[Watch]:
        return self._members("by-channel", channel_id)

    def watches_of_user(self, user_id: str) -> list[Watch]:
        return self._members("by-user", user_id)

    def count_watches(self, channel_id: str | None = None) -> int:
        if channel_id is None:
            return int(self._do(lambda r: r.hlen(self._key("watches"))))
        return int(self._do(lambda r: r.scard(self._key("by-channel", channel_id))))

    def due_watches(self, now: float, limit: int) -> list[Watch]:
        ids = self._do(lambda r: r.zrangebyscore(self._key("due"), "-inf", now, 0, limit))
        return self._load(ids)

    _LEASE = """
    local holder = redis.call('GET', KEYS[1])
    if holder == false or holder == ARGV[1] then
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      return 1
    end
    return 0
    """

    def lease(self, watch_id: str, holder: str, seconds: float) -> bool:
        script = self._shared.script(self._LEASE)
        millis = max(1, int(seconds * 1000))
        return bool(
            self._do(
                lambda r: script(
                    keys=[self._key("lease", watch_id)], args=[holder, millis], client=r
                )
            )
        )

    def claim_notice(self, key: str, seconds: float) -> bool:
        millis = max(1, int(seconds * 1000))
        return bool(self._do(lambda r: r.set(self._key("notice", key), "1", nx=True, px=millis)))

    # The outbox: notices by key (a hash), when each is due (a sorted set), and each watch's
    # pending ones in the order they were found (a sorted set per watch).
    _QUEUE = """
    if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
    redis.call('ZADD', KEYS[4], ARGV[5], ARGV[2])
    return 1
    """

    def queue_notice(self, notice: PendingNotice, claim_seconds: float) -> bool:
        script = self._shared.script(self._QUEUE)
        keys = [
            self._key("notice", notice.key),
            self._key("outbox"),
            self._key("outbox-due"),
            self._key("outbox-of", notice.watch_id),
        ]
        args: list[str | float | int] = [
            max(1, int(claim_seconds * 1000)),
            notice.key,
            notice.to_json(),
            notice.next_attempt_at,
            notice.created_at,
        ]
        return bool(self._do(lambda r: script(keys=keys, args=args, client=r)))

    def _load_notices(self, keys: list[Any]) -> list[PendingNotice]:
        if not keys:
            return []
        raws = self._do(lambda r: r.hmget(self._key("outbox"), keys))
        return [n for raw in raws if raw is not None and (n := PendingNotice.from_json(raw))]

    def due_notices(self, now: float, limit: int) -> list[PendingNotice]:
        keys = self._do(lambda r: r.zrangebyscore(self._key("outbox-due"), "-inf", now, 0, limit))
        due = self._load_notices(keys)
        if not due:
            return []

        def firsts(r: RedisClient) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            for notice in due:
                pipe.zrange(self._key("outbox-of", notice.watch_id), 0, 0)
            return list(pipe.execute())

        heads = [[_text(k) for k in head] for head in self._do(firsts)]
        return [notice for notice, head in zip(due, heads, strict=True) if head == [notice.key]]

    def get_notice(self, key: str) -> PendingNotice | None:
        found = self._load_notices([key])
        return found[0] if found else None

    def first_notice(self, watch_id: str) -> str | None:
        first = self._do(lambda r: r.zrange(self._key("outbox-of", watch_id), 0, 0))
        return _text(first[0]) if first else None

    _UPDATE_NOTICE = """
    if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
    return 1
    """

    def update_notice(self, notice: PendingNotice) -> bool:
        script = self._shared.script(self._UPDATE_NOTICE)
        keys = [self._key("outbox"), self._key("outbox-due")]
        args: list[str | float] = [notice.key, notice.to_json(), notice.next_attempt_at]
        return bool(self._do(lambda r: script(keys=keys, args=args, client=r)))

    def _forget(self, r: RedisClient, notices: list[PendingNotice]) -> int:
        if not notices:
            return 0
        pipe = r.pipeline(transaction=True)
        for notice in notices:
            pipe.hdel(self._key("outbox"), notice.key)
            pipe.zrem(self._key("outbox-due"), notice.key)
            pipe.zrem(self._key("outbox-of", notice.watch_id), notice.key)
        return sum(int(done) for done in pipe.execute()[0::3])

    def finish_notice(self, key: str) -> None:
        notice = self.get_notice(key)
        if notice is not None:
            self._do(lambda r: self._forget(r, [notice]))

    def drop_notices(self, watch_id: str) -> int:
        keys = self._do(lambda r: r.zrange(self._key("outbox-of", watch_id), 0, -1))
        notices = self._load_notices(keys)
        return int(self._do(lambda r: self._forget(r, notices)))

    def add_recent(self, user_id: str, lookup: RecentLookup) -> None:
        key = self._key("recent", user_id)

        def write(r: RedisClient) -> None:
            pipe = r.pipeline(transaction=True)
            pipe.hset(key, lookup.flow_id, lookup.to_json())
            pipe.hgetall(key)
            entries = pipe.execute()[1]
            kept = {recent.flow_id for recent in self._read_recent(entries)}
            stale = [flow for flow in entries if _text(flow) not in kept]
            if stale:
                r.hdel(key, *stale)

        self._do(write)

    def _read_recent(self, entries: dict[Any, Any]) -> list[RecentLookup]:
        return newest_first(
            r for raw in entries.values() if (r := RecentLookup.from_json(raw)) is not None
        )

    def recent(self, user_id: str) -> list[RecentLookup]:
        return self._read_recent(self._do(lambda r: r.hgetall(self._key("recent", user_id))))

    def clear_recent(self, user_id: str) -> None:
        self._do(lambda r: r.delete(self._key("recent", user_id)))

    def language(self, user_id: str) -> Language | None:
        return as_language(_text(self._do(lambda r: r.hget(self._key("prefs"), user_id))))

    def set_language(self, user_id: str, language: Language) -> None:
        self._do(lambda r: r.hset(self._key("prefs"), user_id, language))

    def set_channel_auto(self, setting: ChannelAuto) -> None:
        self._do(lambda r: r.hset(self._key("channel-auto"), setting.channel_id, setting.to_json()))

    def channel_auto(self, channel_id: str) -> ChannelAuto | None:
        raw = self._do(lambda r: r.hget(self._key("channel-auto"), channel_id))
        return None if raw is None else ChannelAuto.from_json(raw)

    def clear_channel_auto(self, channel_id: str) -> bool:
        return bool(self._do(lambda r: r.hdel(self._key("channel-auto"), channel_id)))

    def keep_unfurl(self, key: str, unfurl: str, seconds: float) -> None:
        millis = max(1, int(seconds * 1000))
        self._do(lambda r: r.set(self._key("unfurl", key), unfurl, px=millis))

    def kept_unfurl(self, key: str) -> str | None:
        return _text(self._do(lambda r: r.get(self._key("unfurl", key))))

    def close(self) -> None:
        """The connection belongs to the shared state, which closes it."""


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None
