"""What the Workflow Builder step hands back: its outputs, and its failure message.

Outputs land in later steps of someone's workflow (a message, a branch on `is_final`), so they are
plain text: no mrkdwn, no emoji shortcodes, and e签宝's raw values kept exactly as sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from bot.cards.labels import flow_status_label
from bot.esign.errors import EsignError, EsignUnavailable, FlowNotFound, InvalidFlowId
from bot.esign.models import FlowStatus, SubFlow, SubFlowStatus
from bot.flows.snapshot import FlowSnapshot

FINAL_STATUSES: Final = frozenset({FlowStatus.SUCCESS, FlowStatus.FAIL})
#: Workflow Builder shows a failed step's message to the workflow's owner; keep it short.
FAILURE_LIMIT: Final = 500


def step_outputs(snapshot: FlowSnapshot, *, checked_at: datetime) -> dict[str, Any]:
    outline = snapshot.outline
    status = str(outline.flow_status)
    return {
        "flow_status": status,
        "status_label": flow_status_label(outline.flow_status).words(),
        "object_type": str(outline.object_type),
        "fail_reason": outline.fail_reason or "",
        "sub_flows_summary": sub_flows_summary(outline.sub_flows),
        "is_final": status in FINAL_STATUSES,
        # slack#/types/timestamp: Unix seconds.
        "checked_at": int(checked_at.timestamp()),
    }


def sub_flows_summary(sub_flows: Sequence[SubFlow]) -> str:
    """ "1 of 2 succeeded" (plus what failed or is still running), for a workflow message."""
    total = len(sub_flows)
    if not total:
        return "no sub-flows yet"
    counts = Counter(str(sub.status) for sub in sub_flows)
    parts = [f"{counts[SubFlowStatus.SUCCESS]} of {total} succeeded"]
    for kind, word in ((SubFlowStatus.FAIL, "failed"), (SubFlowStatus.ING, "in progress")):
        if counts[kind]:
            parts.append(f"{counts[kind]} {word}")
    return ", ".join(parts)


def step_failure_message(
    error: EsignError | None, *, flow_id: str | None, restarting: bool = False
) -> str:
    """Why the step could not check the flow, in words the workflow's owner can act on."""
    shown = (flow_id or "").strip()[:64]
    if restarting:
        text = "The e签宝 flow bot was restarting and did not check the flow. Run the step again."
    elif isinstance(error, InvalidFlowId):
        text = (
            f"'{shown}' is not an e签宝 flow id. A flow id is a long number such as "
            "803719636976683872: check what the step's flow_id input is set to."
            if shown
            else "The step got no flow id: set its flow_id input to the flow to check."
        )
    elif isinstance(error, FlowNotFound):
        text = (
            f"e签宝 does not know flow {shown}. Check the id, and that it was created with "
            "this app in this environment."
        )
    elif isinstance(error, EsignUnavailable):
        text = "e签宝 is not answering just now, so flow {0} was not checked. Try again later."
        text = text.format(shown)
    elif error is not None:
        text = f"Could not check flow {shown}: {error.title}. {error.detail}"
    else:
        text = f"Could not check flow {shown}: something went wrong on the bot's side."
    return text[:FAILURE_LIMIT]
