"""Built-in flows the simulator knows, in e签宝's camelCase `data` shape.

Every sample has a stable id and a short English title, listed in display order (the local
playground shows them to newcomers). Besides real outlines there are ids that answer with a
business error code and ids that always misbehave in one way (a standing fault), so each case
can be tried by typing an id. Sub-flow ids are UUIDs derived from the flow id, so they are stable.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from stand_ins.esign_simulator.faults import Fault

Outline = dict[str, Any]

_SUB_FLOW_NAMESPACE = uuid.UUID("6f1d3c2a-5b7e-4f00-9a51-e5a9b0000001")

#: The 14 sub-flow types of the outline page, plus INDIVIDUAL_FACEAUTH named by other pages.
ALL_SUB_FLOW_TYPES = (
    "ORGANIZATION_INFO_AUTH",
    "ORGANIZATION_TRANSFER_RANDOM_AMOUNT",
    "ORGANIZATION_ZMXY",
    "LEGAL_REP_SIGN_AUTHORIZE",
    "ORGANIZATION_ARTIFICIAL",
    "AUTHCODE",
    "INDIVIDUAL_ARTIFICIAL",
    "FACEAUTH_ZMXY",
    "FACEAUTH_TECENT_CLOUD",  # sic: e签宝's spelling
    "ORGANIZATION_LEGAL_REP_FACEAUTH",
    "INDIVIDUAL_BANKCARD_4_FACTOR",
    "INDIVIDUAL_TELECOM_3_FACTOR",
    "FACEAUTH_WE_CHAT_FACE",
    "FACEAUTH_ESIGN",
    "INDIVIDUAL_FACEAUTH",
)
SUB_FLOW_STATUSES = ("ING", "SUCCESS", "FAIL", "TERMINATED")


class SampleKind(StrEnum):
    OUTLINE = "outline"  # answers code 0 with an outline
    BUSINESS_ERROR = "business_error"  # answers HTTP 200 with a non-zero code
    FAULT = "fault"  # always misbehaves (see `fault_for`)


@dataclass(frozen=True, slots=True)
class SampleFlow:
    flow_id: str
    title: str
    kind: SampleKind = SampleKind.OUTLINE


@dataclass(frozen=True, slots=True)
class BusinessError:
    code: int
    message: str


#: What e签宝 answers for a flow id it does not know (the outline page's code).
FLOW_NOT_FOUND = BusinessError(30500001, "认证流程不存在")


def _ms(iso: str) -> int:
    """Epoch milliseconds of an ISO time (China time in the samples, as e签宝 runs on it)."""
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def _sub(flow_id: str, index: int, sub_flow_type: str, status: str) -> dict[str, Any]:
    sub_flow_id = str(uuid.uuid5(_SUB_FLOW_NAMESPACE, f"{flow_id}/{index}"))
    return {"subFlowId": sub_flow_id, "subFlowType": sub_flow_type, "status": status}


def _subs(flow_id: str, *pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [_sub(flow_id, index, kind, status) for index, (kind, status) in enumerate(pairs)]


def _ctx(flow_id: str) -> str:
    return str(uuid.uuid5(_SUB_FLOW_NAMESPACE, f"context/{flow_id}"))


# --- outline samples -------------------------------------------------------------------------

DOC_EXAMPLE_ID = "803719636976683872"
INIT_ID = "2987365012874563584"
ING_ID = "2987365134507291136"
SUCCESS_ID = "2987366201948372992"
FAIL_ID = "2987366388415348736"
RETRIED_ID = "2987367019283746816"
ORG_SUCCESS_ID = "2987368120394857472"
EVERY_TYPE_ID = "2987369231506968064"
ORG_FAIL_ID = "2987370342619079680"
OVERSIZED_ID = "2987371453731190784"
FUTURE_VALUES_ID = "2987372564843301888"
NULLS_ID = "2987373675955412992"
HOSTILE_TEXT_ID = "2987374786067523072"

#: Flows that move on their own once first asked for (see scripted.py): watch them.
SCRIPTED_SUCCESS_ID = "2987380000000000001"
SCRIPTED_FAIL_ID = "2987380000000000002"

HOSTILE_TEXT = "<!channel> *bold* <https://evil.example|click> & <@U123>"


def _doc_example() -> Outline:
    # The outline page's response example, with its unbalanced brackets fixed.
    return {
        "flowId": DOC_EXAMPLE_ID,
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


def _individual(
    flow_id: str,
    status: str,
    created: str,
    modified: str,
    sub_flows: list[dict[str, Any]],
    fail_reason: str | None = None,
) -> Outline:
    return {
        "flowId": flow_id,
        "flowStatus": status,
        "objectType": "INDIVIDUAL",
        "contextId": _ctx(flow_id),
        "failReason": fail_reason,
        "createTime": _ms(created),
        "modifyTime": _ms(modified),
        "subFlows": sub_flows,
        "relatedFlows": [],
    }


def _related(
    flow_id: str, status: str, sub_flows: list[dict[str, Any]], fail_reason: str | None = None
) -> dict[str, Any]:
    return {
        "flowId": flow_id,
        "flowStatus": status,
        "objectType": "INDIVIDUAL",
        "contextId": _ctx(flow_id),
        "failReason": fail_reason,
        "subFlows": sub_flows,
    }


def _org_success() -> Outline:
    agent = "2987368120394857473"
    return {
        "flowId": ORG_SUCCESS_ID,
        "flowStatus": "SUCCESS",
        "objectType": "ORGANIZATION",
        "contextId": _ctx(ORG_SUCCESS_ID),
        "failReason": None,
        "createTime": _ms("2026-02-09T10:02:11.418+08:00"),
        "modifyTime": _ms("2026-02-10T15:47:03.902+08:00"),
        "subFlows": _subs(
            ORG_SUCCESS_ID,
            ("ORGANIZATION_INFO_AUTH", "SUCCESS"),
            ("ORGANIZATION_TRANSFER_RANDOM_AMOUNT", "SUCCESS"),
        ),
        "relatedFlows": [_related(agent, "SUCCESS", _subs(agent, ("FACEAUTH_ZMXY", "SUCCESS")))],
    }


def _every_type() -> Outline:
    # Organization types on the company flow, agent types on the related flow; together they
    # use every documented sub-flow type and all four sub-flow statuses.
    agent = "2987369231506968065"
    return {
        "flowId": EVERY_TYPE_ID,
        "flowStatus": "ING",
        "objectType": "ORGANIZATION",
        "contextId": _ctx(EVERY_TYPE_ID),
        "failReason": None,
        "createTime": _ms("2026-03-03T08:30:00.125+08:00"),
        "modifyTime": _ms("2026-03-04T17:12:45.660+08:00"),
        "subFlows": _subs(
            EVERY_TYPE_ID,
            ("ORGANIZATION_INFO_AUTH", "SUCCESS"),
            ("ORGANIZATION_ZMXY", "TERMINATED"),
            ("ORGANIZATION_TRANSFER_RANDOM_AMOUNT", "FAIL"),
            ("LEGAL_REP_SIGN_AUTHORIZE", "TERMINATED"),
            ("ORGANIZATION_LEGAL_REP_FACEAUTH", "FAIL"),
            ("AUTHCODE", "SUCCESS"),
            ("ORGANIZATION_ARTIFICIAL", "ING"),
        ),
        "relatedFlows": [
            _related(
                agent,
                "ING",
                _subs(
                    agent,
                    ("INDIVIDUAL_TELECOM_3_FACTOR", "FAIL"),
                    ("INDIVIDUAL_BANKCARD_4_FACTOR", "TERMINATED"),
                    ("FACEAUTH_WE_CHAT_FACE", "TERMINATED"),
                    ("FACEAUTH_TECENT_CLOUD", "FAIL"),
                    ("FACEAUTH_ZMXY", "TERMINATED"),
                    ("INDIVIDUAL_FACEAUTH", "FAIL"),
                    ("FACEAUTH_ESIGN", "SUCCESS"),
                    ("INDIVIDUAL_ARTIFICIAL", "ING"),
                ),
            )
        ],
    }


def _org_fail() -> Outline:
    failed_agent, verified_agent = "2987370342619079681", "2987370342619079682"
    return {
        "flowId": ORG_FAIL_ID,
        "flowStatus": "FAIL",
        "objectType": "ORGANIZATION",
        "contextId": _ctx(ORG_FAIL_ID),
        "failReason": "企业信息比对不一致：法定代表人姓名与工商登记信息不符",
        "createTime": _ms("2026-01-20T14:05:31.007+08:00"),
        "modifyTime": _ms("2026-01-20T14:21:58.340+08:00"),
        "subFlows": _subs(ORG_FAIL_ID, ("ORGANIZATION_INFO_AUTH", "FAIL")),
        "relatedFlows": [
            _related(
                failed_agent,
                "FAIL",
                _subs(failed_agent, ("INDIVIDUAL_TELECOM_3_FACTOR", "FAIL")),
                fail_reason="运营商三要素比对不一致",
            ),
            _related(
                verified_agent, "SUCCESS", _subs(verified_agent, ("FACEAUTH_ZMXY", "SUCCESS"))
            ),
        ],
    }


def _oversized() -> Outline:
    # Far beyond any real flow: for message-size limits, truncation and rendering time.
    def cycle(flow_id: str, count: int) -> list[dict[str, Any]]:
        return [
            _sub(
                flow_id,
                index,
                ALL_SUB_FLOW_TYPES[index % len(ALL_SUB_FLOW_TYPES)],
                SUB_FLOW_STATUSES[index % len(SUB_FLOW_STATUSES)],
            )
            for index in range(count)
        ]

    sentence = (
        "第{n}次认证失败：银行卡四要素比对不一致，请核对姓名、身份证号、银行卡号与预留手机号。"
    )
    reason = "".join(sentence.format(n=n) for n in range(1, 200))[:5000]
    related = []
    for index in range(30):
        flow_id = str(int(OVERSIZED_ID) + 1 + index)
        related.append(_related(flow_id, ("FAIL", "SUCCESS", "ING")[index % 3], cycle(flow_id, 10)))
    return {
        "flowId": OVERSIZED_ID,
        "flowStatus": "FAIL",
        "objectType": "ORGANIZATION",
        "contextId": ("oversized-context/" + "order-2026-0000042;tenant=acme-industrial;" * 25)[
            :1000
        ],
        "failReason": reason,
        "createTime": _ms("2026-01-05T09:00:00.001+08:00"),
        "modifyTime": _ms("2026-03-01T23:59:59.999+08:00"),
        "subFlows": cycle(OVERSIZED_ID, 120),
        "relatedFlows": related,
    }


def _future_values() -> Outline:
    # Values e签宝 might add later: the bot must show them raw instead of failing.
    sub_flows = _subs(
        FUTURE_VALUES_ID, ("FACEAUTH_FUTURE_X", "EXPIRED"), ("FACEAUTH_ESIGN", "SUCCESS")
    )
    sub_flows[0]["vendorTraceId"] = "ftx-7781-a"
    return {
        "flowId": FUTURE_VALUES_ID,
        "flowStatus": "PENDING_REVIEW",
        "objectType": "GOVERNMENT",
        "contextId": _ctx(FUTURE_VALUES_ID),
        "failReason": None,
        "createTime": _ms("2026-03-06T11:11:11.111+08:00"),
        "modifyTime": _ms("2026-03-06T11:20:42.500+08:00"),
        "subFlows": sub_flows,
        "relatedFlows": [],
        "riskLevel": "MEDIUM",
    }


def _nulls() -> Outline:
    # Every field the model allows to be null is null; relatedFlows is missing altogether.
    return {
        "flowId": NULLS_ID,
        "flowStatus": "ING",
        "objectType": "INDIVIDUAL",
        "contextId": None,
        "failReason": None,
        "createTime": None,
        "modifyTime": None,
        "subFlows": None,
    }


def _hostile_text() -> Outline:
    outline = _individual(
        HOSTILE_TEXT_ID,
        "FAIL",
        "2026-02-27T20:45:00.000+08:00",
        "2026-02-27T20:49:13.250+08:00",
        _subs(HOSTILE_TEXT_ID, ("INDIVIDUAL_TELECOM_3_FACTOR", "FAIL")),
        fail_reason=f"运营商三要素比对不一致 {HOSTILE_TEXT} ```code``` _it_ ~strike~",
    )
    outline["contextId"] = HOSTILE_TEXT
    return outline


def _outlines() -> list[tuple[str, Outline]]:
    return [
        ("Organization in progress, agent verified (the doc's example)", _doc_example()),
        (
            "Individual just started (INIT), no sub-flows yet",
            _individual(
                INIT_ID,
                "INIT",
                "2026-03-05T10:00:03.512+08:00",
                "2026-03-05T10:00:03.512+08:00",
                [],
            ),
        ),
        (
            "Individual in progress, carrier 3-factor check pending",
            _individual(
                ING_ID,
                "ING",
                "2026-03-05T09:41:20.004+08:00",
                "2026-03-05T09:42:07.731+08:00",
                _subs(ING_ID, ("INDIVIDUAL_TELECOM_3_FACTOR", "ING")),
            ),
        ),
        (
            "Individual verified by Alipay face scan",
            _individual(
                SUCCESS_ID,
                "SUCCESS",
                "2026-02-14T16:20:45.090+08:00",
                "2026-02-14T16:22:10.378+08:00",
                _subs(SUCCESS_ID, ("FACEAUTH_ZMXY", "SUCCESS")),
            ),
        ),
        (
            "Individual failed: bank card 4-factor mismatch",
            _individual(
                FAIL_ID,
                "FAIL",
                "2026-02-18T13:03:09.640+08:00",
                "2026-02-18T13:05:51.217+08:00",
                _subs(FAIL_ID, ("INDIVIDUAL_BANKCARD_4_FACTOR", "FAIL")),
                fail_reason="银行卡四要素比对不一致",
            ),
        ),
        (
            "Individual: Tencent face scan abandoned, then quick face scan succeeded",
            _individual(
                RETRIED_ID,
                "SUCCESS",
                "2026-02-21T08:15:33.480+08:00",
                "2026-02-21T08:31:02.006+08:00",
                _subs(
                    RETRIED_ID,
                    ("FACEAUTH_TECENT_CLOUD", "TERMINATED"),
                    ("FACEAUTH_ESIGN", "SUCCESS"),
                ),
            ),
        ),
        ("Organization verified by random-amount transfer, agent by face scan", _org_success()),
        ("Organization in progress using every sub-flow type and status", _every_type()),
        ("Organization failed, two agent flows (one failed)", _org_fail()),
        ("Oversized: 120 sub-flows, 30 related flows, 5,000-character fail reason", _oversized()),
        ("Unknown future values (PENDING_REVIEW, GOVERNMENT, FACEAUTH_FUTURE_X)", _future_values()),
        ("Nulls everywhere, relatedFlows missing", _nulls()),
        ("Hostile Slack markup in contextId and failReason", _hostile_text()),
        (
            "Moves on its own: INIT → face scan → SUCCESS (press Watch)",
            scripted_stages(SCRIPTED_SUCCESS_ID, succeeds=True)[0],
        ),
        (
            "Moves on its own: INIT → bank card check → FAIL (press Watch)",
            scripted_stages(SCRIPTED_FAIL_ID, succeeds=False)[0],
        ),
    ]


def scripted_stages(flow_id: str, *, succeeds: bool) -> tuple[Outline, Outline, Outline]:
    """A scripted flow's three stages: just started, a check running, ended."""
    kind = "FACEAUTH_ESIGN" if succeeds else "INDIVIDUAL_BANKCARD_4_FACTOR"
    start = _individual(
        flow_id, "INIT", "2026-12-01T10:00:00.000+08:00", "2026-12-01T10:00:00.000+08:00", []
    )
    running = _individual(
        flow_id,
        "ING",
        "2026-12-01T10:00:00.000+08:00",
        "2026-12-01T10:00:12.000+08:00",
        _subs(flow_id, (kind, "ING")),
    )
    end = _individual(
        flow_id,
        "SUCCESS" if succeeds else "FAIL",
        "2026-12-01T10:00:00.000+08:00",
        "2026-12-01T10:00:40.000+08:00",
        _subs(flow_id, (kind, "SUCCESS" if succeeds else "FAIL")),
        fail_reason=None if succeeds else "银行卡四要素比对不一致",
    )
    return start, running, end


