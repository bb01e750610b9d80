"""`link_shared`: a link to a flow (one of `UNFURL_URL_PATTERNS`) gets the flow's compact card
under it, in a posted message or still in the composer. Links matching no template get nothing.
"""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.delivery.channels import SharedLinks
from bot.delivery.doors import Doors
from bot.slack.ids import EVENT_LINK_SHARED
from bot.slack.requester import Requester


def register(app: App, doors: Doors) -> None:
    @app.event(EVENT_LINK_SHARED)
    def on_link_shared(ack: Ack, requester: Requester, shared_links: SharedLinks | None) -> None:
        handle_link_shared(ack, doors, requester, shared_links)


def handle_link_shared(
    ack: Ack, doors: Doors, requester: Requester, shared_links: SharedLinks | None
) -> None:
    ack()
    if doors.channels is not None and shared_links is not None:
        doors.channels.unfurl(shared_links, requester)
