"""The SQLite engine of the state store: the embedded default, one file
(`STATE_DB_PATH`) safe for the threads of one process and for several processes on one machine.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final, TypeVar

from bot.language import Language, as_language
from bot.state.records import (
    RECENT_PER_PERSON,
    SCHEMA_VERSION,
    ChannelAuto,
    PendingNotice,
    RecentLookup,
    StoreUnavailable,
    Watch,
    newest_first,
)
from bot.state.sqlite_digests import DIGEST_TABLES, SqliteDigests

_T = TypeVar("_T")
#: Seconds a SQLite write waits for another process's: writes are single short transactions
#: (milliseconds), so this only runs out when the disk itself stalls.
SQLITE_BUSY: Final = 15.0


#: Lapsed claims and leases are dropped by the first claim after this many seconds, not by
#: every claim: a claim is then one statement (a lapsed claim left in the table until then is
#: taken over by the claim itself, see _CLAIM).
PURGE_SECONDS: Final = 5.0
#: Claim `key` until `?2` unless someone holds it past now (`?3`): a new row, or a lapsed one
#: taken over. rowcount is 1 when claimed, 0 when still held.
_CLAIM: Final = (
    "INSERT INTO notices VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET until=excluded.until "
    "WHERE notices.until<?3"
)


class SqliteStateStore(SqliteDigests):
    """One file; safe for threads of one process and for several processes on one machine."""

    def __init__(self, path: str | Path, *, clock: Any = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._purged_at = float("-inf")
        self._pruned = {}
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
            CREATE INDEX IF NOT EXISTS leases_by_until ON leases (until);
            CREATE TABLE IF NOT EXISTS notices (key TEXT PRIMARY KEY, until REAL NOT NULL);
            -- Every claim first drops the lapsed ones: by index, not by a scan of an hour's claims.
            CREATE INDEX IF NOT EXISTS notices_by_until ON notices (until);
            CREATE TABLE IF NOT EXISTS outbox (
                key TEXT PRIMARY KEY, watch_id TEXT NOT NULL, created_at REAL NOT NULL,
                next_attempt_at REAL NOT NULL, data TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS outbox_by_watch ON outbox (watch_id, created_at);
            CREATE INDEX IF NOT EXISTS outbox_by_due ON outbox (next_attempt_at);
            CREATE TABLE IF NOT EXISTS recent (
                user_id TEXT NOT NULL, flow_id TEXT NOT NULL, at REAL NOT NULL,
                data TEXT NOT NULL, PRIMARY KEY (user_id, flow_id));
            CREATE TABLE IF NOT EXISTS prefs (user_id TEXT PRIMARY KEY, language TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS channel_auto (
                channel_id TEXT PRIMARY KEY, data TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS unfurls (
                key TEXT PRIMARY KEY, until REAL NOT NULL, data TEXT NOT NULL);
            """
            + DIGEST_TABLES
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
        now = self._clock()
        if now < self._purged_at + PURGE_SECONDS:
            # One statement is its own transaction: no BEGIN and COMMIT around it.
            return self._changed(_CLAIM, (key, now + seconds, now)) > 0
        return self._transaction(lambda db: self._claim(db, key, seconds))

    def _claim(self, db: sqlite3.Connection, key: str, seconds: float) -> bool:
        now = self._clock()
        if now >= self._purged_at + PURGE_SECONDS:
            self._purged_at = now
            db.execute("DELETE FROM notices WHERE until<?", (now,))
            # A lapsed lease is no lease; the outbox's (one per notice) would pile up otherwise.
            db.execute("DELETE FROM leases WHERE until<?", (now,))
        return db.execute(_CLAIM, (key, now + seconds, now)).rowcount > 0

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
        found = (r for (data,) in rows if (r := RecentLookup.from_json(data)) is not None)
        return newest_first(found)

    def clear_recent(self, user_id: str) -> None:
        self._run("DELETE FROM recent WHERE user_id=?", (user_id,))

    def language(self, user_id: str) -> Language | None:
        rows = self._run("SELECT language FROM prefs WHERE user_id=?", (user_id,))
        return as_language(rows[0][0]) if rows else None

    def set_language(self, user_id: str, language: Language) -> None:
        self._run("INSERT OR REPLACE INTO prefs VALUES (?, ?)", (user_id, language))

    def set_channel_auto(self, setting: ChannelAuto) -> None:
        self._run(
            "INSERT OR REPLACE INTO channel_auto VALUES (?, ?)",
            (setting.channel_id, setting.to_json()),
        )

    def channel_auto(self, channel_id: str) -> ChannelAuto | None:
        rows = self._run("SELECT data FROM channel_auto WHERE channel_id=?", (channel_id,))
        return ChannelAuto.from_json(rows[0][0]) if rows else None

    def clear_channel_auto(self, channel_id: str) -> bool:
        return self._changed("DELETE FROM channel_auto WHERE channel_id=?", (channel_id,)) > 0

    def keep_unfurl(self, key: str, unfurl: str, seconds: float) -> None:
        def keep(db: sqlite3.Connection) -> None:
            now = self._clock()
            db.execute("DELETE FROM unfurls WHERE until<?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO unfurls VALUES (?, ?, ?)", (key, now + seconds, unfurl)
            )

        self._transaction(keep)

    def kept_unfurl(self, key: str) -> str | None:
        rows = self._run("SELECT data FROM unfurls WHERE key=? AND until>=?", (key, self._clock()))
        return str(rows[0][0]) if rows else None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _notices(rows: Iterable[Any]) -> list[PendingNotice]:
    return [n for (data, *_) in rows if (n := PendingNotice.from_json(data)) is not None]
