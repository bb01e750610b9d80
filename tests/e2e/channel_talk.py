"""People talking in a channel the bot is in, as the channel tests drive it: the setting turned
on or off with the slash command, messages posted (Slack then sends the bot the message event
and, for links, link_shared), and what the bot posted back."""

from __future__ import annotations

import time
from collections.abc import Callable

from stand_ins.slack_playground import COLLEAGUE_USER_ID, Message, Playground

GENERAL = "C0GENERAL"
#: A console's link to a flow, as UNFURL_URL_PATTERNS says (example.com: never a real site).
LINK_TEMPLATE = "https://console.example.com/esign/flows/{flow_id}"


def set_auto(slack: Playground, verb: str, *, channel_id: str = GENERAL) -> Message:
    """`/esign-flow auto <verb>` and the private answer it gets."""
    before = {m.ts for m in slack.workspace.messages()}
    exchange = slack.slash_command(f"auto {verb}".strip(), channel_id=channel_id)
    assert exchange.status == 200 and exchange.elapsed < 1.0
    note: Message = slack.workspace.wait_for(
        lambda ms: next((m for m in ms if m.bot and m.is_ephemeral and m.ts not in before), None)
    )
    return note


def say(
    slack: Playground,
    text: str,
    *,
    channel_id: str = GENERAL,
    thread_ts: str | None = None,
    retries: int = 0,
) -> Message:
    """A person posts `text`; Slack tells the bot (and sends it again `retries` times)."""
    message = slack.post_user_message(
        text, channel_id=channel_id, thread_ts=thread_ts, user_id=COLLEAGUE_USER_ID
    )
    for exchange in slack.doors.message_posted(message, retries=retries):
        assert exchange.status == 200, exchange.body
    return message


def replies_in(
    thread_ts: str, *, channel_id: str = GENERAL, count: int = 1
) -> Callable[[list[Message]], list[Message] | None]:
    """A wait_for predicate: the bot's public posts in the thread, once there are `count`."""

    def ready(messages: list[Message]) -> list[Message] | None:
        found = [
            m
            for m in messages
            if m.bot
            and not m.is_ephemeral
            and m.channel_id == channel_id
            and (m.thread_ts == thread_ts)
        ]
        return found if len(found) >= count else None

    return ready


def bot_posts(slack: Playground, *, settle: float = 0.6) -> list[Message]:
    """Every public message the bot posted, after giving it `settle` seconds to post more."""
    time.sleep(settle)
    return [m for m in slack.workspace.messages() if m.bot and not m.is_ephemeral]


def calls_to(slack: Playground, method: str) -> list[dict[str, object]]:
    return [c.payload for c in slack.workspace.calls() if c.method == method]
