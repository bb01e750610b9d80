"""The floor for any Bolt bot on this machine: ack the slash command, respond() a fixed text
(and a channel message naming a long number: ack, then a fixed text in its thread).

Served by the same HTTP server as the bot, granian (bench/servers.py has the command line).

It reads the same Slack settings from the environment as the bot, and talks to the same Slack
(SLACK_API_URL), but has none of the bot's code: no e签宝, no cache, no background pool.
"""

from __future__ import annotations

import logging
import os

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bench.bare_bolt import answer_commands, answer_messages, slack_client

logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))

bolt = answer_messages(
    answer_commands(App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=slack_client()))
)

#: The WSGI app the server serves.
app = SlackRequestHandler(bolt)
