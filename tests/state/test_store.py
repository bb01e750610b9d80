"""The state store's two engines behave alike: SQLite on a temp file, Redis on a real server
and on a real 3-primary Redis Cluster (where every record's key shares one hash tag)."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.state.event_receipts import EventReceipts
from bot.state.records import RECENT_PER_PERSON, PendingNotice, RecentLookup, StateStore, Watch
from bot.state.redis_store import RedisStateStore
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.state.shared.keys import hash_tag
from bot.state.sqlite_store import SqliteStateStore
from tests.redis_server import ClusterSet, Engine, RedisServer, require_redis_server

FLOW = "803719636976683872"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(Path(tmp_path_factory.mktemp("redis-store"))).start()
    yield server
    server.kill()


BASE = "esign-flow:sandbox:test-app"


@pytest.fixture(params=["sqlite", "redis", "cluster"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    made: StateStore
    if request.param == "sqlite":
        made = SqliteStateStore(tmp_path / "state.sqlite3")
    elif request.param == "cluster":
        made = RedisStateStore(cluster_engine(request).shared(), BASE, one_slot=True)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        made = RedisStateStore(SharedRedis(redis_client(server.url), location="test"), BASE)
    yield made
    made.close()


def cluster_engine(request: pytest.FixtureRequest) -> Engine:
    cluster: ClusterSet = request.getfixturevalue("redis_cluster")
    return cluster.engine()


def test_on_one_server_an_upgraded_bot_still_reads_what_it_stored(
    redis_server: RedisServer,
) -> None:
    """Hash tags are for a Cluster only: on one server (and Sentinel) the records keep the names
    earlier versions wrote, so a deploy does not lose anyone's watches or preferences."""
    redis_server.flush()
    stored = watch()
    raw = redis_client(redis_server.url)
    raw.hset(f"{BASE}:state:v1:watches", stored.watch_id, stored.to_json())
    raw.hset(f"{BASE}:state:v1:prefs", "U0ASKER", "zh")
    store = RedisStateStore(SharedRedis(redis_client(redis_server.url), location="test"), BASE)
    assert store.get_watch(stored.watch_id) == stored
    assert store.language("U0ASKER") == "zh"
    store.close()


def test_on_a_cluster_every_record_lives_in_one_slot(request: pytest.FixtureRequest) -> None:
    """Scripts and transactions touch several records at once: CROSSSLOT otherwise."""
    engine = cluster_engine(request)
    store = RedisStateStore(engine.shared(), BASE, one_slot=True)
    posted = watch()
    store.put_watch(posted)
    assert store.update_watch(dataclasses.replace(posted, next_poll_at=2000.0))
    assert store.lease(posted.watch_id, "process-a", 5)
    assert store.queue_notice(pending("w1|a>b", posted.watch_id, 1000.0, 1000.0), 60)
    store.add_recent("U0ASKER", RecentLookup(FLOW, "ING", 100.0))
    store.set_language("U0ASKER", "zh")
    assert EventReceipts(store).first_delivery("Ev0CLUSTER")
    keys = engine.stored_keys()
    assert len(keys) >= 10
    assert {hash_tag(key) for key in keys} == {"sandbox:test-app"}
    assert all(key.startswith("esign-flow:{sandbox:test-app}:state:v") for key in keys)
    assert store.remove_watch(posted.watch_id)
    store.close()


def test_an_event_is_handled_once_whichever_process_gets_it(store: StateStore) -> None:
    one, other = EventReceipts(store), EventReceipts(store)  # two processes, one store
    assert one.first_delivery("Ev0RETRIED")
    assert not other.first_delivery("Ev0RETRIED")  # Slack's retry, sent to another process
    assert other.first_delivery("Ev0ANOTHER")


def watch(
    flow_id: str = FLOW, *, channel: str = "C0SUPPORT", ts: str | None = "1.2", **kw: object
) -> Watch:
    fields: dict[str, object] = {
        "flow_id": flow_id,
        "user_id": "U0WATCHER",
        "team_id": "T0TEAM",
        "channel_id": channel,
        "card_channel": channel if ts else None,
        "card_ts": ts,
        "thread_ts": ts,
        "started_at": 1000.0,
        "expires_at": 1000.0 + 24 * 3600,
        "next_poll_at": 1030.0,
        **kw,
    }
    return Watch(**fields)  # type: ignore[arg-type]


