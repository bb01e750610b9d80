"""Message shortcut: find the flow ids in a message and answer in that message's thread.

Slash commands do not work in threads, so this is how a thread gets a flow's card. When the bot
cannot post there (not a member, private channel) the person gets the card ephemerally, with a
note on how to let the bot in.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.audit import Requester
from bot.cards import Card, render_note, render_request_problems
from bot.flow_requests import find_flow_ids
from bot.replies import PostResult
from bot.services import Services
from bot.slack_ids import SHORTCUT_LOOKUP_IN_MESSAGE
from handlers.payload import field, in_direct_message, text_field


def register(app: App, services: Services) -> None:
    @app.shortcut(SHORTCUT_LOOKUP_IN_MESSAGE)
    def on_message_shortcut(ack: Ack, shortcut: dict[str, Any]) -> None:
        handle_message_shortcut(ack, shortcut, services)


def handle_message_shortcut(ack: Ack, shortcut: dict[str, Any], services: Services) -> None:
    ack()
    response_url = text_field(shortcut, "response_url")
    channel_id = text_field(shortcut, "channel", "id")
    thread_ts = text_field(shortcut, "message", "thread_ts") or text_field(
        shortcut, "message", "ts"
    )
    request = find_flow_ids(field(shortcut, "message", "text"), cap=services.max_ids)
    direct = in_direct_message(shortcut)
    requester = Requester.from_payload(
        field(shortcut, "team", "id"), channel_id, field(shortcut, "user", "id")
    )
    if not request.flow_ids or channel_id is None:
        note = render_note(
            "No e签宝 flow id in that message",
            "A flow id is a long number such as `803719636976683872`. "
            "You can also type `/esign-flow <flowId>` in a channel.",
        )
        services.work.submit(lambda: _respond(services, response_url, note, thread_ts))
        return
    problems = render_request_problems(
        request.rejected, over_cap=request.over_cap, cap=services.max_ids
    )
    if problems is not None:
        services.work.submit(lambda: _respond(services, response_url, problems, thread_ts))
    for flow_id in request.flow_ids:

        def deliver(flow_id: str = flow_id) -> None:
            outcome = services.cards.look_up(flow_id, requester=requester, trigger="shortcut")
            card = services.cards.render(
                outcome, ephemeral=False, thread_ts=thread_ts, requested_by=requester.user_id
            )
            posted = services.replies.post(channel_id, card.to_message(), thread_ts=thread_ts)
            if posted.ok:
                return
            why = _why_not_in_thread(posted, direct=direct)
            private = services.cards.render(
                outcome, ephemeral=True, thread_ts=thread_ts, offer_share=not direct
            )
            note = render_note("Could not answer in the thread", why)
            _respond(services, response_url, note.followed_by(private), thread_ts)

        services.work.submit(deliver)


def _why_not_in_thread(posted: PostResult, *, direct: bool) -> str:
    if not posted.not_allowed_here:
        return "Slack did not take my reply in the thread, so only you can see this card."
    if direct:
        return "I cannot post in a direct message between people, so only you can see this card."
    return (
        "I am not a member of this channel, so only you can see this card. "
        "Invite me with `/invite @esign-flow` to answer in threads here."
    )


def _respond(
    services: Services, response_url: str | None, card: Card, thread_ts: str | None
) -> None:
    services.replies.respond(response_url, card.to_message(), thread_ts=thread_ts)
