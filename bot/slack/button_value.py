"""What a card's buttons carry: the flow id, the card's thread, and who asked for a posted card.

State lives in the button, not in process memory, so a Recheck works after a restart and on any
instance. The value comes back from Slack inside a request, so it is checked like user input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.esign.errors import InvalidFlowId
from bot.esign.flow_id import validate_flow_id
from bot.slack.ids import SLACK_USER_ID

_THREAD_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
#: Far below Slack's 2000-character limit; anything longer was not made by us.
MAX_VALUE_LENGTH = 120


class ButtonValueError(ValueError):
    """A button value this bot could not have made; `part` names what is wrong with it."""

    #: "value" (its shape), "flow", "thread" or "requester".
    part = "value"

    def __init__(self, detail: str = "The button's value is not one this bot made.") -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedButtonValue(ButtonValueError):
    part = "value"


class BadFlowPart(ButtonValueError):
    part = "flow"


class BadThreadPart(ButtonValueError):
    part = "thread"


class BadRequesterPart(ButtonValueError):
    part = "requester"


@dataclass(frozen=True, slots=True)
class ButtonValue:
    flow_id: str
    thread_ts: str | None = None
    #: The person a posted card names as its requester, kept so a Recheck still names them.
    requested_by: str | None = None

    def encode(self) -> str:
        """`flow`, `flow|thread` or `flow|thread|user` (thread empty when there is none)."""
        parts = [self.flow_id, self.thread_ts or "", self.requested_by or ""]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        return "|".join(parts)

    @classmethod
    def decode(cls, raw: object) -> ButtonValue:
        """Raises a ButtonValueError naming the part that this bot could not have made."""
        if not isinstance(raw, str) or len(raw) > MAX_VALUE_LENGTH:
            raise MalformedButtonValue()
        parts = raw.split("|")
        if len(parts) > 3:
            raise MalformedButtonValue()
        flow_part, thread_part, user_part = [*parts, "", ""][:3]
        if thread_part and not _THREAD_TS.fullmatch(thread_part):
            raise BadThreadPart()
        if user_part and not SLACK_USER_ID.fullmatch(user_part):
            raise BadRequesterPart()
        try:
            flow_id = validate_flow_id(flow_part)
        except InvalidFlowId as exc:
            raise BadFlowPart(exc.detail) from None
        return cls(flow_id=flow_id, thread_ts=thread_part or None, requested_by=user_part or None)
