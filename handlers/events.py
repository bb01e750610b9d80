"""Events API deliveries Slack sends again are answered and dropped, not handled twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.services import Services
from handlers.context import SlackEvent

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    app.use(OncePerEvent(services))


class OncePerEvent(Middleware):
    """A class rather than a decorated function: it runs on every request, and Bolt calls a
    class without building kwargs for it."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        return handle_event_once(req.context.get("slack_event"), next, self._services)


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
