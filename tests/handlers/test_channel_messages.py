"""Channel messages: what cannot matter is dropped before any claim or store write; a person's
message naming flows is acked and handed to the channels door."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.delivery.channels import ChannelMessage
from bot.delivery.doors import Doors
from bot.state.event_receipts import EventReceipts
from handlers.context import SlackEvent, read_context
from handlers.events import handle_event_once
from handlers.messages import handle_message
from tests.handlers.conftest import ASKER, FLOW, FakeAck, Journal


class ClaimCounter:
    """A store that only counts the claims made of it (every other use would fail loudly)."""

    def __init__(self) -> None:
        self.claims = 0

    def claim_notice(self, key: str, seconds: float) -> bool:
        self.claims += 1
        return True


class FakeChannels:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def answer(self, message: ChannelMessage, requester: Any) -> None:
        self._journal.events.append(("answer", {"message": message, "requester": requester}))

    def flow_links(self, links: Any) -> list[tuple[str, str]]:
        return []


def _event(**fields: Any) -> dict[str, Any]:
    event = {"type": "message", "channel": "C0SUPPORT", "user": "U0ASKER", "ts": "1.000200"}
    return {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "event_id": "Ev1",
        "event": {**event, **fields},
    }


def test_messages_that_cannot_matter_are_dropped_before_any_store_write(doors: Doors) -> None:
    store = ClaimCounter()
    gated = replace(doors, events=EventReceipts(store))  # type: ignore[arg-type]
    passed: list[str] = []
    for fields in (
        {"text": "good morning"},
        {"text": f"flow {FLOW}", "bot_id": "B0BOT"},
        {"text": f"flow {FLOW}", "subtype": "message_changed"},
        {"text": f"flow {FLOW}", "subtype": "channel_join"},
        {"text": "８０３７１９６３６９７６６８３８７２"},
        {"text": None},
    ):
        context = read_context(_event(**fields))
        response = handle_event_once(
            context.slack_event,
            lambda: passed.append("listener"),  # type: ignore[arg-type, return-value]
            gated,
            channel_message=context.channel_message,
        )
        assert response is not None and response.status == 200
    assert passed == [] and store.claims == 0
    # A person's message naming a flow goes on to its listener; the channels door claims it
    # after the ack, with the rest of the answer's work.
    context = read_context(_event(text=f"客户 {FLOW} 一直卡着"))
    handle_event_once(
        context.slack_event,
        lambda: passed.append("listener"),  # type: ignore[arg-type, return-value]
        gated,
        channel_message=context.channel_message,
    )
    assert passed == ["listener"] and store.claims == 0


def test_the_message_is_read_into_its_thread_and_ids(doors: Doors) -> None:
    ids = [f"80371963697668{n:04d}" for n in range(7)]
    context = read_context(_event(text=" ".join(ids), thread_ts="1.000100"))
    message = context.channel_message
    assert message is not None and message.answerable
    assert message.flow_ids == tuple(ids[:5]) and message.more == 2
    assert message.reply_thread == "1.000100"
    top = read_context(_event(text=FLOW)).channel_message
    assert top is not None and top.reply_thread == "1.000200"
    crafted = read_context(_event(text=FLOW, ts="../../x", thread_ts={"a": 1}))
    assert crafted.channel_message is not None and not crafted.channel_message.answerable


def test_the_listener_acks_and_hands_over(doors: Doors, ack: FakeAck, journal: Journal) -> None:
    channels = FakeChannels(journal)
    with_channels = replace(doors, channels=channels)  # type: ignore[arg-type]
    message = ChannelMessage("C0SUPPORT", "U0ASKER", "1.2", None, (FLOW,))
    handle_message(ack, with_channels, ASKER, message)  # type: ignore[arg-type]
    assert journal.names() == ["ack", "answer"]
    handle_message(ack, with_channels, ASKER, None)  # type: ignore[arg-type]
    assert journal.names() == ["ack", "answer", "ack"]


def test_slack_event_of_a_message(doors: Doors) -> None:
    context = read_context(_event(text=FLOW))
    assert context.slack_event == SlackEvent("Ev1", "message")
    assert context.requester.channel_id == "C0SUPPORT"
