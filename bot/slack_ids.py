"""Every Slack identifier the app answers to, in one place (manifest, handlers and cards agree)."""

import re
from typing import Final

COMMAND: Final = "/esign-flow"
#: Message shortcut: look up the flow ids found in a message and answer in its thread.
SHORTCUT_LOOKUP_IN_MESSAGE: Final = "esign_flow_lookup_message"
ACTION_RECHECK: Final = "esign_flow_recheck"
ACTION_SHARE: Final = "esign_flow_share"
#: Watch a flow until it moves / stop watching it (on cards and on the notices themselves).
ACTION_WATCH: Final = "esign_flow_watch"
ACTION_UNWATCH: Final = "esign_flow_unwatch"

#: What a Slack team, channel, user or user group id looks like (T…, C…, D…, G…, U…, W…, S…).
SLACK_ID_PATTERN: Final = r"[A-Z0-9]{3,24}"
SLACK_ID: Final = re.compile(SLACK_ID_PATTERN)
#: A Slack user id as payloads carry it; anything else is never echoed into a message.
SLACK_USER_ID: Final = re.compile(rf"(?=[UW]){SLACK_ID_PATTERN}")


def slack_id(value: object) -> str | None:
    """A Slack id from a payload, or None when it does not look like one."""
    return value if isinstance(value, str) and SLACK_ID.fullmatch(value) else None
