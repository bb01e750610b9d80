"""Runs before every listener: refused requests get a polite note and no lookup happens."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.access import AccessPolicy
from bot.audit import Requester, audit_log
from bot.cards import render_note
from bot.services import Services
from handlers.payload import text_field

log = logging.getLogger(__name__)


def register(app: App, services: Services, policy: AccessPolicy) -> None:
    if not policy.restricted:
        return

    @app.middleware
    def allow_listed_only(
        context: BoltContext, body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        requester = Requester.from_payload(context.team_id, context.channel_id, context.user_id)
        refusal = policy.refusal(requester)
        if refusal is None:
            return next()
        audit_log.info(
            json.dumps(
                {
                    "event": "access_denied",
                    "team": requester.team_id,
                    "channel": requester.channel_id,
                    "user": requester.user_id,
                },
                ensure_ascii=False,
            )
        )
        note = render_note("Not allowed here", refusal)
        # Middleware that stops the chain answers Slack itself: the ack is this response.
        if body.get("command"):
            return BoltResponse(status=200, body=note.to_message())  # shown to the person
        response_url = text_field(body, "response_url")
        services.work.submit(lambda: services.replies.respond(response_url, note.to_message()))
        return BoltResponse(status=200, body="")
