"""Events API deliveries Slack sends again are answered and dropped, not handled twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse

from bot.services import Services
from handlers.context import SlackEvent

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.middleware
    def once_per_event(
        context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        return handle_event_once(context.get("slack_event"), next, services)


def handle_event_once(
    slack_event: SlackEvent | None, next: Callable[[], BoltResponse], services: Services
) -> BoltResponse | None:
    if slack_event is None or services.events.first_delivery(slack_event.event_id):
        return next()
    log.info(
        "dropped an event delivered again",
        extra={"event_type": slack_event.type, "retry_num": slack_event.retry_num},
    )
    # A 200 tells Slack to stop retrying.
    return BoltResponse(status=200, body="")
