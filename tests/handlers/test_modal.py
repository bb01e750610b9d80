"""The global shortcut and its modal's submission, called as Bolt calls them."""

from __future__ import annotations

from bot.delivery.doors import Doors
from bot.slack.ids import BLOCK_FLOW_IDS
from bot.slack.reply_target import ReplyTarget, ViewRef
from handlers.modal import handle_global_shortcut, handle_modal_submission
from tests.handlers.conftest import ASKER, FLOW, OTHER_FLOW, FakeAck, Journal

MODAL = ReplyTarget(view=ViewRef(view_id="V0MODAL", kind="modal", hash="h1"))


def test_the_shortcut_acks_then_opens_the_modal_on_its_trigger(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_global_shortcut(ack, doors, ASKER, ReplyTarget(trigger_id="1.2.abc"))
    assert journal.names() == ["ack", "open_modal"]
    assert journal.only("open_modal") == {"trigger_id": "1.2.abc", "user_id": "U0ASKER"}


def test_bad_ids_are_refused_next_to_the_field_with_no_lookup(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_modal_submission(ack, doors, ASKER, MODAL, f"{FLOW} ../etc/passwd")
    assert journal.names() == ["ack"]
    acked = journal.only("ack")
    assert acked["response_action"] == "errors"
    error = acked["errors"][BLOCK_FLOW_IDS]
    assert "../etc/passwd" in error and "Not flow ids" in error and "不是流程 ID" in error


def test_nothing_typed_and_too_many_ids_are_refused_too(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_modal_submission(ack, doors, ASKER, MODAL, "   ")
    handle_modal_submission(
        ack, doors, ASKER, MODAL, " ".join(f"80371963697668{n:04d}" for n in range(7))
    )
    first, second = (args for name, args in journal.events if name == "ack")
    assert "at least one flow id" in first["errors"][BLOCK_FLOW_IDS]
    assert "At most 5" in second["errors"][BLOCK_FLOW_IDS]
    assert journal.names() == ["ack", "ack"]


def test_the_refusal_speaks_the_persons_language(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    doors.messages.known = "zh"  # type: ignore[attr-defined]
    handle_modal_submission(ack, doors, ASKER, MODAL, "nope")
    error = journal.only("ack")["errors"][BLOCK_FLOW_IDS]
    assert "不是流程 ID" in error and "Not flow ids" not in error


def test_good_ids_show_a_wait_at_once_and_the_cards_come_later(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_modal_submission(ack, doors, ASKER, MODAL, f"{FLOW}, {OTHER_FLOW}")
    assert journal.names() == ["cached_modal", "ack", "modal_cards"]
    acked = journal.only("ack")
    assert acked["response_action"] == "update"
    assert acked["view"]["type"] == "modal"
    assert "Looking up" in str(acked["view"]["blocks"])
    assert acked["view"]["private_metadata"] == f"{FLOW},{OTHER_FLOW}"
    assert journal.only("modal_cards") == {
        "flow_ids": [FLOW, OTHER_FLOW],
        "requester": ASKER,
        "reply_to": MODAL,
    }


def test_cached_flows_are_shown_in_the_ack_itself(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    doors.messages.cached_view = {"type": "modal", "blocks": []}  # type: ignore[attr-defined]
    handle_modal_submission(ack, doors, ASKER, MODAL, FLOW)
    assert journal.names() == ["cached_modal", "ack"]
    assert journal.only("ack") == {
        "response_action": "update",
        "view": {"type": "modal", "blocks": []},
    }
