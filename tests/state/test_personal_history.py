"""Each person's history and language, and their Home tab, with a store that may fail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.background import BackgroundWork
from bot.delivery.flow_cards import FlowCards
from bot.delivery.home import HomeTab
from bot.esign.models import FlowOutline
from bot.flows.cache import FlowLookup
from bot.slack.replies import ViewResult
from bot.slack.requester import Requester
from bot.state.history import PersonalHistory
from bot.state.records import StoreUnavailable
from bot.state.sqlite_store import SqliteStateStore

FLOW = "803719636976683872"
OTHER = "802965095964494307"
ASKER = Requester("T0TEAM", "C0SUPPORT", "U0ASKER")


class Outlines:
    def get_outline(self, flow_id: str) -> FlowOutline:
        return FlowOutline.model_validate({"flowId": flow_id, "flowStatus": "SUCCESS"})


class Views:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def views_publish(self, user_id: str, view: dict[str, Any], **_: Any) -> ViewResult:
        self.published.append((user_id, view))
        return ViewResult(ok=True)


class BrokenStore:
    def __getattr__(self, name: str) -> Any:
        def fail(*_: Any, **__: Any) -> Any:
            raise StoreUnavailable("redis is restarting")

        return fail


@pytest.fixture
def history(tmp_path: Path) -> PersonalHistory:
    return PersonalHistory(SqliteStateStore(tmp_path / "state.db"))


def test_every_persons_lookup_is_remembered_newest_first(history: PersonalHistory) -> None:
    cards = FlowCards(FlowLookup(Outlines(), ttl_seconds=30, max_flows=10), history=history)
    cards.look_up(FLOW, requester=ASKER, trigger="command")
    cards.look_up(OTHER, requester=ASKER, trigger="modal")
    cards.look_up(FLOW, requester=Requester("T0TEAM", None, None), trigger="workflow_step")
    assert [(r.flow_id, r.status) for r in history.recent("U0ASKER")] == [
        (OTHER, "SUCCESS"),
        (FLOW, "SUCCESS"),
    ]
    assert history.recent("U0SOMEONE") == []


def test_a_failing_store_never_fails_a_lookup(caplog: pytest.LogCaptureFixture) -> None:
    broken = PersonalHistory(BrokenStore())  # type: ignore[arg-type]
    cards = FlowCards(FlowLookup(Outlines(), ttl_seconds=30, max_flows=10), history=broken)
    outcome = cards.look_up(FLOW, requester=ASKER, trigger="command")
    assert outcome.snapshot is not None
    broken.flush()  # the write happens behind the answer
    assert "could not remember a recent lookup" in caplog.text
    assert broken.recent("U0ASKER") == [] and broken.language("U0ASKER") == "both"
    assert broken.watches("U0ASKER") is None
    assert not broken.clear("U0ASKER") and not broken.set_language("U0ASKER", "zh")


def test_the_home_tab_shows_the_persons_records_after_each_change(
    history: PersonalHistory,
) -> None:
    views, work = Views(), BackgroundWork(1)
    cards = FlowCards(FlowLookup(Outlines(), ttl_seconds=30, max_flows=10), history=history)
    home = HomeTab(history, cards, views, work)  # type: ignore[arg-type]
    home.recheck(FLOW, ASKER)
    home.choose_language("U0ASKER", "en")
    home.clear("U0ASKER")
    home.opened(None)  # nobody to publish for
    assert work.drain(5.0)
    assert [user for user, _ in views.published] == ["U0ASKER"] * 3
    first, chosen, cleared = (str(view["blocks"]) for _, view in views.published)
    assert FLOW in first and "Succeeded 已成功" in first
    assert "最近查询" in first  # bilingual until a language is chosen
    assert "最近查询" not in chosen and "Your recent lookups" in chosen
    assert FLOW not in cleared and "Nothing yet" in cleared
    assert home.language("U0ASKER") == "en"


class CountingStore(SqliteStateStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes = 0
        self.language_reads = 0

    def add_recent(self, user_id: str, lookup: Any) -> None:
        self.writes += 1
        super().add_recent(user_id, lookup)

    def language(self, user_id: str) -> Any:
        self.language_reads += 1
        return super().language(user_id)


def test_lookups_never_wait_on_the_store_and_bursts_become_one_write(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "state.db")
    history = PersonalHistory(store, flush_seconds=0.2)
    cards = FlowCards(FlowLookup(Outlines(), ttl_seconds=30, max_flows=10), history=history)
    for _ in range(20):
        cards.look_up(FLOW, requester=ASKER, trigger="command")
    assert store.writes == 0  # nothing written while people wait for cards
    deadline = time.monotonic() + 3
    while store.writes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.writes == 1  # twenty lookups of one flow by one person: one write
    assert [r.flow_id for r in history.recent("U0ASKER")] == [FLOW]
    for _ in range(10):
        assert history.language("U0ASKER") == "both"
    assert store.language_reads == 1  # then served from the cache
    assert history.set_language("U0ASKER", "zh") and history.language("U0ASKER") == "zh"


def test_the_known_language_is_what_this_process_read_or_set_never_a_store_read(
    history: PersonalHistory,
) -> None:
    assert history.known_language(None) == "both"
    assert history.known_language("U0ASKER") is None  # not read yet: the caller must not wait
    assert history.language("U0ASKER") == "both"
    assert history.known_language("U0ASKER") == "both"
    assert history.set_language("U0OTHER", "zh")
    assert history.known_language("U0OTHER") == "zh"
