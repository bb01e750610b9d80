"""The channels' records in both engines alike: the automatic-answer setting, the thread memory
(a claim: one process answers), and unfurls kept for a while."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.state.records import ChannelAuto, StateStore
from bot.state.redis_store import RedisStateStore
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.state.sqlite_store import SqliteStateStore
from tests.redis_server import RedisServer, require_redis_server


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(Path(tmp_path_factory.mktemp("redis-channels"))).start()
    yield server
    server.kill()


def _open(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> StateStore:
    if kind == "sqlite":
        return SqliteStateStore(tmp_path / "state.sqlite3")
    server: RedisServer = request.getfixturevalue("redis_server")
    return RedisStateStore(
        SharedRedis(redis_client(server.url), location="test"), "esign-flow:sandbox:test-app"
    )


@pytest.fixture(params=["sqlite", "redis"])
def engine(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
    return str(request.param)


@pytest.fixture
def stores(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[StateStore, StateStore]]:
    """Two stores on the same data, as two processes of the bot have."""
    first, second = _open(engine, tmp_path, request), _open(engine, tmp_path, request)
    yield first, second
    first.close()
    second.close()


def test_the_setting_is_shared_and_says_who_turned_it_on(
    stores: tuple[StateStore, StateStore],
) -> None:
    one, other = stores
    assert one.channel_auto("C0SUPPORT") is None
    one.set_channel_auto(ChannelAuto("C0SUPPORT", "U0LEAD", 1_700_000_000.0))
    assert other.channel_auto("C0SUPPORT") == ChannelAuto("C0SUPPORT", "U0LEAD", 1_700_000_000.0)
    assert other.channel_auto("C0ELSEWHERE") is None
    assert other.clear_channel_auto("C0SUPPORT") is True
    assert one.channel_auto("C0SUPPORT") is None
    assert one.clear_channel_auto("C0SUPPORT") is False


def test_a_thread_is_answered_by_one_process_until_the_memory_lapses(
    stores: tuple[StateStore, StateStore],
) -> None:
    one, other = stores
    key = "answered:C0SUPPORT:1712345678.000100:803719636976683872"
    assert one.claim_notice(key, 0.3) is True
    assert other.claim_notice(key, 0.3) is False
    assert one.claim_notice(key.replace("0100", "0200"), 0.3) is True  # another thread
    time.sleep(0.45)
    assert other.claim_notice(key, 0.3) is True


def test_an_unfurl_is_kept_for_a_while_for_every_process(
    stores: tuple[StateStore, StateStore],
) -> None:
    one, other = stores
    one.keep_unfurl("C0SUPPORT:803719636976683872", '{"blocks": []}', 0.3)
    assert other.kept_unfurl("C0SUPPORT:803719636976683872") == '{"blocks": []}'
    assert other.kept_unfurl("C0OTHER:803719636976683872") is None
    time.sleep(0.45)
    assert one.kept_unfurl("C0SUPPORT:803719636976683872") is None


def test_a_setting_that_does_not_read_is_skipped(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    store.set_channel_auto(ChannelAuto("C0SUPPORT", "U0LEAD", 1.0))
    raw = sqlite3.connect(tmp_path / "state.sqlite3")
    with raw:
        raw.execute("UPDATE channel_auto SET data=?", ('{"v": 99}',))
    raw.close()
    assert store.channel_auto("C0SUPPORT") is None
    store.close()


def test_redis_keeps_the_channels_records_under_its_own_prefix(redis_server: RedisServer) -> None:
    redis_server.flush()
    store = RedisStateStore(
        SharedRedis(redis_client(redis_server.url), location="test"), "esign-flow:sandbox:app"
    )
    store.set_channel_auto(ChannelAuto("C0SUPPORT", "U0LEAD", 1.0))
    store.keep_unfurl("C0SUPPORT:803719636976683872", "{}", 5)
    keys = sorted(str(k) for k in redis_client(redis_server.url).keys("*"))
    assert keys and all(k.startswith("esign-flow:sandbox:app:state:") for k in keys), keys
