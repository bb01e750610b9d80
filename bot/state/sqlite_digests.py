"""The digest's tables in the SQLite engine: settings, the day's claims, the shown memory.

A part of SqliteStateStore (which mixes it in and supplies the connection helpers), kept apart
so the engine's module stays one screenful per kind of record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Final, TypeVar

from bot.state.digest_records import (
    DIGEST_CLAIM_SECONDS,
    SHOWN_KEEP_SECONDS,
    SHOWN_PER_CHANNEL,
    DigestSetting,
    ShownFlow,
)

_T = TypeVar("_T")
_RECORD: Final = "INSERT OR REPLACE INTO shown VALUES (?, ?, ?, ?)"
#: A channel's shown memory is pruned (past SHOWN_KEEP_SECONDS, past SHOWN_PER_CHANNEL) by its
#: first record this many seconds after the last prune, not by every record: a busy channel's
#: answer then costs one statement. A flow lingers past the keep at most this much longer;
#: shown_since still returns no more than the cap.
PRUNE_SECONDS: Final = 5.0
#: Channels whose last prune is remembered (forgotten all at once past this: they just prune).
_PRUNED_CHANNELS: Final = 10_000

DIGEST_TABLES = """
CREATE TABLE IF NOT EXISTS digests (
    channel_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS digests_by_user ON digests (user_id);
CREATE TABLE IF NOT EXISTS digest_claims (key TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE INDEX IF NOT EXISTS digest_claims_by_until ON digest_claims (until);
CREATE TABLE IF NOT EXISTS shown (
    channel_id TEXT NOT NULL, flow_id TEXT NOT NULL, thread_ts TEXT, at REAL NOT NULL,
    PRIMARY KEY (channel_id, flow_id));
CREATE INDEX IF NOT EXISTS shown_by_at ON shown (at);
CREATE INDEX IF NOT EXISTS shown_by_channel_at ON shown (channel_id, at);
"""


class SqliteDigests:
    """Mixed into SqliteStateStore, which provides the three helpers below and the clock."""

    _clock: Callable[[], float]
    #: Per channel, the `at` of the record that last pruned its shown memory (set up empty by
    #: SqliteStateStore; read and written under its lock).
    _pruned: dict[str, float]

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _changed(self, sql: str, params: tuple[Any, ...]) -> int:
        raise NotImplementedError

    def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        raise NotImplementedError

    def put_digest(self, setting: DigestSetting) -> None:
        self._run(
            "INSERT OR REPLACE INTO digests VALUES (?, ?, ?)",
            (setting.channel_id, setting.user_id, setting.to_json()),
        )

    def update_digest(self, setting: DigestSetting) -> bool:
        changed = self._changed(
            "UPDATE digests SET user_id=?, data=? WHERE channel_id=?",
            (setting.user_id, setting.to_json(), setting.channel_id),
        )
        return changed > 0

    def get_digest(self, channel_id: str) -> DigestSetting | None:
        found = _settings(self._run("SELECT data FROM digests WHERE channel_id=?", (channel_id,)))
        return found[0] if found else None

    def remove_digest(self, channel_id: str) -> bool:
        return self._changed("DELETE FROM digests WHERE channel_id=?", (channel_id,)) > 0

    def all_digests(self) -> list[DigestSetting]:
        return _settings(self._run("SELECT data FROM digests ORDER BY channel_id"))

    def digests_of_user(self, user_id: str) -> list[DigestSetting]:
        rows = self._run("SELECT data FROM digests WHERE user_id=? ORDER BY channel_id", (user_id,))
        return _settings(rows)

    def claim_digest(self, channel_id: str, local_date: str) -> bool:
        now = self._clock()

        def claim(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM digest_claims WHERE until<?", (now,))
            claimed = db.execute(
                "INSERT OR IGNORE INTO digest_claims VALUES (?, ?)",
                (f"{channel_id}|{local_date}", now + DIGEST_CLAIM_SECONDS),
            )
            return claimed.rowcount > 0

        return self._transaction(claim)

    def record_shown(
        self, channel_id: str, flow_ids: list[str], thread_ts: str | None, at: float
    ) -> None:
        if not flow_ids:
            return
        rows = [(channel_id, flow_id, thread_ts, at) for flow_id in flow_ids]
        last = self._pruned.get(channel_id)
        if len(rows) == 1 and last is not None and last <= at < last + PRUNE_SECONDS:
            # One statement is its own transaction: no BEGIN and COMMIT around it.
            self._changed(_RECORD, rows[0])
            return

        def record(db: sqlite3.Connection) -> None:
            db.executemany(_RECORD, rows)
            if (pruned := self._pruned.get(channel_id)) is not None and pruned <= at < (
                pruned + PRUNE_SECONDS
            ):
                return
            if len(self._pruned) >= _PRUNED_CHANNELS:
                self._pruned.clear()
            self._pruned[channel_id] = at
            db.execute("DELETE FROM shown WHERE at<?", (at - SHOWN_KEEP_SECONDS,))
            db.execute(
                "DELETE FROM shown WHERE channel_id=? AND flow_id NOT IN (SELECT flow_id FROM "
                "shown WHERE channel_id=? ORDER BY at DESC LIMIT ?)",
                (channel_id, channel_id, SHOWN_PER_CHANNEL),
            )

        self._transaction(record)

    def shown_since(self, channel_id: str, since: float) -> list[ShownFlow]:
        # LIMIT: the few recorded since the channel's last prune may pass the cap until the next.
        rows = self._run(
            "SELECT flow_id, thread_ts, at FROM shown WHERE channel_id=? AND at>=? "
            "ORDER BY at DESC LIMIT ?",
            (channel_id, since, SHOWN_PER_CHANNEL),
        )
        return [
            ShownFlow(str(flow), thread and str(thread), float(at)) for flow, thread, at in rows
        ]


def _settings(rows: list[tuple[Any, ...]]) -> list[DigestSetting]:
    return [s for (data,) in rows if (s := DigestSetting.from_json(data)) is not None]
