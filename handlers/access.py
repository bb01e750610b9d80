"""Runs before every listener: refused requests get a polite note and no lookup happens."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse

from bot.access import AccessPolicy
from bot.audit import Requester, record_access_denied
from bot.cards import render_refusal
from bot.reply_target import ReplyTarget
from bot.services import Services


def register(app: App, services: Services, policy: AccessPolicy) -> None:
    if not policy.restricted:
        return

    @app.middleware
    def allow_listed_only(
        context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        return check_access(context["requester"], context["reply_to"], next, services, policy)


def check_access(
    requester: Requester,
    reply_to: ReplyTarget,
    next: Callable[[], BoltResponse],
    services: Services,
    policy: AccessPolicy,
) -> BoltResponse | None:
    refusal = policy.refusal(requester)
    if refusal is None:
        return next()
    record_access_denied(requester)
    note = render_refusal(refusal)
    # Middleware that stops the chain answers Slack itself: the ack is this response. A slash
    # command shows that body to the person; other payloads get the note after the ack.
    if reply_to.ack_is_shown:
        return BoltResponse(status=200, body=note.to_message())
    services.delivery.tell(reply_to, note)
    return BoltResponse(status=200, body="")
