"""Sizes every card keeps to, below Slack's own limits so that no message is ever refused."""

from typing import Final

#: A message's top-level `text` (notifications and screen readers).
TOP_TEXT_LIMIT: Final = 300
#: Any id echoed into a card: a flow id, a sub-flow id, a rejected token.
ID_LIMIT: Final = 80
#: e签宝's raw name for a value our tables do not know (a status, a subject, a sub-flow type).
RAW_NAME_LIMIT: Final = 60
#: e签宝's context id: the caller's own reference, so it may be long.
CONTEXT_ID_LIMIT: Final = 200
