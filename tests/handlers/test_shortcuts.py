"""The message shortcut's rules: ids found in the message go to its thread, publicly."""

from __future__ import annotations

from bot.cards import PublicAnswer
from bot.delivery.doors import Doors
from bot.slack.reply_target import ReplyTarget
from handlers.shortcuts import handle_message_shortcut
from tests.handlers.conftest import ASKER, FLOW, HOOK, OTHER_FLOW, FakeAck, Journal

IN_THREAD = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", thread_ts="1764354000.000100")


def test_flow_ids_in_the_message_are_posted_to_its_thread(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    text = f"customer says {FLOW} is stuck, and also 流程{OTHER_FLOW}。"
    handle_message_shortcut(ack, doors, ASKER, IN_THREAD, text)
    assert journal.names() == ["ack", "public_cards"]
    delivered = journal.only("public_cards")
    assert delivered == {
        "flow_ids": [FLOW, OTHER_FLOW],
        "requester": ASKER,
        "reply_to": IN_THREAD,
        "answer": PublicAnswer.THREAD,
    }


def test_a_message_without_flow_ids_gets_a_private_note(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    for text in (None, "", "phone +8613800000000000000 is not a flow"):
        journal.events.clear()
        handle_message_shortcut(ack, doors, ASKER, IN_THREAD, text)
        assert journal.names() == ["ack", "tell"]
        told = journal.only("tell")
        assert told["reply_to"] == IN_THREAD
        assert "No e签宝 flow id in that message" in told["text"]


def test_without_a_channel_nothing_is_posted(ack: FakeAck, doors: Doors, journal: Journal) -> None:
    handle_message_shortcut(ack, doors, ASKER, ReplyTarget(response_url=HOOK), FLOW)
    assert journal.names() == ["ack", "tell"]


def test_ids_over_the_cap_are_noted_and_the_first_five_posted(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    ids = [f"80371963697668387{n}" for n in range(6)]
    handle_message_shortcut(ack, doors, ASKER, IN_THREAD, " ".join(ids))
    assert journal.names() == ["ack", "tell", "public_cards"]
    assert "1 more were left out" in journal.only("tell")["text"]
    assert journal.only("public_cards")["flow_ids"] == ids[:5]
