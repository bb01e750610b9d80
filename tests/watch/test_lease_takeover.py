"""A process killed holding a watch's lease, on a real Redis: the others leave the watch alone
while the lease lives, then one of them takes it over, and the change is told exactly once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.esign.models import FlowOutline
from bot.esign.rate_limit import CallRateLimiter
from bot.flows.changes import Change, flow_state
from bot.flows.snapshot import FlowSnapshot
from bot.slack.replies import PostResult
from bot.state.records import Watch
from bot.state.redis_store import RedisStateStore
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.watch.notices import Step, post_reply
from bot.watch.poller import WatchPoller
from bot.watch.service import WatchLimits, WatchService
from tests.redis_server import RedisServer, require_redis_server

ROOT = Path(__file__).resolve().parents[2]
FLOW = "803719636976683872"
BASE = "esign-flow:sandbox:lease-test"
LEASE_SECONDS = 3.0
LIMITS = WatchLimits(first_poll_seconds=0.5)

#: A poller whose look at the flow never ends: it holds the watch's lease when it is killed.
STUCK_POLLER = f"""
import sys, threading
from bot.esign.rate_limit import CallRateLimiter
from bot.state.shared.connection import redis_client
from bot.state.shared.health import SharedRedis
from bot.state.redis_store import RedisStateStore
from bot.watch.poller import WatchPoller
from bot.watch.service import WatchLimits, WatchService

class StuckLookup:
    def get(self, flow_id):
        print("looking", flush=True)
        threading.Event().wait()

store = RedisStateStore(SharedRedis(redis_client(sys.argv[1]), location="test"), "{BASE}")
service = WatchService(store, StuckLookup(), None, WatchLimits(first_poll_seconds=0.5))
WatchPoller(
    service, CallRateLimiter(per_second=50.0), tick_seconds=0.2, lease_seconds={LEASE_SECONDS}
).start()
threading.Event().wait()
"""


def snapshot(status: str) -> FlowSnapshot:
    outline = FlowOutline.model_validate(
        {
            "flowId": FLOW,
            "flowStatus": status,
            "subFlows": [{"subFlowId": "s1", "subFlowType": "FACEAUTH_ESIGN", "status": status}],
        }
    )
    return FlowSnapshot(outline, datetime.now(UTC), from_cache=False)


class MovedLookup:
    def __init__(self) -> None:
        self.looks = 0

    def get(self, flow_id: str) -> FlowSnapshot:
        self.looks += 1
        return snapshot("SUCCESS")

    refresh = get


class Told:
    """Slack, for the survivors: every notice any of them delivered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.notices: list[str] = []

    def compose(
        self, watch: Watch, snap: FlowSnapshot, found: list[Change], final: bool
    ) -> list[Step]:
        return [post_reply("C0SUPPORT", watch.thread_ts, {"text": watch.watch_id})]

    def send(self, step: Step) -> PostResult:
        with self.lock:
            self.notices.append(step["message"]["text"])
        return PostResult(ok=True, ts="9.9")

    def open_dm(self, user_id: str) -> PostResult:
        return PostResult(ok=True, channel=f"D{user_id}")

    def expired(self, watch: Watch) -> None:
        raise AssertionError("no watch expires here")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    require_redis_server()
    server = RedisServer(tmp_path).start()
    yield server.url
    server.kill()


def store_on(url: str) -> RedisStateStore:
    return RedisStateStore(SharedRedis(redis_client(url), location="test"), BASE)


def test_a_killed_lease_holders_watch_is_taken_over_and_told_once(redis_url: str) -> None:
    watch = Watch(
        flow_id=FLOW,
        user_id="U0WATCHER",
        team_id="T0TEAM",
        channel_id="C0SUPPORT",
        card_channel="C0SUPPORT",
        card_ts="1.2",
        thread_ts="1.2",
        started_at=time.time(),
        expires_at=time.time() + 3600,
        next_poll_at=0.0,
        last_seen=flow_state(snapshot("ING").outline),
    )
    store_on(redis_url).put_watch(watch)
    stuck = subprocess.Popen(
        [sys.executable, "-c", STUCK_POLLER, redis_url], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert stuck.stdout is not None
        assert stuck.stdout.readline() == b"looking\n"  # it holds the lease, mid-look
    finally:
        stuck.kill()  # SIGKILL: no chance to let go of anything
        stuck.wait(timeout=10)
    killed = time.monotonic()

    told, lookups = Told(), [MovedLookup(), MovedLookup()]
    survivors = [
        WatchPoller(
            WatchService(store_on(redis_url), lookup, told, LIMITS),  # type: ignore[arg-type]
            CallRateLimiter(per_second=50.0),
            tick_seconds=0.2,
            lease_seconds=LEASE_SECONDS,
        ).start()
        for lookup in lookups
    ]
    try:
        time.sleep(1.5)  # due again (the stuck look booked its next one ~1 s on), still leased
        if time.monotonic() - killed < LEASE_SECONDS - 0.5:
            assert sum(lookup.looks for lookup in lookups) == 0
        deadline = time.monotonic() + 15
        while not told.notices:
            assert time.monotonic() < deadline, "nobody took the watch over"
            time.sleep(0.1)
        time.sleep(1.5)  # both survivors keep ticking: nothing more to tell
    finally:
        for poller in survivors:
            poller.stop()
    assert told.notices == [watch.watch_id]
    assert store_on(redis_url).get_watch(watch.watch_id) is None  # the flow ended
