"""Every Slack identifier the app answers to, in one place (manifest, handlers and cards agree)."""

import re
from typing import Final

COMMAND: Final = "/esign-flow"
#: Message shortcut: look up the flow ids found in a message and answer in its thread.
SHORTCUT_LOOKUP_IN_MESSAGE: Final = "esign_flow_lookup_message"
ACTION_RECHECK: Final = "esign_flow_recheck"
ACTION_SHARE: Final = "esign_flow_share"
#: A Slack user id as payloads carry it; anything else is never echoed into a message.
SLACK_USER_ID: Final = re.compile(r"[UW][A-Z0-9]{2,20}")
