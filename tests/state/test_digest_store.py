"""The digest's records behave alike in both engines: settings, the day's claim (once, across
processes and restarts), and the bounded, expiring "shown in this channel" memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.state.digest_records import SHOWN_KEEP_SECONDS, SHOWN_PER_CHANNEL, DigestSetting
from bot.state.records import StateStore
from bot.state.redis_store import RedisStateStore
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.state.sqlite_store import SqliteStateStore
from tests.redis_server import RedisServer, require_redis_server

BASE = "esign-flow:sandbox:test-app"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(Path(tmp_path_factory.mktemp("redis-digests"))).start()
    yield server
    server.kill()


def _redis_store(server: RedisServer) -> RedisStateStore:
    return RedisStateStore(SharedRedis(redis_client(server.url), location="test"), BASE)


@pytest.fixture(params=["sqlite", "redis"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[StateStore, object]]:
    """A store, and how to open a second one on the same data (another process, a restart)."""
    if request.param == "sqlite":
        path = tmp_path / "state.sqlite3"
        yield SqliteStateStore(path), lambda: SqliteStateStore(path)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    server.flush()
    yield _redis_store(server), lambda: _redis_store(server)


def setting(channel: str = "C0SUPPORT", user: str = "U0SETTER", **kw: object) -> DigestSetting:
    fields: dict[str, object] = {
        "channel_id": channel,
        "team_id": "T0TEAM",
        "user_id": user,
        "hour": 9,
        "minute": 30,
        "tz": "Asia/Shanghai",
        "set_at": 1000.0,
        **kw,
    }
    return DigestSetting(**fields)  # type: ignore[arg-type]


def test_digests_are_set_listed_by_person_updated_and_turned_off(
    engine: tuple[StateStore, object],
) -> None:
    store, _ = engine
    store.put_digest(setting())
    store.put_digest(setting("C0ONCALL", hour=8))
    store.put_digest(setting("C0OTHER", user="U0SOMEONE"))
    assert store.get_digest("C0SUPPORT") == setting()
    assert [d.channel_id for d in store.all_digests()] == ["C0ONCALL", "C0OTHER", "C0SUPPORT"]
    assert [d.channel_id for d in store.digests_of_user("U0SETTER")] == ["C0ONCALL", "C0SUPPORT"]

    # Someone else sets the channel's digest again: it is theirs now.
    store.put_digest(setting("C0ONCALL", user="U0SOMEONE"))
    assert [d.channel_id for d in store.digests_of_user("U0SETTER")] == ["C0SUPPORT"]
    assert len(store.digests_of_user("U0SOMEONE")) == 2

    sent = dataclasses.replace(setting(), last_sent_at=5000.0)
    assert store.update_digest(sent)
    assert store.get_digest("C0SUPPORT") == sent
    assert store.remove_digest("C0SUPPORT")
    assert not store.remove_digest("C0SUPPORT")
    # A digest finishing after `off` does not bring the setting back.
    assert not store.update_digest(sent)
    assert store.get_digest("C0SUPPORT") is None
    assert store.digests_of_user("U0SETTER") == []


def test_a_days_claim_is_won_once_by_any_process_and_after_a_restart(
    engine: tuple[StateStore, object],
) -> None:
    store, reopen = engine
    other = reopen()  # type: ignore[operator]
    assert store.claim_digest("C0SUPPORT", "2026-03-08")
    assert not other.claim_digest("C0SUPPORT", "2026-03-08")
    assert other.claim_digest("C0SUPPORT", "2026-03-09")
    assert other.claim_digest("C0ONCALL", "2026-03-08")
    restarted = reopen()  # type: ignore[operator]
    assert not restarted.claim_digest("C0SUPPORT", "2026-03-08")


def test_shown_flows_are_remembered_per_channel_with_their_thread(
    engine: tuple[StateStore, object],
) -> None:
    store, _ = engine
    store.record_shown("C0SUPPORT", ["8037196369766838720"], "100.1", 1000.0)
    store.record_shown("C0SUPPORT", ["8029650959644943070", "8037196369766838720"], None, 2000.0)
    store.record_shown("C0ONCALL", ["8000000000000000001"], "5.5", 1500.0)
    found = store.shown_since("C0SUPPORT", 0.0)
    # Shown again moves a flow (and its thread) to the new showing.
    assert {(s.flow_id, s.thread_ts, s.shown_at) for s in found} == {
        ("8029650959644943070", None, 2000.0),
        ("8037196369766838720", None, 2000.0),
    }
    assert [s.flow_id for s in store.shown_since("C0SUPPORT", 2500.0)] == []
    assert [(s.flow_id, s.thread_ts) for s in store.shown_since("C0ONCALL", 0.0)] == [
        ("8000000000000000001", "5.5")
    ]


def test_the_shown_memory_forgets_after_48_hours_and_keeps_a_bounded_number(
    engine: tuple[StateStore, object],
) -> None:
    store, _ = engine
    store.record_shown("C0BUSY", ["8000000000000000000"], "1.1", 1000.0)
    later = 1000.0 + SHOWN_KEEP_SECONDS + 1
    flows = [f"81{n:017d}" for n in range(SHOWN_PER_CHANNEL + 20)]
    for n, flow in enumerate(flows):
        store.record_shown("C0BUSY", [flow], f"{n}.1", later + n)
    kept = store.shown_since("C0BUSY", 0.0)
    assert len(kept) == SHOWN_PER_CHANNEL
    # The newest are kept, the oldest (and the one from two days before) forgotten.
    assert kept[0].flow_id == flows[-1]
    assert kept[-1].flow_id == flows[20]
    assert "8000000000000000000" not in {s.flow_id for s in kept}


def test_a_setting_that_does_not_read_is_skipped_not_a_crash() -> None:
    assert DigestSetting.from_json("not json") is None
    assert DigestSetting.from_json('{"v": 99, "channel_id": "C1"}') is None
    assert DigestSetting.from_json('{"v": 1, "channel_id": "C1"}') is None
    assert DigestSetting.from_json(setting().to_json()) == setting()
