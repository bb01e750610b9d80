"""What must survive a restart: watches, each person's recent lookups and language preference.

One small typed store with two engines: SQLite (the embedded default, a file in the working
directory) and Redis (with `REDIS_URL`: Heroku's dyno disk is wiped on every restart, and
several dynos must see the same watches). Records are JSON with a schema version; a row that
does not read as one (corrupt, or written by a newer version) is skipped with a warning, never
a crash. Handlers never talk to either engine: they go through the watch and home services.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

import redis

# Re-exported: the store was where these were first defined.
from bot.language import LANGUAGES as LANGUAGES
from bot.language import Language as Language
from bot.language import as_language
from bot.redis_state.connection import RedisUnavailable
from bot.redis_state.health import SharedRedis
from bot.redis_state.state import SharedState

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SCHEMA_VERSION: Final = 1
#: Seconds a SQLite write waits for another process's: writes are single short transactions
#: (milliseconds), so this only runs out when the disk itself stalls.
SQLITE_BUSY: Final = 15.0
#: Most recent lookups kept per person (the Home tab shows the latest ten).
RECENT_PER_PERSON: Final = 10


class StoreUnavailable(Exception):
    """The store could not be read or written just now (Redis down, a locked database)."""


@dataclass(frozen=True, slots=True)
class Watch:
    """Someone waiting on a flow: where its card is, whom to tell, and what was seen last."""

    flow_id: str
    #: The watcher, mentioned in thread notices and sent DMs for a private card.
    user_id: str
    team_id: str | None
    #: The conversation the watch was started in (limits count per channel).
    channel_id: str | None
    #: A posted card's channel and ts (edited in place); None for a private card.
    card_channel: str | None
    card_ts: str | None
    #: The thread notices are posted in (the card's own thread, or the card itself).
    thread_ts: str | None
    started_at: float
    expires_at: float
    next_poll_at: float
    poll_step: int = 0
    #: The flow as last seen (bot.flow_changes.flow_state); empty until first seen.
    last_seen: dict[str, Any] = field(default_factory=dict)
    #: Who a posted card names as its requester, kept when the card is edited.
    requested_by: str | None = None

    @property
    def private(self) -> bool:
        return self.card_ts is None

    @property
    def watch_id(self) -> str:
        """One watch per flow and thread (or per flow and person, for private cards)."""
        # A posted card's watch is its thread's: its notices (and their Unwatch) live there.
        thread = self.thread_ts or self.card_ts
        where = f"{self.card_channel}/{thread}" if self.card_ts else f"dm/{self.user_id}"
        return f"{self.flow_id}@{where}"

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Watch | None:
        data = _record(raw)
        if data is None:
            return None
        try:
            watch = cls(**data)
        except TypeError:
            _skipped("watch", raw)
            return None
        if not isinstance(watch.flow_id, str) or not isinstance(watch.last_seen, dict):
            _skipped("watch", raw)
            return None
        return watch


@dataclass(frozen=True, slots=True)
class PendingNotice:
    """A watch notice claimed but not yet wholly told: the Slack calls still to make.

    Kept apart from its watch, so a watch that ends (a final status, or it expires) still
    tells what it found. `steps` are plain JSON objects, rendered when the change was found
    (bot.watch.notices says what they hold); each is removed once Slack has it.
    """

    #: The claim key: one per watch and change, so a change is queued once by any process.
    key: str
    watch_id: str
    steps: list[dict[str, Any]]
    created_at: float
    next_attempt_at: float
    give_up_at: float
    attempts: int = 0

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> PendingNotice | None:
        data = _record(raw)
        if data is None:
            return None
        try:
            notice = cls(**data)
        except TypeError:
            _skipped("pending notice", raw)
            return None
        if not isinstance(notice.key, str) or not isinstance(notice.steps, list):
            _skipped("pending notice", raw)
            return None
        return notice


@dataclass(frozen=True, slots=True)
class RecentLookup:
    flow_id: str
    #: e签宝's raw flow status when it was looked up ("" when the lookup failed).
    status: str
    looked_up_at: float

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> RecentLookup | None:
        data = _record(raw)
        if data is None:
            return None
        try:
            return cls(**data)
        except TypeError:
            _skipped("recent lookup", raw)
            return None


def _record(raw: str | bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        _skipped("record", raw)
        return None
    if not isinstance(data, dict) or data.pop("v", None) != SCHEMA_VERSION:
        _skipped("record", raw)
        return None
    return data


def _skipped(kind: str, raw: object) -> None:
    log.warning("skipped a %s the store cannot read", kind, extra={"size": len(str(raw))})
    return None


class StateStore(Protocol):
    def put_watch(self, watch: Watch) -> None: ...
    def update_watch(self, watch: Watch) -> bool:
        """Rewrite a watch that still exists; False (and nothing written) once it is removed,
        so a poll finishing after an Unwatch cannot bring the watch back."""
        ...

    def get_watch(self, watch_id: str) -> Watch | None: ...
    def remove_watch(self, watch_id: str) -> bool: ...
    def watches_for_flow(self, flow_id: str) -> list[Watch]: ...
    def watches_in_channel(self, channel_id: str) -> list[Watch]: ...
    def watches_of_user(self, user_id: str) -> list[Watch]: ...
    def count_watches(self, channel_id: str | None = None) -> int: ...
    def due_watches(self, now: float, limit: int) -> list[Watch]: ...
    def lease(self, watch_id: str, holder: str, seconds: float) -> bool:
        """Take (or renew) the right to poll this watch; another holder's live lease wins."""
        ...

    def claim_notice(self, key: str, seconds: float) -> bool:
        """True exactly once per key within `seconds`, whichever process asks first."""
        ...

    def queue_notice(self, notice: PendingNotice, claim_seconds: float) -> bool:
        """Claim `notice.key` (as claim_notice) and keep the notice until it is finished, in one
        write: True for the one caller that queued it."""
        ...

    def due_notices(self, now: float, limit: int) -> list[PendingNotice]:
        """Notices whose next attempt is due, each the oldest still pending for its watch (so a
        watch's notices are told in order)."""
        ...

    def get_notice(self, key: str) -> PendingNotice | None: ...
    def first_notice(self, watch_id: str) -> str | None:
        """The key of the watch's oldest pending notice, the one to tell next."""
        ...

    def update_notice(self, notice: PendingNotice) -> bool:
        """Rewrite a notice still pending; False once it is finished."""
        ...

    def finish_notice(self, key: str) -> None: ...
    def drop_notices(self, watch_id: str) -> int:
        """Forget a watch's pending notices (the person unwatched it); how many."""
        ...

    def add_recent(self, user_id: str, lookup: RecentLookup) -> None: ...
    def recent(self, user_id: str) -> list[RecentLookup]: ...
    def clear_recent(self, user_id: str) -> None: ...
    def language(self, user_id: str) -> Language | None: ...
    def set_language(self, user_id: str, language: Language) -> None: ...
    def close(self) -> None: ...


