"""An Events API delivery Slack sends again is answered and not handled twice."""

from __future__ import annotations

from bot.delivery.doors import Doors
from bot.state.event_receipts import EventReceipts
from bot.state.sqlite_store import SqliteStateStore
from handlers.context import SlackEvent
from handlers.events import handle_event_once


def test_a_retried_event_is_dropped(doors: Doors) -> None:
    handled: list[str] = []

    def next_() -> None:  # type: ignore[return]
        handled.append("handled")

    first = SlackEvent("Ev1", "app_home_opened", tab="home")
    again = SlackEvent("Ev1", "app_home_opened", tab="home", retry_num=1)
    assert handle_event_once(first, next_, doors) is None  # type: ignore[arg-type]
    response = handle_event_once(again, next_, doors)  # type: ignore[arg-type]
    assert response is not None and response.status == 200
    assert handled == ["handled"]
    # Not an event, or an event without an id: always handled.
    handle_event_once(None, next_, doors)  # type: ignore[arg-type]
    handle_event_once(SlackEvent(None, "app_home_opened"), next_, doors)  # type: ignore[arg-type]
    assert handled == ["handled"] * 3


def test_the_claim_is_shared_through_the_store(tmp_path: object) -> None:
    path = f"{tmp_path}/state.db"
    one, other = SqliteStateStore(path), SqliteStateStore(path)
    assert EventReceipts(one).first_delivery("Ev9")
    # Another process, the same file: the retry that reaches it is dropped too.
    assert not EventReceipts(other).first_delivery("Ev9")
    assert EventReceipts(other).first_delivery("Ev10")
