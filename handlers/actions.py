"""Card buttons: Recheck refreshes the card in place; Share posts it for everyone to see."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.audit import Requester
from bot.button_value import ButtonValue
from bot.cards import render_note
from bot.esign.errors import InvalidFlowId
from bot.replies import PostResult
from bot.services import Services
from bot.slack_ids import ACTION_RECHECK, ACTION_SHARE
from handlers.payload import field, in_direct_message, text_field


def register(app: App, services: Services) -> None:
    @app.action(ACTION_RECHECK)
    def on_recheck(ack: Ack, body: dict[str, Any]) -> None:
        handle_recheck(ack, body, services)

    @app.action(ACTION_SHARE)
    def on_share(ack: Ack, body: dict[str, Any]) -> None:
        handle_share(ack, body, services)

    # Registered last, so it only sees actions no listener above claimed: buttons from an older
    # version of the bot, or a crafted payload. The person still gets an answer.
    @app.action(re.compile(".*"))
    def on_unknown_action(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        note = render_note(
            "That button is not supported",
            "This card may come from an older version of the bot. "
            "Run `/esign-flow <flowId>` for a fresh one.",
        )
        response_url = text_field(body, "response_url")
        services.work.submit(lambda: services.replies.respond(response_url, note.to_message()))


class _Click:
    """What a button click tells us, read defensively from the block_actions payload."""

    def __init__(self, body: dict[str, Any]) -> None:
        actions = field(body, "actions")
        action = actions[0] if isinstance(actions, list) and actions else {}
        self.raw_value = field(action, "value")
        self.response_url = text_field(body, "response_url")
        self.channel_id = text_field(body, "container", "channel_id") or text_field(
            body, "channel", "id"
        )
        self.message_ts = text_field(body, "container", "message_ts") or text_field(
            body, "message", "ts"
        )
        # Ephemeral messages come without `message`, and Slack marks their container.
        self.ephemeral = field(body, "container", "is_ephemeral") is True or not isinstance(
            field(body, "message"), dict
        )
        #: (channel, ts) of a posted card, which chat.update can change; None when ephemeral.
        self.posted_message = (
            (self.channel_id, self.message_ts)
            if not self.ephemeral and self.channel_id and self.message_ts
            else None
        )
        self.direct_message = in_direct_message(body)
        self.requester = Requester.from_payload(
            field(body, "team", "id"), self.channel_id, field(body, "user", "id")
        )


def _read_click(
    ack: Ack, body: dict[str, Any], services: Services
) -> tuple[_Click, ButtonValue] | None:
    """Ack, then the click and its button's value; a value we did not make gets a note."""
    ack()
    click = _Click(body)
    try:
        return click, ButtonValue.decode(click.raw_value)
    except InvalidFlowId as exc:
        note = render_note("That button did not carry a flow id", exc.detail)
        services.work.submit(
            lambda: services.replies.respond(click.response_url, note.to_message())
        )
        return None


def handle_recheck(ack: Ack, body: dict[str, Any], services: Services) -> None:
    read = _read_click(ack, body, services)
    if read is None:
        return
    click, value = read

    def refresh() -> None:
        card = services.cards.card(
            value.flow_id,
            requester=click.requester,
            trigger="recheck",
            ephemeral=click.ephemeral,
            thread_ts=value.thread_ts,
            requested_by=None if click.ephemeral else value.requested_by,
            offer_share=not click.direct_message,
        )
        target = click.posted_message
        if target is not None and services.replies.update(*target, card.to_message()).ok:
            return
        # Ephemeral cards can only be changed through the click's own response_url.
        services.replies.respond(click.response_url, card.to_message(), replace_original=True)

    services.work.submit(refresh)


def handle_share(ack: Ack, body: dict[str, Any], services: Services) -> None:
    read = _read_click(ack, body, services)
    if read is None:
        return
    click, value = read

    def share() -> None:
        outcome = services.cards.look_up(value.flow_id, requester=click.requester, trigger="share")
        card = services.cards.render(
            outcome,
            ephemeral=False,
            thread_ts=value.thread_ts,
            requested_by=click.requester.user_id,
        )
        posted = (
            services.replies.post(click.channel_id, card.to_message(), thread_ts=value.thread_ts)
            if click.channel_id
            else None
        )
        if posted is not None and posted.ok:
            services.replies.respond(click.response_url, {}, delete_original=True)
            return
        why = _why_not_shared(posted, value.flow_id, direct=click.direct_message)
        # Share again only where it can work: inviting the bot fixes a channel, not a DM.
        private = services.cards.render(
            outcome,
            ephemeral=True,
            thread_ts=value.thread_ts,
            offer_share=not click.direct_message,
        )
        note = render_note("Could not share the card", why)
        services.replies.respond(
            click.response_url, note.followed_by(private).to_message(), replace_original=True
        )

    services.work.submit(share)


def _why_not_shared(posted: PostResult | None, flow_id: str, *, direct: bool) -> str:
    if posted is None or not posted.not_allowed_here:
        return "Slack did not take the shared card. Please try Share again in a moment."
    if direct:
        return (
            "I cannot post in a direct message between people. To share this card, run "
            f"`/esign-flow {flow_id}` in a channel I am in and press Share there."
        )
    return (
        "I am not a member of this channel. Invite me with `/invite @esign-flow`, "
        "then press Share again."
    )
