"""What must survive a restart: watches, each person's recent lookups and language preference.

One small typed store with two engines: SQLite (the embedded default, a file in the working
directory) and Redis (with `REDIS_URL`: Heroku's dyno disk is wiped on every restart, and
several dynos must see the same watches). Records are JSON with a schema version; a row that
does not read as one (corrupt, or written by a newer version) is skipped with a warning, never
a crash. Handlers never talk to either engine: they go through the watch and home doors.
"""

from __future__ import annotations

from pathlib import Path

from bot.state.records import StateStore
from bot.state.redis_store import RedisStateStore
from bot.state.shared.engine import SharedState
from bot.state.sqlite_store import SqliteStateStore


def open_state_store(sqlite_path: str | Path, shared: SharedState | None = None) -> StateStore:
    """Redis when the bot shares state across processes (REDIS_URL), else the SQLite file."""
    if shared is not None:
        if shared.kind == "cluster":
            return RedisStateStore(shared.redis, shared.keys.base, one_slot=True)
        return RedisStateStore(shared.redis, shared.keys.base)
    return SqliteStateStore(sqlite_path)
