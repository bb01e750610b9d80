"""What both bare Bolt apps (HTTP and Socket Mode) are: Bolt's client on the bench's Slack, and
one slash command acked, then answered with a fixed text; a channel message naming a long
number acked, then answered in its thread with a fixed text. Nothing of the bot's."""

from __future__ import annotations

import os
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bench.loadgen import COMMAND
from stand_ins.slack_sink import BASELINE_TEXT


def slack_client() -> WebClient:
    """The same Slack settings from the environment as the bot reads."""
    return WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
    )


def answer_commands(bolt: App) -> App:
    @bolt.command(COMMAND)
    def on_command(ack: Ack, respond: Respond) -> None:
        ack()
        respond(BASELINE_TEXT)

    return bolt


#: What the bare app answers: any run of 16 or more digits (the bot's own rule is stricter).
_LONG_NUMBER = re.compile(r"[0-9]{16,}")


def answer_messages(bolt: App) -> App:
    @bolt.event("message")
    def on_message(ack: Ack, event: dict[str, Any], client: WebClient) -> None:
        ack()
        if event.get("subtype") is None and _LONG_NUMBER.search(str(event.get("text") or "")):
            client.chat_postMessage(
                channel=event["channel"],
                thread_ts=event.get("thread_ts") or event["ts"],
                text=BASELINE_TEXT,
            )

    return bolt
