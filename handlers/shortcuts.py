"""Message shortcut: find the flow ids in a message and answer in that message's thread.

Slash commands do not work in threads, so this is how a thread gets a flow's card. When the bot
cannot post there (not a member, private channel) the person gets the card ephemerally, with a
note on how to let the bot in.
"""

from __future__ import annotations

from functools import partial

from slack_bolt import Ack, App

from bot.cards import Notice, PublicAnswer, render_notice, request_problems_note
from bot.delivery.doors import Doors
from bot.flows.ids import find_flow_ids
from bot.slack.ids import SHORTCUT_LOOKUP_IN_MESSAGE
from bot.slack.reply_target import ReplyTarget
from bot.slack.requester import Requester


def register(app: App, doors: Doors) -> None:
    @app.shortcut(SHORTCUT_LOOKUP_IN_MESSAGE)
    def on_message_shortcut(
        ack: Ack, requester: Requester, reply_to: ReplyTarget, request_text: str | None
    ) -> None:
        handle_message_shortcut(ack, doors, requester, reply_to, request_text)


def handle_message_shortcut(
    ack: Ack,
    doors: Doors,
    requester: Requester,
    reply_to: ReplyTarget,
    request_text: str | None,
) -> None:
    ack()
    request = find_flow_ids(request_text, cap=doors.max_ids)
    if not request.flow_ids or reply_to.channel_id is None:
        doors.messages.tell(
            reply_to,
            partial(render_notice, Notice.NO_FLOW_ID_IN_MESSAGE),
            user_id=requester.user_id,
        )
        return
    problems = request_problems_note(request.rejected, over_cap=request.over_cap, cap=doors.max_ids)
    if problems is not None:
        doors.messages.tell(reply_to, problems, user_id=requester.user_id)
    doors.messages.public_cards(
        request.flow_ids, requester=requester, reply_to=reply_to, answer=PublicAnswer.THREAD
    )
