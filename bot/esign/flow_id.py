"""The one gate every flow id passes before it can become part of a request path."""

from __future__ import annotations

import re

from bot.esign.errors import InvalidFlowId

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
        raise InvalidFlowId("A flow id must be text.")
    candidate = raw.strip(" \t")
    if not candidate:
        raise InvalidFlowId("No flow id given.")
    if len(candidate) > MAX_FLOW_ID_LENGTH:
        raise InvalidFlowId(
            f"A flow id has at most {MAX_FLOW_ID_LENGTH} characters; this one has {len(candidate)}."
        )
    if not FLOW_ID_PATTERN.fullmatch(candidate):
        raise InvalidFlowId(
            "A flow id is a long number such as 803719636976683872 "
            "(ASCII digits and letters only, 6 to 64 characters)."
        )
    return candidate
