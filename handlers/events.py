"""Events API deliveries Slack sends again are answered and dropped, not handled twice.

Channel messages that cannot matter (a bot's, an edit, a join, no flow id named) are answered
and dropped first, before any claim: in a busy channel they cost no store write at all. The
others are claimed by the channels door after the ack, with the rest of their work: the ack of
a message event waits for no store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.delivery.channels import ChannelMessage, SharedLinks
from bot.delivery.doors import Doors
from handlers.context import SlackEvent

log = logging.getLogger(__name__)


def register(app: App, doors: Doors) -> None:
    app.use(OncePerEvent(doors))


class OncePerEvent(Middleware):
    """A class rather than a decorated function: it runs on every request, and Bolt calls a
    class without building kwargs for it."""

    def __init__(self, doors: Doors) -> None:
        self._services = doors

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        return handle_event_once(
            req.context.get("slack_event"),
            next,
            self._services,
            channel_message=req.context.get("channel_message"),
            shared_links=req.context.get("shared_links"),
        )


def handle_event_once(
    slack_event: SlackEvent | None,
    next: Callable[[], BoltResponse],
    doors: Doors,
    *,
    channel_message: ChannelMessage | None = None,
    shared_links: SharedLinks | None = None,
) -> BoltResponse | None:
    if channel_message is not None:
        return next() if channel_message.answerable else BoltResponse(status=200, body="")
    if shared_links is not None and (
        doors.channels is None or not doors.channels.flow_links(shared_links)
    ):
        return BoltResponse(status=200, body="")
    if slack_event is None or doors.events.first_delivery(slack_event.event_id):
        return next()
    log.info(
        "dropped an event delivered again",
        extra={"event_type": slack_event.type, "retry_num": slack_event.retry_num},
    )
    # A 200 tells Slack to stop retrying.
    return BoltResponse(status=200, body="")