SCRIPTED_FLOWS: dict[str, bool] = {SCRIPTED_SUCCESS_ID: True, SCRIPTED_FAIL_ID: False}


_OUTLINES: dict[str, Outline] = {}
_OUTLINE_SAMPLES: list[SampleFlow] = []
for _title, _outline in _outlines():
    _OUTLINES[_outline["flowId"]] = _outline
    _OUTLINE_SAMPLES.append(SampleFlow(_outline["flowId"], _title))

# --- business errors: HTTP 200 with a non-zero code -----------------------------------------

BUSINESS_ERRORS: dict[str, BusinessError] = {
    "2987390000030500001": FLOW_NOT_FOUND,
    "2987390000030500004": BusinessError(30500004, "认证流程不存在"),
    "2987390000030500003": BusinessError(30500003, "认证流程已过期"),
    "2987390000030503107": BusinessError(30503107, "账户余额不足"),
    "2987390000030500101": BusinessError(30500101, "参数错误"),
}
_BUSINESS_ERROR_TITLES = {
    "2987390000030500001": "Business error 30500001: flow not found (the outline page's code)",
    "2987390000030500004": "Business error 30500004: flow not found (the error table's code)",
    "2987390000030500003": "Business error 30500003: flow expired",
    "2987390000030503107": "Business error 30503107: insufficient balance",
    "2987390000030500101": "Business error 30500101: bad parameter",
}

