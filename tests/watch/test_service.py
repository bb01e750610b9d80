"""WatchService against a real SQLite store, a stand-in lookup and a recording notifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.cards.watch import WatchRefusal
from bot.esign.errors import EsignUnavailable
from bot.esign.models import FlowOutline
from bot.flows.changes import Change
from bot.flows.snapshot import FlowSnapshot
from bot.slack.replies import Fate, PostResult
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.records import Watch
from bot.state.sqlite_store import SqliteStateStore
from bot.watch.notices import Step, post_reply
from bot.watch.service import WatchLimits, WatchService, place_of

FLOW = "803719636976683872"
ASKER = Requester("T0TEAM", "C0SUPPORT", "U0WATCHER")
POSTED = ReplyTarget(channel_id="C0SUPPORT", thread_ts="1.1", message_ts="1.2")


def snapshot(status: str, sub: str = "ING", flow_id: str = FLOW) -> FlowSnapshot:
    from datetime import UTC, datetime

    outline = FlowOutline.model_validate(
        {
            "flowId": flow_id,
            "flowStatus": status,
            "subFlows": [{"subFlowId": "s1", "subFlowType": "FACEAUTH_ESIGN", "status": sub}],
        }
    )
    return FlowSnapshot(outline, datetime.now(UTC), from_cache=False)


class Lookup:
    def __init__(self) -> None:
        self.answer: FlowSnapshot | Exception = snapshot("ING")
        self.gets = 0
        self.refreshes = 0

    def get(self, flow_id: str) -> FlowSnapshot:
        self.gets += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def refresh(self, flow_id: str) -> FlowSnapshot:
        self.refreshes += 1
        return self.get(flow_id)


class Notifier:
    """Records the notices Slack took (`moves`); `slack` answers its calls, in order, then ok."""

    def __init__(self) -> None:
        self.moves: list[tuple[str, list[Change], bool]] = []
        self.expiries: list[str] = []
        self.composed: dict[str, tuple[str, list[Change], bool]] = {}
        self.slack: list[PostResult] = []
        self.calls = 0

    def compose(
        self, watch: Watch, snap: FlowSnapshot, found: list[Change], final: bool
    ) -> list[Step]:
        token = f"notice-{len(self.composed)}"
        self.composed[token] = (watch.watch_id, found, final)
        return [post_reply("C0SUPPORT", watch.thread_ts, {"text": token})]

    def send(self, step: Step) -> PostResult:
        self.calls += 1
        answer = self.slack.pop(0) if self.slack else PostResult(ok=True, ts="9.9")
        if answer.ok:
            self.moves.append(self.composed[step["message"]["text"]])
        return answer

    def open_dm(self, user_id: str) -> PostResult:
        return PostResult(ok=True, channel=f"D{user_id}")

    def expired(self, watch: Watch) -> None:
        self.expiries.append(watch.watch_id)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStateStore:
    # One clock for the store (leases, claims) and the services on it.
    clock = [1000.0]
    made = SqliteStateStore(tmp_path / "state.sqlite3", clock=lambda: clock[0])
    made.clock = clock  # type: ignore[attr-defined]
    return made


def service(
    store: SqliteStateStore, lookup: Lookup, notifier: Notifier, **limits: Any
) -> WatchService:
    clock: list[float] = store.clock  # type: ignore[attr-defined]
    made = WatchService(store, lookup, notifier, WatchLimits(**limits), clock=lambda: clock[0])  # type: ignore[arg-type]
    made.clock = clock  # type: ignore[attr-defined]
    return made


def start(svc: WatchService, reply_to: ReplyTarget = POSTED, flow_id: str = FLOW) -> Watch:
    place = place_of(flow_id, ASKER, reply_to, requested_by="U0ASKER")
    assert place is not None
    started = svc.start(snapshot("ING", flow_id=flow_id), place)
    assert isinstance(started, Watch)
    return started


def test_a_posted_card_is_watched_in_its_thread_a_private_one_by_dm(
    store: SqliteStateStore,
) -> None:
    svc = service(store, Lookup(), Notifier())
    posted = start(svc)
    assert (posted.card_channel, posted.card_ts, posted.thread_ts) == ("C0SUPPORT", "1.2", "1.1")
    private = start(svc, ReplyTarget(channel_id="C0SUPPORT", ephemeral=True))
    assert private.private and private.watch_id != posted.watch_id
    assert 1000.0 < posted.next_poll_at <= 1030.0  # the first look within 30 s


def test_a_change_is_told_once_and_a_final_one_ends_the_watch(store: SqliteStateStore) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    svc.check(watch)
    assert notifier.moves == []  # nothing moved yet
    lookup.answer = snapshot("ING", "SUCCESS")
    svc.check(store.get_watch(watch.watch_id))  # type: ignore[arg-type]
    svc.check(store.get_watch(watch.watch_id))  # type: ignore[arg-type]
    assert [(found, final) for _, found, final in notifier.moves] == [
        ([Change("sub_flow", "ING", "SUCCESS", "FACEAUTH_ESIGN")], False)
    ]
    lookup.answer = snapshot("SUCCESS", "SUCCESS")
    svc.on_callback([FLOW])
    assert lookup.refreshes == 1
    assert notifier.moves[-1][2] is True
    assert store.get_watch(watch.watch_id) is None


def test_two_services_on_one_store_tell_a_change_once(store: SqliteStateStore) -> None:
    lookup = Lookup()
    first, second = Notifier(), Notifier()
    a, b = service(store, lookup, first), service(store, lookup, second)
    watch = start(a)
    lookup.answer = snapshot("FAIL", "FAIL")
    a.observe(watch.watch_id, lookup.answer)
    b.observe(watch.watch_id, lookup.answer)
    assert len(first.moves) + len(second.moves) == 1


def test_a_failed_look_is_retried_later_and_never_a_change(store: SqliteStateStore) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    lookup.answer = EsignUnavailable(retryable=True)
    svc.check(watch)
    again = store.get_watch(watch.watch_id)
    assert again is not None and again.poll_step == 1 and again.next_poll_at > watch.next_poll_at
    assert notifier.moves == []


def test_limits_refuse_and_change_nothing(store: SqliteStateStore) -> None:
    svc = service(store, Lookup(), Notifier(), per_channel=1, total=2)
    start(svc)
    place = place_of("802965095964494307", ASKER, POSTED, requested_by=None)
    assert place is not None
    assert svc.start(snapshot("ING", flow_id=place.flow_id), place) is WatchRefusal.CHANNEL_LIMIT
    elsewhere = ReplyTarget(channel_id="C0ONCALL", ephemeral=True)
    start(svc, elsewhere, "802965095964494307")
    third = place_of(
        "802965095964494308", ASKER, ReplyTarget(channel_id="C0THIRD"), requested_by=None
    )
    assert third is not None
    assert svc.start(snapshot("ING", flow_id=third.flow_id), third) is WatchRefusal.TOTAL_LIMIT
    final = place_of("802965095964494309", ASKER, elsewhere, requested_by=None)
    assert final is not None
    assert svc.start(snapshot("SUCCESS", flow_id=final.flow_id), final) is WatchRefusal.FINAL
    assert store.count_watches() == 2


def test_a_watch_expires_with_a_note(store: SqliteStateStore) -> None:
    notifier = Notifier()
    svc = service(store, Lookup(), notifier, max_hours=1)
    watch = start(svc)
    svc.clock[0] += 3601  # type: ignore[attr-defined]
    svc.check(watch)
    assert notifier.expiries == [watch.watch_id]
    assert store.get_watch(watch.watch_id) is None


# --- Slack down while a notice is due ----------------------------------------------------------

SLACK_DOWN = PostResult(ok=False, error="service_unavailable", fate=Fate.NOT_DONE)


def _retry_due(svc: WatchService) -> int:
    """What the poller does each tick: one attempt at each notice due again."""
    due = svc.due_notices(50)
    for notice in due:
        svc.deliver_notice(notice.key)
    return len(due)


def test_a_notice_slack_failed_is_kept_and_told_once_slack_is_back(
    store: SqliteStateStore,
) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    notifier.slack = [SLACK_DOWN, SLACK_DOWN]
    final = snapshot("SUCCESS", "SUCCESS")
    svc.observe(watch.watch_id, final)
    assert notifier.moves == [] and notifier.calls == 1
    # The final status ended the watch; its notice stays.
    assert store.get_watch(watch.watch_id) is None
    # Within the back-off nothing is tried again, however often the poller looks.
    assert _retry_due(svc) == 0
    svc.clock[0] += 4.9  # type: ignore[attr-defined]
    assert _retry_due(svc) == 0 and notifier.calls == 1
    svc.clock[0] += 1.2  # type: ignore[attr-defined]
    assert _retry_due(svc) == 1 and notifier.calls == 2  # Slack still down
    svc.clock[0] += 9.0  # type: ignore[attr-defined]
    assert _retry_due(svc) == 0  # the wait doubled
    svc.clock[0] += 3.1  # type: ignore[attr-defined]
    assert _retry_due(svc) == 1
    assert [(found[0].new, last) for _, found, last in notifier.moves] == [("SUCCESS", True)]
    svc.clock[0] += 600  # type: ignore[attr-defined]
    assert _retry_due(svc) == 0 and len(notifier.moves) == 1


def test_slacks_retry_after_is_honoured(store: SqliteStateStore) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    notifier.slack = [
        PostResult(ok=False, error="ratelimited", fate=Fate.NOT_DONE, retry_after=30.0)
    ]
    svc.observe(watch.watch_id, snapshot("ING", "SUCCESS"))
    svc.clock[0] += 29.0  # type: ignore[attr-defined]
    assert _retry_due(svc) == 0
    svc.clock[0] += 1.5  # type: ignore[attr-defined]
    assert _retry_due(svc) == 1 and len(notifier.moves) == 1


def test_a_post_that_may_have_reached_slack_is_not_sent_again(
    store: SqliteStateStore, caplog: pytest.LogCaptureFixture
) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    notifier.slack = [PostResult(ok=False, error="request_failed", fate=Fate.UNKNOWN)]
    svc.observe(watch.watch_id, snapshot("ING", "SUCCESS"))
    svc.clock[0] += 3600  # type: ignore[attr-defined]
    assert _retry_due(svc) == 0 and notifier.calls == 1
    assert "not sent again" in caplog.text


def test_a_notice_is_given_up_after_an_hour_with_a_warning(
    store: SqliteStateStore, caplog: pytest.LogCaptureFixture
) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    notifier.slack = [SLACK_DOWN] * 100
    svc.observe(watch.watch_id, snapshot("ING", "SUCCESS"))
    for _ in range(100):
        svc.clock[0] += 60  # type: ignore[attr-defined]
        _retry_due(svc)
    assert notifier.moves == [] and notifier.calls < 30  # backed off to minutes apart
    assert store.due_notices(1e12, 10) == []
    assert "gave up on a watch notice" in caplog.text


def test_a_second_change_waits_behind_the_first_one_of_its_watch(
    store: SqliteStateStore,
) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    notifier.slack = [SLACK_DOWN]
    svc.observe(watch.watch_id, snapshot("ING", "SUCCESS"))
    svc.observe(watch.watch_id, snapshot("FAIL", "SUCCESS"))  # not tried before the first
    assert notifier.calls == 1
    svc.clock[0] += 10  # type: ignore[attr-defined]
    _retry_due(svc)
    _retry_due(svc)
    assert [found[0].new for _, found, _ in notifier.moves] == ["SUCCESS", "FAIL"]


def test_unwatching_drops_a_notice_still_waiting(store: SqliteStateStore) -> None:
    lookup, notifier = Lookup(), Notifier()
    svc = service(store, lookup, notifier)
    watch = start(svc)
    notifier.slack = [SLACK_DOWN]
    svc.observe(watch.watch_id, snapshot("ING", "SUCCESS"))
    assert svc.stop(watch.watch_id) is not None
    svc.clock[0] += 60  # type: ignore[attr-defined]
    assert _retry_due(svc) == 0 and notifier.moves == []
