"""Channel messages (`message.channels`, `message.groups`): a person's message naming flow ids,
in a channel where answers are on, gets the flows' cards in its thread.

The events middleware has already dropped what cannot matter (bots, subtypes, no id); the
listener acks and hands over: the setting, the thread memory and e签宝 come after the ack.
"""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.delivery.channels import ChannelMessage
from bot.delivery.doors import Doors
from bot.slack.ids import EVENT_MESSAGE
from bot.slack.requester import Requester


def register(app: App, doors: Doors) -> None:
    @app.event(EVENT_MESSAGE)
    def on_message(ack: Ack, requester: Requester, channel_message: ChannelMessage | None) -> None:
        handle_message(ack, doors, requester, channel_message)


def handle_message(
    ack: Ack, doors: Doors, requester: Requester, channel_message: ChannelMessage | None
) -> None:
    ack()
    if doors.channels is None or channel_message is None or not channel_message.answerable:
        return
    doors.channels.answer(channel_message, requester)
