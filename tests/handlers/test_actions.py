"""Button rules: Recheck and Share act on the value the card carried; anything else is noted."""

from __future__ import annotations

from bot.cards import PublicAnswer
from bot.delivery.doors import Doors
from bot.slack.button_value import BadThreadPart, ButtonValue
from bot.slack.reply_target import ReplyTarget
from handlers.actions import (
    handle_recheck,
    handle_share,
    handle_unknown_action,
    handle_unwatch,
    handle_watch,
)
from tests.handlers.conftest import ASKER, FLOW, HOOK, FakeAck, Journal

THREAD = "1764354000.000100"
PRIVATE_CARD = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", ephemeral=True)
POSTED_CARD = ReplyTarget(
    response_url=HOOK, channel_id="C0SUPPORT", thread_ts=THREAD, message_ts="1764354100.000200"
)


def test_recheck_refreshes_the_flow_and_keeps_the_cards_requester(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    click = ButtonValue(FLOW, THREAD, "U0ORIGINAL")
    handle_recheck(ack, doors, ASKER, POSTED_CARD, click)
    assert journal.names() == ["ack", "recheck"]
    assert journal.only("recheck") == {
        "flow_id": FLOW,
        "requester": ASKER,
        "reply_to": POSTED_CARD,
        "requested_by": "U0ORIGINAL",
    }


def test_share_posts_the_flow_publicly(ack: FakeAck, doors: Doors, journal: Journal) -> None:
    handle_share(ack, doors, ASKER, PRIVATE_CARD, ButtonValue(FLOW))
    assert journal.names() == ["ack", "public_cards"]
    assert journal.only("public_cards") == {
        "flow_ids": [FLOW],
        "requester": ASKER,
        "reply_to": PRIVATE_CARD,
        "answer": PublicAnswer.SHARE,
    }


def test_a_button_value_we_did_not_make_is_acked_and_explained(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    for handle in (handle_recheck, handle_share):
        journal.events.clear()
        handle(ack, doors, ASKER, PRIVATE_CARD, BadThreadPart())
        assert journal.names() == ["ack", "tell"]
        told = journal.only("tell")
        assert "That button did not carry a flow id" in told["text"]
        assert "not one this bot made" in told["text"]


def test_an_unknown_button_is_acked_and_answered(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_unknown_action(ack, doors, ASKER, PRIVATE_CARD)
    assert journal.names() == ["ack", "tell"]
    assert "That button is not supported" in journal.only("tell")["text"]


def test_watch_and_unwatch_act_on_the_cards_flow_and_requester(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    click = ButtonValue(FLOW, THREAD, "U0ORIGINAL")
    handle_watch(ack, doors, ASKER, POSTED_CARD, click)
    handle_unwatch(ack, doors, ASKER, POSTED_CARD, click)
    assert journal.names() == ["ack", "watch", "ack", "unwatch"]
    for name in ("watch", "unwatch"):
        assert journal.only(name) == {
            "flow_id": FLOW,
            "requester": ASKER,
            "reply_to": POSTED_CARD,
            "requested_by": "U0ORIGINAL",
        }
    journal.events.clear()
    handle_watch(ack, doors, ASKER, PRIVATE_CARD, BadThreadPart())
    assert journal.names() == ["ack", "tell"]
