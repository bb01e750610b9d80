"""`/esign-flow <flowId> [more ids]`: ephemeral cards, one per flow, through the response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.audit import Requester
from bot.cards import render_help, render_note, render_request_problems
from bot.flow_requests import parse_command_text
from bot.services import Services
from bot.slack_ids import COMMAND
from handlers.payload import field, in_direct_message, text_field


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        handle_command(ack, command, services)


def handle_command(ack: Ack, command: dict[str, Any], services: Services) -> None:
    request = parse_command_text(field(command, "text"), cap=services.max_ids)
    if request.wants_help:
        ack(**render_help(COMMAND).to_message())
        return
    problems = render_request_problems(
        request.rejected, over_cap=request.over_cap, cap=services.max_ids
    )
    if not request.flow_ids:
        ack(**(problems or render_note("No flow id given", "Try `/esign-flow help`.")).to_message())
        return
    response_url = text_field(command, "response_url")
    if response_url is None:
        ack(
            **render_note(
                "Slack sent no reply address", "Please run the command again."
            ).to_message()
        )
        return
    # Problems ride on the ack itself: the response_url takes only five posts.
    if problems is not None:
        ack(**problems.to_message())
    else:
        ack()
    requester = Requester.from_payload(
        field(command, "team_id"), field(command, "channel_id"), field(command, "user_id")
    )
    # In a DM between people the bot cannot post, so a Share button could only fail.
    offer_share = not in_direct_message(command)
    for flow_id in request.flow_ids:

        def deliver(flow_id: str = flow_id) -> None:
            card = services.cards.card(
                flow_id,
                requester=requester,
                trigger="command",
                ephemeral=True,
                offer_share=offer_share,
            )
            services.replies.respond(response_url, card.to_message())

        services.work.submit(deliver)
