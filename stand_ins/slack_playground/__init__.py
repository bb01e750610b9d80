"""A local Slack for the bot: signed requests in, Web API and response URLs out, a browser page.

Used by the end-to-end tests and benchmarks (the Slack side), by newcomers in the browser
(`http://127.0.0.1:<port>/`), and mounted next to the bot in the local run. Never used in
production.
"""

from .server import Playground
from .slack_requests import SlackExchange
from .workspace import (
    BOT_USER_ID,
    COLLEAGUE_USER_ID,
    SLACKBOT_USER_ID,
    VIEWER_USER_ID,
    Channel,
    Message,
    RecordedCall,
    User,
    Workspace,
)

__all__ = [
    "BOT_USER_ID",
    "COLLEAGUE_USER_ID",
    "SLACKBOT_USER_ID",
    "VIEWER_USER_ID",
    "Channel",
    "Message",
    "Playground",
    "RecordedCall",
    "SlackExchange",
    "User",
    "Workspace",
]
