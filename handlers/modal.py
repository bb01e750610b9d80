"""The ⚡ global shortcut "Check an e签宝 flow": a modal asks for flow ids, then shows the cards.

A global shortcut has no channel and no response_url: the modal is the only answer, opened
with the payload's trigger_id (good for 3 s). Its submission is validated as the slash command
validates ids; a bad one is refused next to the field, before any e签宝 call, and good ones turn
the modal into a "looking up…" view at once (or the cards, when all are cached), then into the
cards once e签宝 has answered.
"""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.cards.modal import modal_input_error, modal_missing_ids, render_modal_waiting
from bot.delivery.doors import Doors
from bot.flows.ids import parse_command_text
from bot.slack.ids import BLOCK_FLOW_IDS, SHORTCUT_CHECK_FLOW, VIEW_CHECK_FLOW
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester


def register(app: App, doors: Doors) -> None:
    @app.shortcut(SHORTCUT_CHECK_FLOW)
    def on_global_shortcut(ack: Ack, requester: Requester, reply_to: ReplyTarget) -> None:
        handle_global_shortcut(ack, doors, requester, reply_to)

    @app.view(VIEW_CHECK_FLOW)
    def on_modal_submission(
        ack: Ack, requester: Requester, reply_to: ReplyTarget, request_text: str | None
    ) -> None:
        handle_modal_submission(ack, doors, requester, reply_to, request_text)


def handle_global_shortcut(
    ack: Ack, doors: Doors, requester: Requester, reply_to: ReplyTarget
) -> None:
    ack()
    doors.modal.open_modal(reply_to.trigger_id, user_id=requester.user_id)


def handle_modal_submission(
    ack: Ack,
    doors: Doors,
    requester: Requester,
    reply_to: ReplyTarget,
    request_text: str | None,
) -> None:
    # The ack carries the refusal or the wait: in a language known now, never looked up first.
    language = doors.messages.ack_language(requester.user_id)
    request = parse_command_text(request_text, cap=doors.max_ids)
    problem = modal_input_error(
        request.rejected, over_cap=request.over_cap, cap=doors.max_ids, language=language
    )
    if problem is None and not request.flow_ids:
        problem = modal_missing_ids(language)
    if problem is not None:
        ack(response_action="errors", errors={BLOCK_FLOW_IDS: problem})
        return
    cached = doors.modal.cached_modal(request.flow_ids, requester=requester, reply_to=reply_to)
    if cached is not None:
        ack(response_action="update", view=cached)
        return
    ack(response_action="update", view=render_modal_waiting(request.flow_ids, language))
    doors.modal.modal_cards(request.flow_ids, requester=requester, reply_to=reply_to)
