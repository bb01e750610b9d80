"""The floor for any Bolt bot in Socket Mode: ack the slash command, respond() a fixed text.

The Socket Mode twin of bench/baseline_app.py, run the way the Procfile's `worker:` line runs
the bot (`python -m bot.app.cli socket`): Bolt's SocketModeHandler with its defaults, that is
slack_sdk's builtin Socket Mode client, connected with the app-level token:

    python -m bench.baseline_socket_app

It reads the same Slack settings from the environment as the bot (SLACK_BOT_TOKEN,
SLACK_APP_TOKEN, SLACK_API_URL), so apps.connections.open and every answer go to the same Slack,
but it has none of the bot's code: no e签宝, no cache, no background pool. SIGTERM or SIGINT
closes the connection and ends it, as they end the bot's worker.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bench.bare_bolt import answer_commands, slack_client


def create_app() -> App:
    return answer_commands(App(client=slack_client()))


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))
    handler = SocketModeHandler(create_app(), os.environ["SLACK_APP_TOKEN"])
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    handler.connect()  # type: ignore[no-untyped-call]
    stop.wait()
    handler.close()  # type: ignore[no-untyped-call]
    return 0


if __name__ == "__main__":
    sys.exit(main())
