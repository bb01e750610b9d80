"""The bytes the simulator sends back: e签宝's JSON envelopes and the faults' broken answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from stand_ins.esign_simulator.catalogue import BusinessError, Outline
from stand_ins.esign_simulator.faults import Fault, FaultKind

JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"
HUGE_FAIL_REASON_CHARS = 100_000


class Delivery(Enum):
    FULL = "full"  # a normal HTTP answer
    DROP = "drop"  # close the connection without answering
    RESET = "reset"  # reset the connection (TCP RST) without answering
    HALF_BODY = "half_body"  # headers with the full Content-Length, half the body, then close


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = field(default=())
    delivery: Delivery = Delivery.FULL


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_answer(value: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, json_bytes(value), headers=headers)


def gateway_rejection(status: int, reason: str) -> Answer:
    # The gateway's own envelope: `success` instead of `data`.
    return json_answer({"success": False, "code": status, "message": reason}, status)


def not_found() -> Answer:
    return json_answer({"code": 404, "message": "not found"}, 404)


def outline_answer(outline: Outline) -> Answer:
    return json_answer({"code": 0, "message": "成功", "data": outline})


def business_error_answer(error: BusinessError) -> Answer:
    return json_answer({"code": error.code, "message": error.message, "data": None})


_HTML_ERRORS = {
    FaultKind.HTTP_500_HTML: (500, "Internal Server Error"),
    FaultKind.HTTP_502: (502, "Bad Gateway"),
    FaultKind.HTTP_503: (503, "Service Temporarily Unavailable"),
    FaultKind.HTTP_504: (504, "Gateway Time-out"),
}


def _html_page(status: int, title: str) -> bytes:
    # What a load balancer in front of an API typically sends: not JSON at all.
    return (
        f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {title}</h1></center>\r\n<hr><center>Tengine</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def fault_answer(fault: Fault, outline: Outline) -> Answer:
    """The answer a fault gives instead of the normal one; `outline` is what it would have been.

    TIMEOUT is not answered here: holding the connection is the server's job.
    """
    kind = fault.kind
    if kind in _HTML_ERRORS:
        status, title = _HTML_ERRORS[kind]
        return Answer(status, _html_page(status, title), content_type=HTML_TYPE)
    if kind is FaultKind.GATEWAY_401:
        return gateway_rejection(401, fault.reason)
    if kind is FaultKind.IP_403:
        return gateway_rejection(403, "IP白名单不匹配")
    if kind is FaultKind.RATE_LIMITED:
        # Message wording is the simulator's own; e签宝 documents only the 50 QPS default.
        return json_answer(
            {"success": False, "code": 429, "message": "请求过于频繁，超出应用QPS限制"},
            429,
            headers=(("Retry-After", "1"),),
        )
    if kind is FaultKind.BROKEN_JSON:
        whole = outline_answer(outline).body
        return Answer(200, whole[: len(whole) // 2])
    if kind is FaultKind.WRONG_SHAPE:
        return json_answer({"code": 0, "message": "成功", "data": [outline]})
    if kind is FaultKind.MISSING_CODE:
        return json_answer({"message": "成功", "data": outline})
    if kind is FaultKind.HUGE_FAIL_REASON:
        unit = "认证失败：银行卡四要素比对不一致 (bank card mismatch). "
        reason = (unit * (HUGE_FAIL_REASON_CHARS // len(unit) + 1))[:HUGE_FAIL_REASON_CHARS]
        return outline_answer({**outline, "flowStatus": "FAIL", "failReason": reason})
    if kind is FaultKind.CONNECTION_RESET:
        return Answer(0, delivery=Delivery.RESET)
    if kind is FaultKind.RESET_MID_BODY:
        return Answer(200, outline_answer(outline).body, delivery=Delivery.HALF_BODY)
    return Answer(0, delivery=Delivery.DROP)  # TIMEOUT, once the hold is over
