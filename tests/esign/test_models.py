"""The outline model keeps what e签宝 sends readable, even when e签宝 changes."""

from datetime import UTC, datetime

from bot.esign.models import FlowOutline, FlowStatus, ObjectType, SubFlowStatus, SubFlowType
from stand_ins.esign_simulator.catalogue import DOC_EXAMPLE_ID, catalogue_outline

#: The outline page's response example, as valid JSON (the page's own does not parse).
DOC_EXAMPLE = catalogue_outline(DOC_EXAMPLE_ID)


def test_doc_example_reads_every_field() -> None:
    outline = FlowOutline.model_validate(DOC_EXAMPLE)
    assert outline.flow_id == "803719636976683872"
    assert outline.flow_status is FlowStatus.ING
    assert outline.object_type is ObjectType.ORGANIZATION
    assert outline.context_id == "8ccce54b-4d40-4dcc-a7ac-464e41f2b468"
    assert outline.fail_reason is None
    assert outline.create_time == datetime(2019, 7, 9, 7, 20, 14, 273000, tzinfo=UTC)
    assert outline.modify_time is not None and outline.modify_time.tzinfo is UTC
    assert [s.sub_flow_type for s in outline.sub_flows] == [
        SubFlowType.ORGANIZATION_TRANSFER_RANDOM_AMOUNT,
        SubFlowType.ORGANIZATION_INFO_AUTH,
    ]
    related = outline.related_flows[0]
    assert related.flow_status is FlowStatus.SUCCESS
    assert related.sub_flows[0].status is SubFlowStatus.SUCCESS


def test_unknown_values_are_kept_raw() -> None:
    outline = FlowOutline.model_validate(
        {
            "flowId": "1",
            "flowStatus": "PENDING_REVIEW",
            "objectType": "GOVERNMENT",
            "subFlows": [
                {"subFlowId": "x", "subFlowType": "FACEAUTH_FUTURE_X", "status": "EXPIRED"}
            ],
            "brandNewField": {"nested": True},
        }
    )
    assert outline.flow_status == "PENDING_REVIEW"
    assert not isinstance(outline.flow_status, FlowStatus)
    assert outline.object_type == "GOVERNMENT"
    assert outline.sub_flows[0].sub_flow_type == "FACEAUTH_FUTURE_X"
    assert outline.sub_flows[0].status == "EXPIRED"


def test_nulls_and_missing_lists_become_empty() -> None:
    outline = FlowOutline.model_validate(
        {"flowId": "1", "flowStatus": None, "subFlows": None, "contextId": None, "failReason": ""}
    )
    assert outline.sub_flows == []
    assert outline.related_flows == []
    assert outline.flow_status == ""
    assert outline.context_id is None
    assert outline.fail_reason is None
    assert outline.create_time is None


def test_unusable_times_become_none() -> None:
    outline = FlowOutline.model_validate(
        {"createTime": "soon", "modifyTime": 10**30, "subFlows": []}
    )
    assert outline.create_time is None
    assert outline.modify_time is None
