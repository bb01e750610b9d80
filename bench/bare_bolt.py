"""What both bare Bolt apps (HTTP and Socket Mode) are: Bolt's client on the bench's Slack, and
one slash command acked, then answered with a fixed text. Nothing of the bot's."""

from __future__ import annotations

import os

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