def test_watches_are_stored_found_and_removed(store: StateStore) -> None:
    posted = watch()
    private = watch(ts=None, last_seen={"status": "ING", "subs": {"a": "ING"}})
    elsewhere = watch("802965095964494307", channel="C0ONCALL", next_poll_at=2000.0)
    for w in (posted, private, elsewhere):
        store.put_watch(w)
    assert posted.watch_id != private.watch_id
    assert store.get_watch(private.watch_id) == private
    assert {w.watch_id for w in store.watches_for_flow(FLOW)} == {posted.watch_id, private.watch_id}
    assert len(store.watches_in_channel("C0SUPPORT")) == 2
    assert len(store.watches_of_user("U0WATCHER")) == 3
    assert (store.count_watches(), store.count_watches("C0ONCALL")) == (3, 1)
    assert {w.watch_id for w in store.due_watches(1500.0, 10)} == {
        posted.watch_id,
        private.watch_id,
    }
    assert store.remove_watch(posted.watch_id) is True
    assert store.remove_watch(posted.watch_id) is False
    assert store.get_watch(posted.watch_id) is None
    assert store.count_watches("C0SUPPORT") == 1
    # Rewriting a watch (its next poll moved) replaces it, never duplicates it.
    store.put_watch(watch(ts=None, next_poll_at=5000.0))
    assert store.count_watches() == 2
    assert store.due_watches(1500.0, 10) == []


def test_an_update_never_brings_back_a_removed_watch(store: StateStore) -> None:
    original = watch()
    store.put_watch(original)
    moved = watch(next_poll_at=9000.0, poll_step=2)
    assert store.update_watch(moved) is True
    assert store.get_watch(original.watch_id) == moved
    assert store.due_watches(5000.0, 10) == []
    store.remove_watch(original.watch_id)
    assert store.update_watch(watch(next_poll_at=1.0)) is False
    assert store.get_watch(original.watch_id) is None
    assert store.due_watches(5000.0, 10) == [] and store.count_watches() == 0


def test_a_lease_is_held_by_one_holder_until_it_expires(store: StateStore) -> None:
    assert store.lease("w1", "process-a", 0.3)
    assert store.lease("w1", "process-a", 0.3), "the holder renews its own lease"
    assert not store.lease("w1", "process-b", 0.3)
    time.sleep(0.4)
    assert store.lease("w1", "process-b", 0.3), "an expired lease is taken over"


def test_a_notice_is_claimed_exactly_once(store: StateStore) -> None:
    assert store.claim_notice("w1:ING->SUCCESS", 60)
    assert not store.claim_notice("w1:ING->SUCCESS", 60)
    assert store.claim_notice("w1:ING->FAIL", 60)


def test_a_lapsed_claim_is_taken_over_before_the_table_is_purged(tmp_path: Path) -> None:
    now = [1000.0]
    store = SqliteStateStore(tmp_path / "state.sqlite3", clock=lambda: now[0])
    assert store.claim_notice("answered:C1:1.2:803719636976683872", 1.0)  # purges, then claims
    now[0] += 2.0  # lapsed, and the next purge is not due yet: the row is still there
    assert store.claim_notice("answered:C1:1.2:803719636976683872", 1.0)
    assert not store.claim_notice("answered:C1:1.2:803719636976683872", 1.0)
    now[0] += 10.0
    assert store.claim_notice("answered:C1:1.2:803719636976683872", 1.0)
    store.close()


def pending(key: str, watch_id: str, created_at: float, due: float) -> PendingNotice:
    step = {"do": "post", "channel": "C0SUPPORT", "thread_ts": "1.2", "message": {"text": key}}
    return PendingNotice(key, watch_id, [step], created_at, due, created_at + 3600)


def test_a_notice_is_queued_once_and_kept_until_finished(store: StateStore) -> None:
    first = pending("w1|a>b", "w1", 1000.0, 1000.0)
    assert store.queue_notice(first, 60)
    assert not store.queue_notice(pending("w1|a>b", "w1", 1001.0, 1001.0), 60)  # claimed
    assert not store.claim_notice("w1|a>b", 60)
    assert store.get_notice(first.key) == first
    later = dataclasses.replace(first, steps=[], attempts=1, next_attempt_at=1010.0)
    assert store.update_notice(later)
    assert store.due_notices(1005.0, 10) == []
    assert store.due_notices(1010.0, 10) == [later]
    # Removing the watch (a final status) keeps its notice.
    store.put_watch(watch())
    store.remove_watch(watch().watch_id)
    assert store.get_notice(first.key) == later
    store.finish_notice(first.key)
    assert store.get_notice(first.key) is None
    assert not store.update_notice(later)  # never brought back
    assert store.due_notices(1e12, 10) == []


