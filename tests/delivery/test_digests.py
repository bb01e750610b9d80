"""The digest door with the real lookup, renderers and SQLite store, and a recording Slack:
what a digest lists (shown visibly and posted watches only, open oldest first, finished since
the last digest with the reason), nothing posted when nothing to list, the budget share, and
the command's answers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cards import PublicAnswer
from bot.delivery.background import BackgroundWork
from bot.delivery.channel_memory import ChannelMemory
from bot.delivery.digests import DigestDelivery
from bot.delivery.flow_cards import FlowCards
from bot.delivery.messages import MessageDelivery
from bot.delivery.modal import ModalDelivery
from bot.esign.errors import FlowNotFound, RateLimited
from bot.esign.models import FlowOutline
from bot.flows.cache import FlowLookup
from bot.slack.replies import PostResult
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.digest_records import DigestSetting
from bot.state.records import Watch
from bot.state.sqlite_store import SqliteStateStore

NOW = datetime(2026, 3, 2, 1, 30, 5, tzinfo=UTC)
CHANNEL = "C0SUPPORT"
HOOK = "https://hooks.slack.com/commands/T0TEAM/1/abc"
ASKER = Requester("T0TEAM", CHANNEL, "U0SETTER")
DAY_MS = 86_400_000


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


class Outlines:
    """e签宝 as the digest finds it: flows by id, each call counted."""

    def __init__(self) -> None:
        self.flows: dict[str, dict[str, Any]] = {}
        self.calls = 0
        self._lock = threading.Lock()

    def add(
        self, flow_id: str, status: str, *, age_days: float, changed_hours: float, **kw: Any
    ) -> str:
        self.flows[flow_id] = {
            "flowId": flow_id,
            "flowStatus": status,
            "createTime": ms(NOW) - int(age_days * DAY_MS),
            "modifyTime": ms(NOW - timedelta(hours=changed_hours)),
            **kw,
        }
        return flow_id

    def get_outline(self, flow_id: str) -> FlowOutline:
        with self._lock:
            self.calls += 1
        if flow_id not in self.flows:
            raise FlowNotFound(flow_id, code=30500001, message="流程不存在")
        return FlowOutline.model_validate(self.flows[flow_id])


class RecordingSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def respond(self, response_url: str | None, message: dict[str, Any], **kw: Any) -> bool:
        self.calls.append(("respond", {**message, **kw}))
        return True

    def post(self, channel: str, message: dict[str, Any], **kw: Any) -> PostResult:
        self.calls.append(("post", {"channel": channel, **message, **kw}))
        return PostResult(ok=True, ts=f"1772400000.{len(self.calls):06d}")

    def permalink(self, channel: str, ts: str) -> str | None:
        return f"https://playground.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def posts(self) -> list[dict[str, Any]]:
        return [m for kind, m in self.calls if kind == "post"]


class Unlimited:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self, max_wait: float) -> None:
        self.acquired += 1


class Door:
    def __init__(
        self, tmp_path: Path, pacer: Any = None, zone: str | None = "Asia/Shanghai"
    ) -> None:
        self.esign = Outlines()
        self.slack = RecordingSlack()
        self.store = SqliteStateStore(tmp_path / "state.sqlite3")
        self.lookup = FlowLookup(self.esign, ttl_seconds=300, max_flows=1000)
        self.work = BackgroundWork(2)
        self.pacer = pacer or Unlimited()
        self.clock = lambda: NOW.timestamp()
        self.digests = DigestDelivery(
            FlowCards(self.lookup),
            self.slack,  # type: ignore[arg-type]
            self.work,
            store=self.store,
            lookup=self.lookup,
            pacer=self.pacer,
            time_zone_of=lambda user: zone,
            clock=self.clock,
        )
        self.memory = ChannelMemory(self.store, clock=lambda: NOW.timestamp() - 3600)

    def setting(self, **kw: Any) -> DigestSetting:
        fields: dict[str, Any] = {
            "channel_id": CHANNEL,
            "team_id": "T0TEAM",
            "user_id": "U0SETTER",
            "hour": 9,
            "minute": 30,
            "tz": "Asia/Shanghai",
            "set_at": NOW.timestamp() - 3 * 86400,
            **kw,
        }
        setting = DigestSetting(**fields)
        self.store.put_digest(setting)
        return setting


def text_of(message: dict[str, Any]) -> str:
    return "\n".join(str(block) for block in message["blocks"])


def test_the_digest_lists_open_flows_oldest_first_and_finished_ones_with_the_reason(
    tmp_path: Path,
) -> None:
    door = Door(tmp_path)
    young = door.esign.add("8000000000000000001", "ING", age_days=0.5, changed_hours=2)
    old = door.esign.add("8000000000000000002", "INIT", age_days=3, changed_hours=30)
    done = door.esign.add("8000000000000000003", "SUCCESS", age_days=1, changed_hours=5)
    failed = door.esign.add(
        "8000000000000000004", "FAIL", age_days=1, changed_hours=3, failReason="人脸比对不通过"
    )
    long_done = door.esign.add("8000000000000000005", "SUCCESS", age_days=9, changed_hours=60)
    door.memory.shown(CHANNEL, [young, done, failed], "1772300000.000100")
    # Shown before the last digest, finished long before: that digest told it already.
    door.store.record_shown(CHANNEL, [long_done], None, (NOW - timedelta(hours=20)).timestamp())
    door.store.put_watch(
        Watch(
            flow_id=old,
            user_id="U0WATCHER",
            team_id="T0TEAM",
            channel_id=CHANNEL,
            card_channel=CHANNEL,
            card_ts="1772200000.000200",
            thread_ts=None,
            started_at=NOW.timestamp() - 7200,
            expires_at=NOW.timestamp() + 7200,
            next_poll_at=NOW.timestamp(),
        )
    )
    setting = door.setting(last_sent_at=(NOW - timedelta(hours=10)).timestamp())

    assert door.digests.post_digest(setting, NOW)

    [digest] = door.slack.posts()
    assert digest["channel"] == CHANNEL and digest.get("thread_ts") is None
    body = text_of(digest)
    assert body.index(old) < body.index(young)  # oldest first
    assert "esign_flow_digest_recheck" in body
    assert "/archives/C0SUPPORT/p1772200000000200|thread" in body  # the watch's card
    assert "/archives/C0SUPPORT/p1772300000000100|thread" in body  # where it was discussed
    assert done in body and failed in body and "人脸比对不通过" in body
    # Finished before the last digest: told then, not again.
    assert long_done not in body
    assert "2 still open, 2 finished" in digest["text"]
    # The digest remembers when it was sent, for "finished since the last digest".
    stored = door.store.get_digest(CHANNEL)
    assert stored is not None and stored.last_sent_at == NOW.timestamp()


def test_flows_seen_only_privately_are_never_listed_and_nothing_to_list_posts_nothing(
    tmp_path: Path,
) -> None:
    door = Door(tmp_path)
    private = door.esign.add("8000000000000000011", "ING", age_days=1, changed_hours=1)

    def messages_door(work: BackgroundWork) -> MessageDelivery:
        cards = FlowCards(door.lookup)
        modal = ModalDelivery(cards, door.slack, work)  # type: ignore[arg-type]
        slack: Any = door.slack
        return MessageDelivery(cards, slack, work, modal=modal, memory=door.memory)

    first, second = BackgroundWork(1), BackgroundWork(1)
    command = ReplyTarget(response_url=HOOK, channel_id=CHANNEL, ack_is_shown=True)
    messages_door(first).private_cards([private], requester=ASKER, reply_to=command)
    # A private watch (from an ephemeral card) in the channel is private too.
    door.store.put_watch(
        Watch(
            flow_id=private,
            user_id="U0ASKER",
            team_id="T0TEAM",
            channel_id=CHANNEL,
            card_channel=None,
            card_ts=None,
            thread_ts=None,
            started_at=NOW.timestamp() - 60,
            expires_at=NOW.timestamp() + 7200,
            next_poll_at=NOW.timestamp(),
        )
    )
    assert first.drain(5)
    assert not door.digests.post_digest(door.setting(), NOW)
    assert door.slack.posts() == []

    # Shared to the channel, it is listed the next morning.
    shared = ReplyTarget(response_url=HOOK, channel_id=CHANNEL, ephemeral=True)
    messages_door(second).public_cards(
        [private], requester=ASKER, reply_to=shared, answer=PublicAnswer.SHARE
    )
    assert second.drain(5)
    assert door.digests.post_digest(door.setting(), NOW)
    assert private in text_of(door.slack.posts()[-1])


def test_lookups_the_cache_cannot_spare_wait_for_the_polls_share(tmp_path: Path) -> None:
    door = Door(tmp_path)
    flows = [door.esign.add(f"81{n:017d}", "ING", age_days=1, changed_hours=1) for n in range(10)]
    door.memory.shown(CHANNEL, flows, "1772300000.000100")
    for flow in flows[:4]:
        door.lookup.get(flow)  # warm: a person looked these up a moment ago
    calls_before = door.esign.calls
    assert door.digests.post_digest(door.setting(), NOW)
    assert door.esign.calls - calls_before == 6
    assert door.pacer.acquired == 6


def test_a_spent_budget_leaves_flows_out_and_says_so(tmp_path: Path) -> None:
    class Spent:
        def acquire(self, max_wait: float) -> None:
            raise RateLimited(retry_after=1.0)

    door = Door(tmp_path, pacer=Spent())
    flows = [door.esign.add(f"82{n:017d}", "ING", age_days=1, changed_hours=1) for n in range(3)]
    door.memory.shown(CHANNEL, flows, None)
    door.lookup.get(flows[0])
    assert door.digests.post_digest(door.setting(), NOW)
    [digest] = door.slack.posts()
    assert door.esign.calls == 1
    assert "2 more could not be looked up" in text_of(digest)


def test_the_command_sets_says_and_stops_the_digest(tmp_path: Path) -> None:
    door = Door(tmp_path)
    reply_to = ReplyTarget(response_url=HOOK, channel_id=CHANNEL)

    def answer(argument: str) -> str:
        before = len(door.slack.calls)
        door.digests.command(argument, requester=ASKER, reply_to=reply_to)
        deadline = time.monotonic() + 5
        while len(door.slack.calls) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        return text_of(door.slack.calls[-1][1])

    assert "No daily digest here" in answer("")
    set_answer = answer("9:30")
    assert "09:30 Asia/Shanghai" in set_answer
    stored = door.store.get_digest(CHANNEL)
    assert stored is not None and (stored.hour, stored.minute, stored.tz) == (
        9,
        30,
        "Asia/Shanghai",
    )
    # 09:30 in Shanghai already passed at NOW (09:30:05): the first one is tomorrow.
    assert "<!date^1772501400^" in set_answer
    status = answer("")
    assert "09:30 Asia/Shanghai" in status and "<@U0SETTER>" in status
    assert "turned off" in answer("off")
    assert door.store.get_digest(CHANNEL) is None
    assert "no digest to turn off" in answer("off")


def test_a_malformed_time_is_refused_on_the_ack_and_changes_nothing(tmp_path: Path) -> None:
    door = Door(tmp_path)
    for bad in ("25:00", "soon", "9", "<!channel>"):
        card = door.digests.command_refusal(bad, "both")
        assert card is not None
        words = str(card.to_message())
        assert "not a 24-hour time" in words and "24 小时制" in words
        assert "<!channel>" not in words
    assert door.digests.command_refusal("09:30", "both") is None
    assert door.digests.command_refusal("off", "both") is None
    assert door.store.all_digests() == []


def test_a_mistyped_id_shown_once_is_neither_listed_nor_warned_of(tmp_path: Path) -> None:
    door = Door(tmp_path)
    known = door.esign.add("8300000000000000001", "ING", age_days=1, changed_hours=1)
    door.memory.shown(CHANNEL, ["8300000000000000999", known], None)
    assert door.digests.post_digest(door.setting(), NOW)
    [digest] = door.slack.posts()
    assert known in text_of(digest)
    assert "8300000000000000999" not in text_of(digest)
    assert "could not be looked up" not in text_of(digest)


def test_a_time_zone_slack_did_not_tell_is_utc_and_the_answer_says_so(tmp_path: Path) -> None:
    door = Door(tmp_path, zone=None)
    reply_to = ReplyTarget(response_url=HOOK, channel_id=CHANNEL)
    door.digests.command("09:30", requester=ASKER, reply_to=reply_to)
    assert door.work.drain(5)
    [(_, answer)] = door.slack.calls
    assert "09:30 UTC" in text_of(answer)
    assert "did not tell your time zone" in text_of(answer) and "未提供你的时区" in text_of(answer)
