"""Every Slack identifier the app answers to, in one place (manifest, handlers and cards agree)."""

from typing import Final

COMMAND: Final = "/esign-flow"
#: Message shortcut: look up the flow ids found in a message and answer in its thread.
SHORTCUT_LOOKUP_IN_MESSAGE: Final = "esign_flow_lookup_message"
ACTION_RECHECK: Final = "esign_flow_recheck"
ACTION_SHARE: Final = "esign_flow_share"