def test_a_watchs_notices_come_due_oldest_first(store: StateStore) -> None:
    older = pending("w1|a>b", "w1", 1000.0, 1030.0)  # backing off
    newer = pending("w1|b>c", "w1", 1005.0, 1005.0)
    other = pending("w2|a>b", "w2", 1006.0, 1006.0)
    for notice in (older, newer, other):
        assert store.queue_notice(notice, 60)
    assert store.due_notices(1010.0, 10) == [other]  # `newer` waits behind `older`
    assert store.first_notice("w1") == older.key
    assert [n.key for n in store.due_notices(1030.0, 10)] == [other.key, older.key]
    store.finish_notice(older.key)
    assert store.first_notice("w1") == newer.key
    assert store.drop_notices("w1") == 1
    assert store.first_notice("w1") is None
    assert [n.key for n in store.due_notices(1e12, 10)] == [other.key]


def test_recent_lookups_are_bounded_newest_first_and_clearable(store: StateStore) -> None:
    for n in range(RECENT_PER_PERSON + 3):
        store.add_recent("U0ASKER", RecentLookup(f"80371963697668{n:04d}", "ING", 100.0 + n))
    store.add_recent("U0ASKER", RecentLookup("803719636976680000", "SUCCESS", 500.0))
    store.add_recent("U0OTHER", RecentLookup(FLOW, "FAIL", 50.0))
    mine = store.recent("U0ASKER")
    assert len(mine) == RECENT_PER_PERSON
    assert mine[0] == RecentLookup("803719636976680000", "SUCCESS", 500.0)
    assert [r.looked_up_at for r in mine] == sorted((r.looked_up_at for r in mine), reverse=True)
    assert [r.flow_id for r in store.recent("U0OTHER")] == [FLOW]
    store.clear_recent("U0ASKER")
    assert store.recent("U0ASKER") == []
    assert len(store.recent("U0OTHER")) == 1


def test_language_preference(store: StateStore) -> None:
    assert store.language("U0ASKER") is None
    store.set_language("U0ASKER", "zh")
    assert store.language("U0ASKER") == "zh"


def test_watches_survive_a_restart_of_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = SqliteStateStore(path)
    first.put_watch(watch())
    first.close()
    again = SqliteStateStore(path)
    assert again.get_watch(watch().watch_id) == watch()


def test_corrupt_and_foreign_rows_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStateStore(path)
    store.put_watch(watch())
    raw = sqlite3.connect(path)
    for n, data in enumerate(['{"v": 99, "flow_id": "x"}', "not json", '{"v": 1, "bogus": 1}']):
        raw.execute(
            "INSERT INTO watches VALUES (?, ?, 'C0SUPPORT', 'U0WATCHER', 0, ?)",
            (f"bad{n}", FLOW, data),
        )
    raw.commit()
    raw.close()
    assert [w.watch_id for w in store.watches_for_flow(FLOW)] == [watch().watch_id]
    assert sum("cannot read" in r.getMessage() for r in caplog.records) == 3


def test_lapsed_claims_and_leases_are_found_by_index_not_by_scanning(tmp_path: Path) -> None:
    # Every claim (each Events API delivery, each Socket Mode envelope) first drops the lapsed
    # ones; scanning an hour of claims made each one cost 0.8 ms of CPU at 20,000 of them.
    path = tmp_path / "state.sqlite3"
    SqliteStateStore(path).close()
    with sqlite3.connect(path) as db:
        for table, query in (
            ("notices", "EXPLAIN QUERY PLAN DELETE FROM notices WHERE until<?"),
            ("leases", "EXPLAIN QUERY PLAN DELETE FROM leases WHERE until<?"),
        ):
            plan = db.execute(query, (0.0,))
            details = " ".join(str(row[-1]) for row in plan)
            assert f"USING INDEX {table}_by_until" in details, details
