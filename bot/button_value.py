"""What a card's buttons carry: the flow id, and the thread the card belongs to.

State lives in the button, not in process memory, so a Recheck works after a restart and on any
instance. The value comes back from Slack inside a request, so it is checked like user input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.esign.errors import InvalidFlowId
from bot.esign.flow_id import validate_flow_id

_THREAD_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
#: Far below Slack's 2000-character limit; anything longer was not made by us.
MAX_VALUE_LENGTH = 120


@dataclass(frozen=True, slots=True)
class ButtonValue:
    flow_id: str
    thread_ts: str | None = None

    def encode(self) -> str:
        return f"{self.flow_id}|{self.thread_ts}" if self.thread_ts else self.flow_id

    @classmethod
    def decode(cls, raw: object) -> ButtonValue:
        """Raises InvalidFlowId when the value is not one this bot could have made."""
        if not isinstance(raw, str) or len(raw) > MAX_VALUE_LENGTH:
            raise InvalidFlowId("The button's value is not one this bot made.")
        flow_part, _, thread_part = raw.partition("|")
        thread_ts = thread_part or None
        if thread_ts is not None and not _THREAD_TS.fullmatch(thread_ts):
            raise InvalidFlowId("The button's value is not one this bot made.")
        return cls(flow_id=validate_flow_id(flow_part), thread_ts=thread_ts)
