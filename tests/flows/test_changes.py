"""What counts as a change of a watched flow, and what does not."""

from __future__ import annotations

from typing import Any

from bot.esign.models import FlowOutline
from bot.flows.changes import Change, changes, fingerprint, flow_state, is_final


def outline(
    status: str, subs: list[tuple[str, str, str]], related: list[Any] | None = None
) -> FlowOutline:
    return FlowOutline.model_validate(
        {
            "flowId": "803719636976683872",
            "flowStatus": status,
            "subFlows": [
                {"subFlowId": sid, "subFlowType": kind, "status": st} for sid, kind, st in subs
            ],
            "relatedFlows": related or [],
        }
    )


def test_the_same_state_is_no_change_whatever_the_order_of_sub_flows() -> None:
    a = flow_state(outline("ING", [("s1", "FACEAUTH_ESIGN", "ING"), ("s2", "AUTHCODE", "SUCCESS")]))
    b = flow_state(outline("ING", [("s2", "AUTHCODE", "SUCCESS"), ("s1", "FACEAUTH_ESIGN", "ING")]))
    assert changes(a, b) == []
    assert fingerprint(a) == fingerprint(b)


def test_flow_and_sub_flow_changes_are_listed_flow_first() -> None:
    before = flow_state(outline("ING", [("s1", "FACEAUTH_ESIGN", "ING")]))
    after = flow_state(
        outline("SUCCESS", [("s1", "FACEAUTH_ESIGN", "SUCCESS"), ("s2", "AUTHCODE", "ING")])
    )
    assert changes(before, after) == [
        Change("flow", "ING", "SUCCESS"),
        Change("sub_flow", "ING", "SUCCESS", "FACEAUTH_ESIGN"),
        Change("sub_flow", "", "ING", "AUTHCODE"),
    ]
    assert fingerprint(before) != fingerprint(after)


def test_a_related_flow_moving_is_a_change() -> None:
    related = [{"flowId": "802965095964494307", "flowStatus": "ING", "subFlows": []}]
    moved = [{"flowId": "802965095964494307", "flowStatus": "FAIL", "subFlows": []}]
    before = flow_state(outline("ING", [], related))
    after = flow_state(outline("ING", [], moved))
    assert changes(before, after) == [
        Change("related_flow", "ING", "FAIL", subject="802965095964494307")
    ]


def test_only_success_and_fail_are_final() -> None:
    assert is_final("SUCCESS") and is_final("FAIL")
    assert not any(is_final(s) for s in ("INIT", "ING", "", "PENDING_REVIEW"))