# --- standing faults: these ids always misbehave ------------------------------------------

FAULT_FLOWS: dict[str, Fault] = {
    "2987395000000000001": Fault.TIMEOUT,
    "2987395000000000002": Fault.CONNECTION_RESET,
    "2987395000000000003": Fault.RESET_MID_BODY,
    "2987395000000000004": Fault.HTTP_500_HTML,
    "2987395000000000005": Fault.HTTP_502,
    "2987395000000000006": Fault.HTTP_503,
    "2987395000000000007": Fault.HTTP_504,
    "2987395000000000008": Fault.BROKEN_JSON,
    "2987395000000000009": Fault.WRONG_SHAPE,
    "2987395000000000010": Fault.MISSING_CODE,
    "2987395000000000011": Fault.RATE_LIMITED,
    "2987395000000000012": Fault.HUGE_FAIL_REASON,
    "2987395000000000013": Fault.gateway_401("INVALID_SIGNATURE"),
    "2987395000000000014": Fault.gateway_401("INVALID_TIMESTAMP"),
    "2987395000000000015": Fault.gateway_401("无效的应用"),
    "2987395000000000016": Fault.gateway_401("AUTHSTRATEGY_NOT_FOUND"),
    "2987395000000000017": Fault.gateway_401("缺少参数"),
    "2987395000000000018": Fault.gateway_401("TOKEN错误"),
    "2987395000000000019": Fault.IP_403,
}
_FAULT_TITLES = {
    "TIMEOUT": "Fault: never answers (timeout)",
    "CONNECTION_RESET": "Fault: connection reset, no response",
    "RESET_MID_BODY": "Fault: connection closed halfway through the body",
    "HTTP_500_HTML": "Fault: HTTP 500 with an HTML page",
    "HTTP_502": "Fault: HTTP 502 Bad Gateway (HTML)",
    "HTTP_503": "Fault: HTTP 503 Service Unavailable (HTML)",
    "HTTP_504": "Fault: HTTP 504 Gateway Timeout (HTML)",
    "BROKEN_JSON": "Fault: HTTP 200 with truncated JSON",
    "WRONG_SHAPE": "Fault: HTTP 200, `data` is a list",
    "MISSING_CODE": "Fault: HTTP 200 without `code`",
    "RATE_LIMITED": "Fault: HTTP 429 rate limited, Retry-After 1",
    "HUGE_FAIL_REASON": "Fault: outline with a 100,000-character fail reason",
    "GATEWAY_401": "Fault: gateway HTTP 401 {reason}",
    "IP_403": "Fault: gateway HTTP 403 IP白名单不匹配",
}

