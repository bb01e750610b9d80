"""The outline model keeps what e签宝 sends readable, even when e签宝 changes."""

from datetime import UTC, datetime

from bot.esign.models import FlowOutline, FlowStatus, ObjectType, SubFlowStatus, SubFlowType

DOC_EXAMPLE = {
    "flowId": "803719636976683872",
    "flowStatus": "ING",
    "objectType": "ORGANIZATION",
    "failReason": None,
    "createTime": 1562656814273,
    "modifyTime": 1562656874000,
    "contextId": "8ccce54b-4d40-4dcc-a7ac-464e41f2b468",
    "subFlows": [
        {
            "subFlowId": "5ffbafb2-c3be-45ba-bfeb-fda1f8eb083d",
            "subFlowType": "ORGANIZATION_TRANSFER_RANDOM_AMOUNT",
            "status": "ING",
        },
        {
            "subFlowId": "3bb55061-f98f-4c89-b236-96b3e7048839",
            "subFlowType": "ORGANIZATION_INFO_AUTH",
            "status": "ING",
        },
    ],
    "relatedFlows": [
        {
            "flowId": "802965095964494307",
            "flowStatus": "SUCCESS",
            "objectType": "INDIVIDUAL",
            "failReason": None,
            "contextId": "8ccce54b-4d40-4dcc-a7ac-464e41f2b468",
            "subFlows": [
                {
                    "subFlowId": "84322b8a-5baf-4835-82a7-07dbd74c3365",
                    "subFlowType": "INDIVIDUAL_BANKCARD_4_FACTOR",
                    "status": "SUCCESS",
                }
            ],
        }
    ],
}


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
