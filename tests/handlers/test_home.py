"""App Home: the opened event and the Home tab's buttons."""

from __future__ import annotations

from bot.delivery.doors import Doors
from bot.slack.button_value import ButtonValue, MalformedButtonValue
from bot.slack.reply_target import ReplyTarget
from handlers.context import SlackEvent
from handlers.home import (
    handle_home_clear,
    handle_home_language,
    handle_home_open_modal,
    handle_home_opened,
    handle_home_recheck,
)
from tests.handlers.conftest import ASKER, FLOW, FakeAck, Journal


def test_opening_the_home_tab_publishes_it(ack: FakeAck, doors: Doors, journal: Journal) -> None:
    handle_home_opened(ack, doors, ASKER, SlackEvent("Ev1", "app_home_opened", tab="home"))
    assert journal.names() == ["ack", "home_opened"]
    assert journal.only("home_opened") == {"user_id": "U0ASKER"}


def test_the_messages_tab_publishes_nothing(ack: FakeAck, doors: Doors, journal: Journal) -> None:
    handle_home_opened(ack, doors, ASKER, SlackEvent("Ev1", "app_home_opened", tab="messages"))
    assert journal.names() == ["ack"]


def test_recheck_looks_the_flow_up_for_the_clicker(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_home_recheck(ack, doors, ASKER, ButtonValue(FLOW))
    assert journal.names() == ["ack", "home_recheck"]
    assert journal.only("home_recheck") == {"flow_id": FLOW, "requester": ASKER}


def test_a_forged_recheck_only_redraws_the_tab(
    ack: FakeAck, doors: Doors, journal: Journal
) -> None:
    handle_home_recheck(ack, doors, ASKER, MalformedButtonValue())
    assert journal.names() == ["ack", "home_opened"]


def test_clear_and_language(ack: FakeAck, doors: Doors, journal: Journal) -> None:
    handle_home_clear(ack, doors, ASKER)
    handle_home_language(ack, doors, ASKER, "zh")
    handle_home_language(ack, doors, ASKER, "klingon")
    assert journal.names() == ["ack", "home_clear", "ack", "home_language", "ack", "home_opened"]
    assert journal.only("home_language") == {"user_id": "U0ASKER", "language": "zh"}


def test_check_a_flow_opens_the_modal(ack: FakeAck, doors: Doors, journal: Journal) -> None:
    handle_home_open_modal(ack, doors, ASKER, ReplyTarget(trigger_id="9.9.x"))
    assert journal.names() == ["ack", "open_modal"]
    assert journal.only("open_modal")["trigger_id"] == "9.9.x"
