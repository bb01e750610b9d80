"""The channels door with the real lookup, renderers and SQLite store, and a recording Slack:
who gets answered, where, with what, and when nothing is said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.background import BackgroundWork
from bot.delivery.channel_memory import ChannelMemory
from bot.delivery.channels import AnswerShown, ChannelDelivery, ChannelMessage, SharedLinks
from bot.delivery.flow_cards import FlowCards
from bot.esign.errors import EsignUnavailable, FlowNotFound, UnavailableReason
from bot.esign.models import FlowOutline
from bot.flows.cache import FlowLookup
from bot.flows.links import FlowLinks
from bot.slack.replies import PostResult
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester
from bot.state.records import ChannelAuto, StoreUnavailable
from bot.state.sqlite_store import SqliteStateStore

KNOWN = ("803719636976683872", "802965095964494307", "2987366388415348736")
UNKNOWN = "1234567890123456789"
DOWN = "2987300000000000503"
PERSON = Requester("T0TEAM", "C0SUPPORT", "U0PERSON")
LINKS = FlowLinks(["https://console.example.com/flows/{flow_id}"])


class Outlines:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.down = {DOWN}

    def get_outline(self, flow_id: str) -> FlowOutline:
        self.calls.append(flow_id)
        if flow_id == UNKNOWN:
            raise FlowNotFound(flow_id, code=30500001, message="认证流程不存在")
        if flow_id in self.down:
            raise EsignUnavailable(UnavailableReason.HTTP_STATUS, status=503)
        status = "FAIL" if flow_id == KNOWN[2] else "ING"
        return FlowOutline.model_validate(
            {"flowId": flow_id, "flowStatus": status, "failReason": "<!channel> 四要素不一致"}
        )


class RecordingSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def post(self, channel: str, message: dict[str, Any], **kw: Any) -> PostResult:
        self.calls.append(("post", {"channel": channel, **message, **kw}))
        return PostResult(ok=True, ts="1764354200.000300")

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> PostResult:
        self.calls.append(("update", {"channel": channel, "ts": ts, **message}))
        return PostResult(ok=True, ts=ts)

    def unfurl(self, unfurls: dict[str, Any], **kw: Any) -> PostResult:
        self.calls.append(("unfurl", {"unfurls": unfurls, **kw}))
        return PostResult(ok=True)

    def respond(self, url: str | None, message: dict[str, Any], **kw: Any) -> bool:
        self.calls.append(("respond", {"url": url, **message, **kw}))
        return True


class Door:
    def __init__(self, tmp_path: Path) -> None:
        self.outlines = Outlines()
        self.slack = RecordingSlack()
        self.work = BackgroundWork(2)
        self.store = SqliteStateStore(tmp_path / "state.sqlite3")
        self.cards = FlowCards(FlowLookup(self.outlines, ttl_seconds=0, max_flows=10))
        self.door = self.fresh_door()

    def fresh_door(self) -> ChannelDelivery:
        """The door on new worker threads (drained ones take no more work), same store."""
        self.work = BackgroundWork(1)  # one at a time: the calls come in the order asked
        return ChannelDelivery(
            self.cards,
            self.slack,  # type: ignore[arg-type]
            self.work,
            self.store,
            links=LINKS,
            memory=ChannelMemory(self.store),
        )

    def said(self, message: ChannelMessage) -> list[tuple[str, dict[str, Any]]]:
        self.fresh_door().answer(message, PERSON)
        assert self.work.drain(5)
        return self.slack.calls


@pytest.fixture
def door(tmp_path: Path) -> Door:
    made = Door(tmp_path)
    made.store.set_channel_auto(ChannelAuto("C0SUPPORT", "U0LEAD", 1.0))
    return made


def message(*ids: str, thread: str | None = None, more: int = 0) -> ChannelMessage:
    return ChannelMessage("C0SUPPORT", "U0PERSON", "1764354000.000100", thread, ids, more)


def test_several_flows_one_compact_reply_in_the_thread_without_unknown_ones(door: Door) -> None:
    [(kind, post)] = door.said(message(KNOWN[0], UNKNOWN, KNOWN[2], DOWN, more=3))
    assert kind == "post" and post["thread_ts"] == "1764354000.000100"
    blocks = json.dumps(post["blocks"], ensure_ascii=False)
    assert KNOWN[0] in blocks and KNOWN[2] in blocks and UNKNOWN not in blocks
    assert DOWN in blocks  # e签宝 not answering just now: a line, with Recheck
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks
    assert "…and 3 more" in blocks and "esign_flow_answer_more:3" in blocks
    assert door.store.kept_unfurl("x") is None  # nothing else written


def test_one_flow_gets_the_shortcuts_own_card(door: Door) -> None:
    [(_, post)] = door.said(message(KNOWN[0], thread="1764353000.000100"))
    assert post["thread_ts"] == "1764353000.000100"
    assert post["blocks"][0]["type"] == "header"
    assert [b.get("block_id") for b in post["blocks"]][-1] == "esign_flow_actions"


def test_only_unknown_or_failing_flows_say_nothing(door: Door) -> None:
    assert door.said(message(UNKNOWN, DOWN)) == []
    assert door.outlines.calls == [UNKNOWN, DOWN]


def test_a_thread_is_answered_once_per_flow(door: Door) -> None:
    door.said(message(KNOWN[0]))
    door.said(message(KNOWN[0], KNOWN[1]))
    posts = [c for c in door.slack.calls if c[0] == "post"]
    assert len(posts) == 2 and KNOWN[0] not in json.dumps(posts[1][1]["blocks"])


def test_a_channel_without_the_setting_gets_nothing(tmp_path: Path) -> None:
    made = Door(tmp_path)
    assert made.said(message(KNOWN[0])) == [] and made.outlines.calls == []


def test_an_unreadable_setting_means_silence(door: Door) -> None:
    def broken(channel_id: str) -> None:
        raise StoreUnavailable("disk stalled")

    door.store.channel_auto = broken  # type: ignore[method-assign]
    assert door.said(message(KNOWN[0])) == []


def test_recheck_redraws_the_whole_answer(door: Door) -> None:
    where = ReplyTarget(channel_id="C0SUPPORT", thread_ts="1.2", message_ts="1.3")
    door.door.recheck_answer(AnswerShown(KNOWN[:2], more=1), requester=PERSON, reply_to=where)
    assert door.work.drain(5)
    [(kind, update)] = door.slack.calls
    assert kind == "update" and update["ts"] == "1.3"
    assert all(f in json.dumps(update["blocks"]) for f in KNOWN[:2])


def test_links_unfurl_keyed_by_url_and_from_memory_the_second_time(door: Door) -> None:
    url = f"https://console.example.com/flows/{KNOWN[2]}"
    posted = SharedLinks("C0SUPPORT", "1.5", None, "unf-1", "conversations_history", (url, url))
    door.door.unfurl(posted, PERSON)
    door.door.unfurl(SharedLinks(None, None, None, "unf-2", "composer", (url,)), PERSON)
    door.door.unfurl(posted, PERSON)
    assert door.work.drain(5)
    first, composer, again = (c[1] for c in door.slack.calls)
    assert (first["channel"], first["ts"], list(first["unfurls"])) == ("C0SUPPORT", "1.5", [url])
    assert (composer["unfurl_id"], composer["source"]) == ("unf-2", "composer")
    assert again["unfurls"] == first["unfurls"]
    assert door.outlines.calls.count(KNOWN[2]) == 2  # the channel once, the composer once


def test_links_to_nothing_known_unfurl_nothing(door: Door) -> None:
    urls = ("https://elsewhere.example.com/x", f"https://console.example.com/flows/{UNKNOWN}")
    links = SharedLinks("C0SUPPORT", "1.5", None, None, None, urls)
    assert door.door.flow_links(links) == [(urls[1], UNKNOWN)]
    door.door.unfurl(links, PERSON)
    assert door.work.drain(5)
    assert door.slack.calls == []


def test_what_the_channel_was_shown_is_remembered_for_its_digest_with_its_thread(
    door: Door,
) -> None:
    assert door.said(message(KNOWN[0], UNKNOWN))
    url = f"https://console.example.com/flows/{KNOWN[2]}"
    top_level = SharedLinks("C0SUPPORT", "1764354100.000200", None, None, None, (url,))
    links_door = door.fresh_door()
    links_door.unfurl(top_level, PERSON)
    links_door.unfurl(SharedLinks(None, None, None, "unf-9", "composer", (url,)), PERSON)
    assert door.work.drain(5)
    shown = {(s.flow_id, s.thread_ts) for s in door.store.shown_since("C0SUPPORT", 0)}
    # The answer's thread is the message's own; an unfurl under a top-level message links to
    # it; the composer showed nobody anything yet; an unknown id is nothing to remember.
    assert shown == {(KNOWN[0], "1764354000.000100"), (KNOWN[2], "1764354100.000200")}


def test_a_flow_e签宝_could_not_tell_about_is_answered_when_named_again(door: Door) -> None:
    door.outlines.down.add(KNOWN[1])
    assert door.said(message(KNOWN[1], thread="1764354000.000001")) == []  # only a failure
    door.outlines.down.clear()
    [(kind, reply)] = door.said(message(KNOWN[1], thread="1764354000.000001"))
    assert kind == "post" and KNOWN[1] in json.dumps(reply)
    # Answered now: named again in the thread, it is not answered twice.
    assert len(door.said(message(KNOWN[1], thread="1764354000.000001"))) == 1


class AwayStore(SqliteStateStore):
    """The store cannot be reached (Redis failing over, say)."""

    def channel_auto(self, channel_id: str) -> ChannelAuto | None:
        raise StoreUnavailable("away")


def test_the_auto_setting_answers_privately_also_when_the_store_is_away(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.store = AwayStore(tmp_path / "away.sqlite3")
    hook = "https://hooks.slack.com/commands/T0TEAM/1/abc"
    in_channel = ReplyTarget(response_url=hook, channel_id="C0SUPPORT")
    door.fresh_door().auto_setting("on", requester=PERSON, reply_to=in_channel)
    assert door.work.drain(5)
    door.fresh_door().auto_setting("on", requester=PERSON, reply_to=ReplyTarget(response_url=hook))
    assert door.work.drain(5)
    (kind, saved), (_, nowhere) = door.slack.calls
    assert kind == "respond" and "could not be saved just now" in json.dumps(saved)
    assert "could not be saved" not in json.dumps(nowhere)
    assert all(c[1]["url"] == hook for c in door.slack.calls)  # privately, never posted
