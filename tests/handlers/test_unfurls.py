"""link_shared: acked at once and handed to the channels door; links to no flow are dropped
before any claim."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.delivery.channels import SharedLinks
from bot.delivery.doors import Doors
from handlers.context import read_context
from handlers.events import handle_event_once
from handlers.unfurls import handle_link_shared
from tests.handlers.conftest import ASKER, FakeAck, Journal


class FakeChannels:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def flow_links(self, links: SharedLinks) -> list[tuple[str, str]]:
        return [(u, "803719636976683872") for u in links.urls if "console" in u]

    def unfurl(self, links: SharedLinks, requester: Any) -> None:
        self._journal.events.append(("unfurl", {"links": links}))


def _body(*urls: str) -> dict[str, Any]:
    event = {
        "type": "link_shared",
        "channel": "COMPOSER",
        "user": "U0ASKER",
        "message_ts": "U0ASKER-abc",
        "unfurl_id": "U0ASKER-abc",
        "source": "composer",
        "links": [{"url": u, "domain": "x"} for u in urls] + ["not a link"],
    }
    return {"type": "event_callback", "team_id": "T0TEAM", "event_id": "Ev2", "event": event}


def test_links_are_read_and_handed_over(doors: Doors, ack: FakeAck, journal: Journal) -> None:
    with_channels = replace(doors, channels=FakeChannels(journal))  # type: ignore[arg-type]
    context = read_context(_body("https://console.example.com/esign/flows/803719636976683872"))
    links = context.shared_links
    assert links is not None and links.in_composer and links.unfurl_id == "U0ASKER-abc"
    assert links.message_ts == "U0ASKER-abc" and links.thread_ts is None
    handle_link_shared(ack, with_channels, ASKER, links)
    assert journal.names() == ["ack", "unfurl"]


def test_links_to_no_flow_cost_no_claim(doors: Doors, journal: Journal) -> None:
    with_channels = replace(doors, channels=FakeChannels(journal))  # type: ignore[arg-type]
    context = read_context(_body("https://example.org/"))
    passed: list[str] = []
    response = handle_event_once(
        context.slack_event,
        lambda: passed.append("on"),  # type: ignore[arg-type, return-value]
        with_channels,
        shared_links=context.shared_links,
    )
    assert response is not None and response.status == 200 and passed == []
