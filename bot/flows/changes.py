"""What changed between two looks at a flow: its status and every sub-flow's (for watches).

Kept as a plain dict (it is stored with the watch) of the flow's status, its sub-flows' statuses
keyed by sub-flow id, and the same for each related (agent) flow.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from bot.esign.models import FlowOutline, FlowStatus, RelatedFlow, SubFlow

FINAL_STATUSES: Final = frozenset({FlowStatus.SUCCESS, FlowStatus.FAIL})

FlowState = dict[str, Any]


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES


def _subs(sub_flows: list[SubFlow]) -> dict[str, list[str]]:
    # Keyed by id, or by position when e签宝 sends none, so a reordered list is no change.
    return {
        sub.sub_flow_id or f"#{index}": [str(sub.sub_flow_type), str(sub.status)]
        for index, sub in enumerate(sub_flows)
    }


def _related(related: list[RelatedFlow]) -> dict[str, dict[str, Any]]:
    return {
        flow.flow_id or f"#{index}": {
            "status": str(flow.flow_status),
            "subs": _subs(flow.sub_flows),
        }
        for index, flow in enumerate(related)
    }


def flow_state(outline: FlowOutline) -> FlowState:
    return {
        "status": str(outline.flow_status),
        "subs": _subs(outline.sub_flows),
        "related": _related(outline.related_flows),
    }


def fingerprint(state: FlowState) -> str:
    canonical = json.dumps(state, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that moved: the flow, a sub-flow or a related flow (by `kind`)."""

    kind: str  # "flow" | "sub_flow" | "related_flow" | "related_sub_flow"
    old: str  # the old status ("" when it is new)
    new: str  # the new status ("" when it is gone)
    sub_flow_type: str = ""
    subject: str = ""  # the related flow's id, for related changes


def changes(old: FlowState, new: FlowState) -> list[Change]:
    """What differs, flow first, in the order e签宝 lists sub-flows; [] when nothing moved."""
    found: list[Change] = []
    if old.get("status") != new.get("status"):
        found.append(Change("flow", str(old.get("status", "")), str(new.get("status", ""))))
    found += _sub_changes("sub_flow", old.get("subs") or {}, new.get("subs") or {}, "")
    old_related = old.get("related") or {}
    for flow_id, now in (new.get("related") or {}).items():
        before = old_related.get(flow_id) or {}
        if before.get("status") != now.get("status"):
            found.append(
                Change(
                    "related_flow",
                    str(before.get("status", "")),
                    str(now.get("status", "")),
                    subject=flow_id,
                )
            )
        found += _sub_changes(
            "related_sub_flow", before.get("subs") or {}, now.get("subs") or {}, flow_id
        )
    return found


def _sub_changes(
    kind: str, old: dict[str, list[str]], new: dict[str, list[str]], subject: str
) -> list[Change]:
    found = []
    for key, (sub_type, status) in new.items():
        before = old.get(key)
        if before is None or before[1] != status:
            found.append(Change(kind, before[1] if before else "", status, sub_type, subject))
    return found