OUTLINE_SAMPLES: list[SampleFlow] = _OUTLINE_SAMPLES
BUSINESS_ERROR_SAMPLES: list[SampleFlow] = [
    SampleFlow(flow_id, title, SampleKind.BUSINESS_ERROR)
    for flow_id, title in _BUSINESS_ERROR_TITLES.items()
]
FAULT_SAMPLES: list[SampleFlow] = [
    SampleFlow(
        flow_id, _FAULT_TITLES[fault.kind.value].format(reason=fault.reason), SampleKind.FAULT
    )
    for flow_id, fault in FAULT_FLOWS.items()
]
#: Everything, in display order: outlines first, then business errors, then faults.
SAMPLE_FLOWS: list[SampleFlow] = OUTLINE_SAMPLES + BUSINESS_ERROR_SAMPLES + FAULT_SAMPLES


def catalogue_outline(flow_id: str) -> Outline | None:
    """A fresh copy of the built-in outline `data` for this id, or None."""
    outline = _OUTLINES.get(flow_id)
    return copy.deepcopy(outline) if outline is not None else None


def catalogue_outlines() -> dict[str, Outline]:
    """Fresh copies of every built-in outline, keyed by flow id."""
    return copy.deepcopy(_OUTLINES)


def business_error(flow_id: str) -> BusinessError | None:
    return BUSINESS_ERRORS.get(flow_id)


def fault_for(flow_id: str) -> Fault | None:
    """The standing fault of a catalogue fault id, or None."""
    return FAULT_FLOWS.get(flow_id)
