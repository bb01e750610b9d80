"""One structured audit line per lookup: who asked, where, for which flow, and what happened.

Only ids and outcomes are written; never a token, a secret or e签宝's payload.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.slack.requester import Requester

audit_log = logging.getLogger("esign_flow.audit")


class AuditFields(dict[str, Any]):
    """An audit line's fields, logged as the message itself.

    As text it is one JSON object (the human format's line, any handler's); the JSON log format
    (bot.app.logs) sees a mapping and writes its fields as keys of the line's own object.
    """

    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False)


def record_lookup(
    requester: Requester,
    *,
    trigger: str,
    flow_id: str,
    outcome: str,
    cached: bool,
    duration_ms: float,
    code: int | None = None,
) -> None:
    if not audit_log.isEnabledFor(logging.INFO):
        return  # LOG_LEVEL above INFO: not worth building on a request's way
    entry = AuditFields(
        {
            "event": "flow_lookup",
            "trigger": trigger,
            "team": requester.team_id,
            "channel": requester.channel_id,
            "user": requester.user_id,
            "flow_id": flow_id,
            "outcome": outcome,
            "cached": cached,
            "duration_ms": round(duration_ms, 1),
        }
    )
    if code is not None:
        entry["code"] = code
    audit_log.info(entry)


def record_access_denied(requester: Requester) -> None:
    entry = AuditFields(
        {
            "event": "access_denied",
            "team": requester.team_id,
            "channel": requester.channel_id,
            "user": requester.user_id,
        }
    )
    audit_log.info(entry)