def _newest(lookups: Iterable[RecentLookup]) -> list[RecentLookup]:
    return sorted(lookups, key=lambda r: r.looked_up_at, reverse=True)[:RECENT_PER_PERSON]


class SqliteStateStore:
    """One file; safe for threads of one process and for several processes on one machine."""

    def __init__(self, path: str | Path, *, clock: Any = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                str(path), timeout=SQLITE_BUSY, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # Under WAL, NORMAL still keeps every commit through a killed process (only a power
            # cut can lose the last ones) and spares an fsync per write.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the state file {path}: {exc}") from None

    def _migrate(self) -> None:
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS watches (
                watch_id TEXT PRIMARY KEY, flow_id TEXT NOT NULL, channel_id TEXT,
                user_id TEXT NOT NULL, next_poll_at REAL NOT NULL, data TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS watches_by_flow ON watches (flow_id);
            CREATE INDEX IF NOT EXISTS watches_by_due ON watches (next_poll_at);
            CREATE TABLE IF NOT EXISTS leases (
                watch_id TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS notices (key TEXT PRIMARY KEY, until REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox (
                key TEXT PRIMARY KEY, watch_id TEXT NOT NULL, created_at REAL NOT NULL,
                next_attempt_at REAL NOT NULL, data TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS outbox_by_watch ON outbox (watch_id, created_at);
            CREATE INDEX IF NOT EXISTS outbox_by_due ON outbox (next_attempt_at);
            CREATE TABLE IF NOT EXISTS recent (
                user_id TEXT NOT NULL, flow_id TEXT NOT NULL, at REAL NOT NULL,
                data TEXT NOT NULL, PRIMARY KEY (user_id, flow_id));
            CREATE TABLE IF NOT EXISTS prefs (user_id TEXT PRIMARY KEY, language TEXT NOT NULL);
            """
        )
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from None

    def _changed(self, sql: str, params: tuple[Any, ...]) -> int:
        try:
            with self._lock:
                return self._db.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from None

    def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Several statements as one short write: IMMEDIATE takes the write lock first (waiting
        for it), so a read inside can never need an upgrade that fails as "locked"."""
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    done = work(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return done
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from None

    def _watches(self, rows: list[tuple[Any, ...]]) -> list[Watch]:
        return [w for (data,) in rows if (w := Watch.from_json(data)) is not None]

    def put_watch(self, watch: Watch) -> None:
        self._run(
            "INSERT OR REPLACE INTO watches VALUES (?, ?, ?, ?, ?, ?)",
            (
                watch.watch_id,
                watch.flow_id,
                watch.channel_id,
                watch.user_id,
                watch.next_poll_at,
                watch.to_json(),
            ),
        )

    def update_watch(self, watch: Watch) -> bool:
        changed = self._changed(
            "UPDATE watches SET next_poll_at=?, data=? WHERE watch_id=?",
            (watch.next_poll_at, watch.to_json(), watch.watch_id),
        )
        return changed > 0

    def get_watch(self, watch_id: str) -> Watch | None:
        found = self._watches(self._run("SELECT data FROM watches WHERE watch_id=?", (watch_id,)))
        return found[0] if found else None

    def remove_watch(self, watch_id: str) -> bool:
        def remove(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM leases WHERE watch_id=?", (watch_id,))
            return db.execute("DELETE FROM watches WHERE watch_id=?", (watch_id,)).rowcount > 0

        return self._transaction(remove)

    def watches_for_flow(self, flow_id: str) -> list[Watch]:
        return self._watches(self._run("SELECT data FROM watches WHERE flow_id=?", (flow_id,)))

    def watches_in_channel(self, channel_id: str) -> list[Watch]:
        rows = self._run("SELECT data FROM watches WHERE channel_id=?", (channel_id,))
        return self._watches(rows)

    def watches_of_user(self, user_id: str) -> list[Watch]:
        return self._watches(self._run("SELECT data FROM watches WHERE user_id=?", (user_id,)))

    def count_watches(self, channel_id: str | None = None) -> int:
        if channel_id is None:
            rows = self._run("SELECT COUNT(*) FROM watches")
        else:
            rows = self._run("SELECT COUNT(*) FROM watches WHERE channel_id=?", (channel_id,))
        return int(rows[0][0])

    def due_watches(self, now: float, limit: int) -> list[Watch]:
        rows = self._run(
            "SELECT data FROM watches WHERE next_poll_at<=? ORDER BY next_poll_at LIMIT ?",
            (now, limit),
        )
        return self._watches(rows)

    def lease(self, watch_id: str, holder: str, seconds: float) -> bool:
        now = self._clock()
        changed = self._changed(
            "INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT (watch_id) DO UPDATE SET "
            "holder=excluded.holder, until=excluded.until "
            "WHERE leases.holder=excluded.holder OR leases.until<?",
            (watch_id, holder, now + seconds, now),
        )
        return changed > 0

    def claim_notice(self, key: str, seconds: float) -> bool:
        return self._transaction(lambda db: self._claim(db, key, seconds))

    def _claim(self, db: sqlite3.Connection, key: str, seconds: float) -> bool:
        now = self._clock()
        db.execute("DELETE FROM notices WHERE until<?", (now,))
        # A lapsed lease is no lease; the outbox's (one per notice) would pile up otherwise.
        db.execute("DELETE FROM leases WHERE until<?", (now,))
        claimed = db.execute("INSERT OR IGNORE INTO notices VALUES (?, ?)", (key, now + seconds))
        return claimed.rowcount > 0

    def queue_notice(self, notice: PendingNotice, claim_seconds: float) -> bool:
        def queue(db: sqlite3.Connection) -> bool:
            if not self._claim(db, notice.key, claim_seconds):
                return False
            db.execute(
                "INSERT OR REPLACE INTO outbox VALUES (?, ?, ?, ?, ?)",
                (
                    notice.key,
                    notice.watch_id,
                    notice.created_at,
                    notice.next_attempt_at,
                    notice.to_json(),
                ),
            )
            return True

        return self._transaction(queue)

    def due_notices(self, now: float, limit: int) -> list[PendingNotice]:
        rows = self._run(
            "SELECT data FROM outbox AS o WHERE next_attempt_at<=? AND NOT EXISTS (SELECT 1 "
            "FROM outbox AS p WHERE p.watch_id=o.watch_id AND (p.created_at<o.created_at OR "
            "(p.created_at=o.created_at AND p.key<o.key))) ORDER BY next_attempt_at LIMIT ?",
            (now, limit),
        )
        return _notices(rows)

    def get_notice(self, key: str) -> PendingNotice | None:
        found = _notices(self._run("SELECT data FROM outbox WHERE key=?", (key,)))
        return found[0] if found else None

    def first_notice(self, watch_id: str) -> str | None:
        rows = self._run(
            "SELECT key FROM outbox WHERE watch_id=? ORDER BY created_at, key LIMIT 1", (watch_id,)
        )
        return str(rows[0][0]) if rows else None

    def update_notice(self, notice: PendingNotice) -> bool:
        changed = self._changed(
            "UPDATE outbox SET next_attempt_at=?, data=? WHERE key=?",
            (notice.next_attempt_at, notice.to_json(), notice.key),
        )
        return changed > 0

    def finish_notice(self, key: str) -> None:
        self._run("DELETE FROM outbox WHERE key=?", (key,))

    def drop_notices(self, watch_id: str) -> int:
        return self._changed("DELETE FROM outbox WHERE watch_id=?", (watch_id,))

    def add_recent(self, user_id: str, lookup: RecentLookup) -> None:
        def add(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO recent VALUES (?, ?, ?, ?)",
                (user_id, lookup.flow_id, lookup.looked_up_at, lookup.to_json()),
            )
            db.execute(
                "DELETE FROM recent WHERE user_id=? AND flow_id NOT IN (SELECT flow_id FROM "
                "recent WHERE user_id=? ORDER BY at DESC LIMIT ?)",
                (user_id, user_id, RECENT_PER_PERSON),
            )

        self._transaction(add)

    def recent(self, user_id: str) -> list[RecentLookup]:
        rows = self._run("SELECT data FROM recent WHERE user_id=? ORDER BY at DESC", (user_id,))
        return _newest(r for (data,) in rows if (r := RecentLookup.from_json(data)) is not None)

    def clear_recent(self, user_id: str) -> None:
        self._run("DELETE FROM recent WHERE user_id=?", (user_id,))

    def language(self, user_id: str) -> Language | None:
        rows = self._run("SELECT language FROM prefs WHERE user_id=?", (user_id,))
        return _language(rows[0][0]) if rows else None

    def set_language(self, user_id: str, language: Language) -> None:
        self._run("INSERT OR REPLACE INTO prefs VALUES (?, ?)", (user_id, language))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _notices(rows: Iterable[Any]) -> list[PendingNotice]:
    return [n for (data, *_) in rows if (n := PendingNotice.from_json(data)) is not None]


def _language(value: object) -> Language | None:
    return as_language(value)


class RedisStateStore:
    """The same records in Redis, under the bot's key prefix and e签宝 environment and app id.

    Watches and preferences live until removed (the person can remove them); notice claims and
    leases expire by themselves.
    """

    def __init__(self, shared: SharedRedis, base: str) -> None:
        self._shared = shared
        self._base = f"{base}:state:v{SCHEMA_VERSION}"

    def _key(self, *parts: str) -> str:
        return ":".join((self._base, *parts))

    def _do(self, operation: Callable[[redis.Redis], Any]) -> Any:
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

        def write(r: redis.Redis) -> None:
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

        def delete(r: redis.Redis) -> int:
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

        def firsts(r: redis.Redis) -> list[Any]:
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

    def _forget(self, r: redis.Redis, notices: list[PendingNotice]) -> int:
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

        def write(r: redis.Redis) -> None:
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
        return _newest(
            r for raw in entries.values() if (r := RecentLookup.from_json(raw)) is not None
        )

    def recent(self, user_id: str) -> list[RecentLookup]:
        return self._read_recent(self._do(lambda r: r.hgetall(self._key("recent", user_id))))

    def clear_recent(self, user_id: str) -> None:
        self._do(lambda r: r.delete(self._key("recent", user_id)))

    def language(self, user_id: str) -> Language | None:
        return _language(_text(self._do(lambda r: r.hget(self._key("prefs"), user_id))))

    def set_language(self, user_id: str, language: Language) -> None:
        self._do(lambda r: r.hset(self._key("prefs"), user_id, language))

    def close(self) -> None:
        """The connection belongs to the shared state, which closes it."""


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def open_state_store(sqlite_path: str | Path, shared: SharedState | None = None) -> StateStore:
    """Redis when the bot shares state across processes (REDIS_URL), else the SQLite file."""
    if shared is not None:
        return RedisStateStore(shared.redis, shared.keys.base)
    return SqliteStateStore(sqlite_path)
