"""/esign-flow's rules: what is answered on the ack, and what is handed to the delivery path."""

from __future__ import annotations

from bot.cards import Card
from bot.delivery.doors import Doors
from bot.slack.reply_target import ReplyTarget
from handlers.commands import handle_command
from tests.handlers.conftest import ASKER, FLOW, HOOK, OTHER_FLOW, FakeAck, FakeDelivery, Journal

COMMAND_REPLY = ReplyTarget(response_url=HOOK, channel_id="C0SUPPORT", ack_is_shown=True)


def test_help_is_the_ack_itself_and_nothing_is_looked_up(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    for text in (None, "", "help", "  帮助 "):
        journal.events.clear()
        handle_command(ack, doors, ASKER, COMMAND_REPLY, text)
        assert journal.names() == ["ack"]
        assert "/esign-flow <flowId>" in ack.text.replace("&lt;", "<").replace("&gt;", ">")


def test_flow_ids_are_acked_at_once_then_delivered_privately(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_command(ack, doors, ASKER, COMMAND_REPLY, f"{FLOW}, {OTHER_FLOW} {FLOW}")
    assert journal.names() == ["private_cards", "ack"]
    assert journal.only("ack") == {}
    delivered = journal.only("private_cards")
    assert delivered["flow_ids"] == [FLOW, OTHER_FLOW]
    assert delivered["requester"] == ASKER
    assert delivered["reply_to"] == COMMAND_REPLY
    assert delivered["ack_may_carry"] is True


def test_a_card_the_delivery_path_has_ready_is_the_ack_itself(
    ack: FakeAck, doors: Doors, journal: Journal, delivery: FakeDelivery
) -> None:
    delivery.card_for_ack = Card(text=f"Flow {FLOW}: in progress", blocks=[])
    handle_command(ack, doors, ASKER, COMMAND_REPLY, FLOW)
    assert journal.names() == ["private_cards", "ack"]
    assert journal.only("ack") == {"text": f"Flow {FLOW}: in progress", "blocks": []}


def test_rejected_tokens_ride_on_the_ack_and_good_ids_are_still_looked_up(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_command(ack, doors, ASKER, COMMAND_REPLY, f"{FLOW} ../etc/passwd")
    assert journal.names() == ["private_cards", "ack"]
    assert "Not flow ids, skipped" in ack.text and "../etc/passwd" in ack.text
    delivered = journal.only("private_cards")
    assert delivered["flow_ids"] == [FLOW]
    assert delivered["ack_may_carry"] is False  # the ack says what was skipped


def test_ids_over_the_cap_are_left_out_and_said_so(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    ids = [f"80371963697668387{n}" for n in range(7)]
    handle_command(ack, doors, ASKER, COMMAND_REPLY, " ".join(ids))
    assert "2 more were left out" in ack.text
    assert journal.only("private_cards")["flow_ids"] == ids[:5]


def test_nothing_usable_is_answered_on_the_ack_without_a_lookup(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_command(ack, doors, ASKER, COMMAND_REPLY, "not-a-flow")
    assert journal.names() == ["ack"]
    assert "Not flow ids, skipped" in ack.text
    journal.events.clear()
    handle_command(ack, doors, ASKER, COMMAND_REPLY, ", ,")
    assert journal.names() == ["ack"]
    assert "No flow id given" in ack.text


def test_without_a_reply_address_the_person_is_asked_to_run_it_again(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_command(ack, doors, ASKER, ReplyTarget(ack_is_shown=True), FLOW)
    assert journal.names() == ["ack"]
    assert "Slack sent no reply address" in ack.text


def test_watch_unwatch_and_watching_are_acked_and_handed_over(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_command(ack, doors, ASKER, COMMAND_REPLY, f"watch {FLOW} {OTHER_FLOW}")
    assert journal.names() == ["ack", "watch", "watch"]
    assert [args["flow_id"] for name, args in journal.events if name == "watch"] == [
        FLOW,
        OTHER_FLOW,
    ]
    journal.events.clear()
    handle_command(ack, doors, ASKER, COMMAND_REPLY, f"UNWATCH  {FLOW}")
    assert journal.names() == ["ack", "unwatch_flows"]
    assert journal.only("unwatch_flows")["flow_ids"] == [FLOW]
    journal.events.clear()
    handle_command(ack, doors, ASKER, COMMAND_REPLY, "watching")
    assert journal.names() == ["ack", "list_watches"]
    journal.events.clear()
    handle_command(ack, doors, ASKER, COMMAND_REPLY, "watch")
    assert journal.names() == ["ack"] and "No flow id given" in ack.text
