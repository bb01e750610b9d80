"""The last net: a listener or middleware that raised still leaves the person an answer.

Each failure is logged with a short incident id, and the person who asked gets that id in a
note (on the ack for a slash command, through the response_url otherwise), so a report in a
support channel leads straight to the log line. The HTTP answer is a 200: Slack would show a
bare "operation failed" otherwise, and retry nothing anyway.
"""

from __future__ import annotations

import logging
import secrets
from functools import partial

from slack_bolt import App, BoltContext, BoltResponse

from bot.cards import render_incident
from bot.delivery.doors import Doors
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester

log = logging.getLogger(__name__)


def register(app: App, doors: Doors) -> None:
    @app.error
    def on_error(error: Exception, context: BoltContext) -> BoltResponse:
        return handle_error(
            error, context.get("reply_to"), doors, requester=context.get("requester")
        )


def new_incident_id() -> str:
    return secrets.token_hex(4)


def handle_error(
    error: Exception, reply_to: object, doors: Doors, *, requester: object = None
) -> BoltResponse:
    incident = new_incident_id()
    log.error(
        "a Slack request failed in the bot",
        exc_info=(type(error), error, error.__traceback__),
        extra={"incident": incident},
    )
    if not isinstance(reply_to, ReplyTarget):
        return BoltResponse(status=200, body="")
    user_id = requester.user_id if isinstance(requester, Requester) else None
    note = partial(render_incident, incident)
    if reply_to.ack_is_shown:
        ack_note = note(doors.messages.ack_language(user_id))
        return BoltResponse(status=200, body=ack_note.to_message())
    if reply_to.response_url is not None:
        doors.messages.tell(reply_to, note, user_id=user_id)
    return BoltResponse(status=200, body="")
