"""The one gate every flow id passes before it can become part of a request path."""

from __future__ import annotations

import re

from bot.esign.errors import InvalidFlowId, InvalidFlowIdReason

#: e签宝 identity flow ids are long digit strings; letters are allowed for safety margin only.
#: ASCII only on purpose: `\d` would also admit full-width and Arabic-Indic digits.
FLOW_ID_PATTERN = re.compile(r"[0-9A-Za-z]{6,64}")
MAX_FLOW_ID_LENGTH = 64


def validate_flow_id(raw: str) -> str:
    """Return the flow id when it is safe to put in a URL path, else raise InvalidFlowId.

    Nothing is stripped or normalised except surrounding ASCII spaces: a value that needs
    fixing is rejected, so no user text can steer the path or query (`../`, `%2e`, `?`, `#`).
    """
    if not isinstance(raw, str):
        raise InvalidFlowId(InvalidFlowIdReason.NOT_TEXT)
    candidate = raw.strip(" \t")
    if not candidate:
        raise InvalidFlowId(InvalidFlowIdReason.EMPTY)
    if len(candidate) > MAX_FLOW_ID_LENGTH:
        raise InvalidFlowId(
            InvalidFlowIdReason.TOO_LONG, length=len(candidate), max_length=MAX_FLOW_ID_LENGTH
        )
    if not FLOW_ID_PATTERN.fullmatch(candidate):
        raise InvalidFlowId(InvalidFlowIdReason.BAD_CHARACTERS)
    return candidate
